"""A real `chroma run` server on a free loopback port, and the environment for `python -m app.cli` subprocesses
that use it (this checkout's code, the hash embedder, a data dir of their own, nothing from the caller's NEWSRAG_*)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE_DIR
from tests.live_server import bound_socket

CHROMA = Path(sys.executable).with_name("chroma")
CLI = [sys.executable, "-m", "app.cli"]
needs_chroma = pytest.mark.skipif(not CHROMA.exists(), reason="the chromadb package's `chroma` CLI is not installed")


def free_port() -> int:
    with bound_socket() as s:
        return int(s.getsockname()[1])


def cli_env(data_dir: Path, chroma_url: str = "", **extra: str) -> dict[str, str]:
    """PYTHONPATH puts this checkout first: the venv's editable install may point at another one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(ANONYMIZED_TELEMETRY="False", NEWSRAG_DATA_DIR=str(data_dir), NEWSRAG_EMBEDDER="hash",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep), **extra)
    if chroma_url:
        env["NEWSRAG_CHROMA_URL"] = chroma_url
    return env


def ingest_sample(env: dict[str, str], cwd: Path) -> None:
    ingest = subprocess.run([*CLI, "ingest", str(SAMPLE_DIR)], env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=120)
    assert ingest.returncode == 0, ingest.stderr


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until `url` answers (any status), failing early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args!r} exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up in {timeout:.0f} s")


def stop(process: subprocess.Popen, timeout: float = 30.0) -> int:
    """SIGTERM, then SIGKILL if it does not exit in time; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=timeout)


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """`chroma run --path PATH` on a free loopback port; yields its URL and stops it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_http(f"{url}/api/v2/heartbeat", server)
        yield url
    finally:
        stop(server)
