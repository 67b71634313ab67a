"""Scale-out: a real `chroma run` server on loopback holds the vectors; one process ingests through it and two
separate `newsrag ask` processes answer from it at the same time."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from index.store import server_address
from tests.chroma_server import CLI, chroma_server, cli_env, ingest_sample, needs_chroma


def test_server_address_parsing() -> None:
    assert server_address("http://127.0.0.1:8123") == ("127.0.0.1", 8123, False)
    assert server_address("https://chroma.example.com") == ("chroma.example.com", 443, True)
    assert server_address("localhost") == ("localhost", 8000, False)
    with pytest.raises(ValueError, match="NEWSRAG_CHROMA_URL"):
        server_address("ftp://x")


@pytest.mark.slow
@needs_chroma
def test_two_ask_processes_share_one_chroma_server(tmp_path: Path) -> None:
    with chroma_server(tmp_path / "server") as url:
        env = cli_env(tmp_path / "data", url)
        ingest_sample(env, tmp_path)
        assert not (tmp_path / "data" / "chroma").exists()  # the vectors went to the server, not an embedded store
        import chromadb

        from index.store import COLLECTION

        host, port, _ = server_address(url)
        vectors = chromadb.HttpClient(host=host, port=port).get_collection(COLLECTION).count()
        assert vectors > 0

        question = "What did Kerry say about Assad?"
        askers = [subprocess.Popen([*CLI, "ask", "--json", question], env=env, cwd=tmp_path, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        for asker in askers:
            out, err = asker.communicate(timeout=120)
            assert asker.returncode == 0, err
            answer = json.loads(out)
            assert not answer["refused"] and answer["citations"], answer
            assert "Kerry" in answer["citations"][0]["quote"]
