"""A real local OpenAI-compatible model server (llama_cpp.server + SmolLM2-135M) for `llm` tests.

Use it as a pytest plugin: `pytest_plugins = ["tests.local_llm"]` provides the session fixture `local_llm`.
Install the server and the model first with `scripts/install-local-llm.sh`. Without them the fixture
skips, or fails when CI=true. The 135M model checks the protocol, streaming and timeouts, not answer quality.
NEWSRAG_MODEL_CACHE overrides the model directory; NEWSRAG_LLM_THREADS the server's --n_threads (default 2:
on a busy 2-core machine, 2 threads can slow decoding ~50x; 1 thread degrades far less).
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
INSTALL_HINT = "run scripts/install-local-llm.sh (installs llama-cpp-python[server] and the SmolLM2 GGUF)"


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
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{_tail(log_path)}", pytrace=False)
        try:
            with opener.open(f"{base_url}/models", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"llama_cpp.server not ready after {STARTUP_TIMEOUT_S:.0f} s:\n{_tail(log_path)}", pytrace=False)


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLM]:
    """Start `python -m llama_cpp.server` on a free loopback port; stop it after the session."""
    model = model_path()
    if importlib.util.find_spec("llama_cpp") is None:
        _unavailable(f"the llama_cpp package is not installed for {sys.executable}")
    if not model.is_file():
        _unavailable(f"no model file at {model}")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("local_llm") / "server.log"
    threads = os.environ.get("NEWSRAG_LLM_THREADS", "2")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL_ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", threads]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_ready(proc, base_url, log_path)
        yield LocalLLM(base_url=base_url, model=MODEL_ALIAS, process=proc, log_path=log_path)
    finally:
        stop(proc, timeout=10)
