"""Scale-out: a real `chroma run` server on loopback holds the vectors; one process ingests through it and two
separate `newsrag ask` processes answer from it at the same time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from index.store import server_address
from tests.conftest import SAMPLE_DIR

CHROMA = Path(sys.executable).with_name("chroma")


def test_server_address_parsing() -> None:
    assert server_address("http://127.0.0.1:8123") == ("127.0.0.1", 8123, False)
    assert server_address("https://chroma.example.com") == ("chroma.example.com", 443, True)
    assert server_address("localhost") == ("localhost", 8000, False)
    with pytest.raises(ValueError, match="NEWSRAG_CHROMA_URL"):
        server_address("ftp://x")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "chroma run exited"
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("chroma run did not come up")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMA.exists(), reason="the chromadb package's `chroma` CLI is not installed")
def test_two_ask_processes_share_one_chroma_server(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(ANONYMIZED_TELEMETRY="False", NEWSRAG_CHROMA_URL=url, NEWSRAG_DATA_DIR=str(tmp_path / "data"),
               NEWSRAG_EMBEDDER="hash")
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_up(url, server)
        cli = [sys.executable, "-m", "app.cli"]
        ingest = subprocess.run([*cli, "ingest", str(SAMPLE_DIR)], env=env, cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert ingest.returncode == 0, ingest.stderr
        assert not (tmp_path / "data" / "chroma").exists()  # the vectors went to the server, not an embedded store
        import chromadb

        from index.store import COLLECTION

        vectors = chromadb.HttpClient(host="127.0.0.1", port=port).get_collection(COLLECTION).count()
        assert vectors > 0

        question = "What did Kerry say about Assad?"
        askers = [subprocess.Popen([*cli, "ask", "--json", question], env=env, cwd=tmp_path, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        for asker in askers:
            out, err = asker.communicate(timeout=120)
            assert asker.returncode == 0, err
            answer = json.loads(out)
            assert not answer["refused"] and answer["citations"], answer
            assert "Kerry" in answer["citations"][0]["quote"]
    finally:
        server.terminate()
        server.wait(timeout=30)
