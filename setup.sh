#!/usr/bin/env bash
# Set up newsrag in ./.venv. Idempotent: re-running skips what is already installed.
#   bash setup.sh         the app (CPU torch first, then the project)
#   bash setup.sh --dev   also the test tools: pytest, ruff, mypy, Playwright + Debian chromium,
#                         and xllamacpp with a 135M model for the local-LLM plumbing tests
#   bash setup.sh --llm   also the local answer model for `--answerer local` (xllamacpp + a 1.1 GB
#                         Qwen2.5-Coder-1.5B-Instruct, verified by digest); indexes the sample article
#                         if nothing is indexed yet. The flags combine: bash setup.sh --dev --llm
set -euo pipefail
cd "$(dirname "$0")"
dev=0
llm=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    --llm) llm=1 ;;
    *) echo "usage: bash setup.sh [--dev] [--llm]" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "newsrag needs Python >= 3.11 (set PYTHON=...)" >&2; exit 1; }

start=$(date +%s)
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.newsrag-setup-$dev$llm"
want=$(cat pyproject.toml setup.sh scripts/install-local-llm.sh 2>/dev/null | sha256sum | cut -c1-16)
extras=""
[ $dev = 1 ] && extras="dev"
[ $llm = 1 ] && extras="${extras:+$extras,}llm"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setting up .venv (first time: ~2 minutes) ..."
  .venv/bin/python -m pip install -q --upgrade pip
  # CPU torch first: installing sentence-transformers first would pull a multi-GB CUDA build.
  .venv/bin/pip install -q torch==2.13.0
  .venv/bin/pip install -q -e ".${extras:+[$extras]}"
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
if [ $llm = 1 ]; then
  bash scripts/install-local-llm.sh .venv --answer-model   # quick when the verified model is in place
  if [ -z "$(.venv/bin/newsrag list --json 2>/dev/null | head -1)" ]; then
    echo "nothing indexed yet: indexing the bundled sample article so that you can ask at once ..."
    .venv/bin/newsrag ingest examples/articles
  fi
fi
echo "setup done in $(( $(date +%s) - start )) s"
