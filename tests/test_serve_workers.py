"""`newsrag serve --workers N`: several real uvicorn worker processes answer from one index on a real `chroma run`
server; an article uploaded to one worker reaches every worker; answers stream; SIGTERM stops them all. Without a Chroma
server, more than one worker is refused with the fix in the message."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from app.cli.main import main
from tests.chroma_server import CLI, chroma_server, cli_env, free_port, ingest_sample, needs_chroma, stop, wait_http

KERRY = "What did Kerry say about Assad?"
HARBOUR = "When will the Zanzibar harbour reopen?"
LATER = """Zanzibar harbour to reopen after storm repairs
Zanzibar's main harbour will reopen to passenger ferries in March, transport minister Amina Okafor said on Monday.
"The harbour will reopen in March once the quay walls are rebuilt," Ms Okafor told reporters in Stone Town.
Engineers have been repairing the storm-damaged Zanzibar harbour since January.
"""


@pytest.mark.parametrize("workers", ["2", "0"])
def test_workers_without_a_chroma_server_is_refused(workers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for key in [k for k in os.environ if k.startswith("NEWSRAG_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    assert main(["serve", "--workers", workers, "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    if workers == "0":
        assert "--workers must be 1 or more" in err
    else:
        assert "chroma run --path" in err and "NEWSRAG_CHROMA_URL=http://" in err and "--workers 1" in err
        assert not (tmp_path / "data").exists()  # the parent of N workers never builds an engine of its own


def ask(base: str, question: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/ask", data=json.dumps({"question": question}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:  # a new connection each time: the kernel picks a worker
        return int(r.headers["X-Newsrag-Worker"]), json.loads(r.read())


def ask_until_two_workers(base: str, question: str, quote_has: str, most: int = 120) -> dict[int, dict]:
    """Ask 8 at a time until two worker processes have answered; every answer must cite `quote_has`. Returns an
    answer of each worker, by its pid."""
    pids: dict[int, dict] = {}
    with ThreadPoolExecutor(8) as pool:
        for _ in range(0, most, 16):
            for pid, answer in pool.map(lambda _: ask(base, question), range(16)):
                assert not answer["refused"] and answer["citations"], (pid, answer)
                assert quote_has in answer["citations"][0]["quote"], (pid, answer["citations"][0])
                pids[pid] = answer
            if len(pids) >= 2:
                break
    return pids


def parent_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))


@pytest.mark.slow
@needs_chroma
def test_two_worker_processes_serve_one_index(tmp_path: Path) -> None:
    with chroma_server(tmp_path / "server") as chroma_url:
        env = cli_env(tmp_path / "data", chroma_url, NEWSRAG_RATE_LIMIT_PER_MINUTE="10000")
        ingest_sample(env, tmp_path)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (tmp_path / "serve.log").open("w+")
        serve = subprocess.Popen([*CLI, "serve", "--workers", "2", "--port", str(port)], env=env, cwd=tmp_path,
                                 stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"{base}/healthz", serve, timeout=90)
            with urllib.request.urlopen(base + "/", timeout=10) as r:
                assert "several API worker processes" in r.read().decode()  # no Gradio UI when workers share a port

            pids = set(ask_until_two_workers(base, KERRY, "Kerry"))
            assert len(pids) == 2 and serve.pid not in pids
            assert all(parent_of(pid) == serve.pid for pid in pids)  # the workers of this `serve`

            stream = httpx.post(f"{base}/api/ask", json={"question": KERRY}, timeout=60,
                                headers={"Accept": "text/event-stream"})
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "event: done" in stream.text and "Kerry" in stream.text.split("event: done")[1]

            # one worker ingests an upload; every worker must then see the new manifest generation, vectors and
            # keyword index (the other worker still holds the old generation in memory)
            upload = httpx.post(f"{base}/api/articles", files={"files": ("later.txt", LATER.encode())}, timeout=120)
            assert upload.status_code == 200 and upload.json()["added"] == ["later"], upload.text
            answers = ask_until_two_workers(base, HARBOUR, "harbour will reopen")
            assert set(answers) == pids
            for answer in answers.values():  # each worker's keyword index has the new chunks
                assert any(p["article_id"] == "later" and p["keyword"] for p in answer["passages"]), answer

            started = time.monotonic()
            assert stop(serve) == 0
            assert time.monotonic() - started < 20
            assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]  # no worker left behind
        finally:
            stop(serve)
            log.seek(0)
            print(log.read())
            log.close()
