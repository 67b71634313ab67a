"""A real local OpenAI-compatible model server (llama.cpp's own server from the prebuilt `xllamacpp` wheel, run by
the product's launcher app/answering/local/serve.py, + SmolLM2-135M) for `llm` tests.

Use it as a pytest plugin: `pytest_plugins = ["tests.local_llm"]` provides the session fixture `local_llm`.
Install the runtime and the model first with `bash setup.sh --dev` (xllamacpp, then scripts/install-local-llm.sh).
Without them the fixture skips, or fails when CI=true. The 135M model checks the protocol, streaming and timeouts,
not answer quality. NEWSRAG_MODEL_CACHE overrides the model directory; NEWSRAG_LLM_THREADS the server's threads
(default 1: on a busy 2-core machine, 2 threads decoded 2-5x slower than 1).
(PYTEST_DONT_REWRITE: test modules may import this before pytest loads it as a plugin; no asserts here.)
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests.chroma_server import stop

MODEL_ALIAS = "smollm2"
STARTUP_TIMEOUT_S = 60.0
INSTALL_HINT = "run bash setup.sh --dev (installs xllamacpp and the SmolLM2 GGUF)"


def model_path() -> Path:
    cache = os.environ.get("NEWSRAG_MODEL_CACHE") or str(Path.home() / ".cache" / "newsrag" / "models")
    return Path(cache) / "smollm2.gguf"


@dataclass(frozen=True)
class LocalLLM:
    base_url: str  # "http://127.0.0.1:PORT/v1"
    model: str  # the alias to pass as `model=`
    process: subprocess.Popen[bytes]
    log_path: Path  # the server's stdout+stderr


def _unavailable(reason: str) -> NoReturn:
    message = f"local LLM unavailable: {reason}; {INSTALL_HINT}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the local model server exited with {proc.returncode}:\n{_tail(log_path)}", pytrace=False)
        try:
            with opener.open(f"{base_url}/models", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the local model server was not ready after {STARTUP_TIMEOUT_S:.0f} s:\n{_tail(log_path)}",
                pytrace=False)


def require_model() -> Path:
    """The SmolLM2 GGUF, after checking that xllamacpp can serve it (else skip, or fail when CI=true)."""
    model = model_path()
    if importlib.util.find_spec("xllamacpp") is None:
        _unavailable(f"the xllamacpp package is not installed for {sys.executable}")
    if not model.is_file():
        _unavailable(f"no model file at {model}")
    return model


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLM]:
    """Start `python -m app.answering.local.serve` on a free loopback port; stop it after the session."""
    model = require_model()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("local_llm") / "server.log"
    threads = os.environ.get("NEWSRAG_LLM_THREADS", "1")
    cmd = [sys.executable, "-m", "app.answering.local.serve", "--model", str(model), "--alias", MODEL_ALIAS,
           "--port", str(port), "--ctx", "4096", "--threads", threads]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(proc, base_url, log_path)
        yield LocalLLM(base_url=base_url, model=MODEL_ALIAS, process=proc, log_path=log_path)
    finally:
        stop(proc, timeout=10)
