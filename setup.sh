#!/usr/bin/env bash
# Set up newsrag in ./.venv. Idempotent: re-running skips what is already installed.
#   bash setup.sh         the app (CPU torch first, then the project)
#   bash setup.sh --dev   also the test tools: pytest, ruff, mypy, Playwright + Debian chromium,
#                         and llama-cpp-python with a 135M model for the local-LLM test
set -euo pipefail
cd "$(dirname "$0")"
dev=0
[ "${1:-}" = "--dev" ] && dev=1
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "newsrag needs Python >= 3.11 (set PYTHON=...)" >&2; exit 1; }

start=$(date +%s)
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.newsrag-setup-$dev"
want=$(cat pyproject.toml setup.sh scripts/install-local-llm.sh 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setting up .venv (first time: ~2 minutes) ..."
  .venv/bin/python -m pip install -q --upgrade pip
  # CPU torch first: installing sentence-transformers first would pull a multi-GB CUDA build.
  .venv/bin/pip install -q torch==2.13.0
  if [ $dev = 1 ]; then .venv/bin/pip install -q -e '.[dev]'; else .venv/bin/pip install -q -e .; fi
  if [ $dev = 1 ]; then
    if ! command -v chromium >/dev/null 2>&1; then
      echo "installing Debian chromium for the browser tests ..."
      if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
      $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
    bash scripts/install-local-llm.sh .venv
  fi
  echo "$want" > "$stamp"
fi
echo "setup done in $(( $(date +%s) - start )) s"
