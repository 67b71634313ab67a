"""The local model server's life (start, reuse by a later command, stop, idle exit) and a server killed mid-answer,
with the real runtime (xllamacpp) serving SmolLM2-135M: what is tested is the plumbing, not the answers.

The 1.5B answer model is not installed in CI by default; its own test (test_local_model_answers_with_citations)
skips with a message when it is absent (`bash setup.sh --llm` installs it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.answering.local.answerer import LocalAnswerer, model_path
from app.answering.local.server import LocalServer, health
from app.engine import Engine
from app.settings import Settings
from app.types import Answer, DoneEvent, NoticeEvent, TokenEvent
from tests.conftest import ROOT
from tests.local_llm import require_model

pytestmark = [pytest.mark.slow, pytest.mark.llm]
KERRY = "What did Kerry say about Assad?"


def cli(data_dir: Path, model: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(data_dir), "NEWSRAG_LOCAL_MODEL": str(model),
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    s = LocalServer(tmp_path / "data", require_model(), threads=1, idle_minutes=5)
    yield s
    s.stop()


def test_start_reuse_by_a_later_command_and_stop(server: LocalServer) -> None:
    info = server.ensure()
    assert health(info.port) and server.state.exists()
    again = LocalServer(server.data_dir, server.model, threads=1, idle_minutes=5).ensure()
    assert again == info  # reused, not a second server
    status = cli(server.data_dir, server.model, "llm-server", "status")
    assert status.returncode == 0 and f"127.0.0.1:{info.port}" in status.stdout and str(info.pid) in status.stdout
    stop = cli(server.data_dir, server.model, "llm-server", "stop")
    assert stop.returncode == 0 and f"pid {info.pid}" in stop.stdout
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and port_open(info.port):
        time.sleep(0.1)
    assert not port_open(info.port) and not server.state.exists() and server.running() is None
    assert "no local model server" in cli(server.data_dir, server.model, "llm-server", "status").stdout


def test_other_settings_replace_the_server(server: LocalServer) -> None:
    first = server.ensure()
    other = LocalServer(server.data_dir, server.model, threads=2, idle_minutes=5)
    second = other.ensure()
    assert second.pid != first.pid and second.threads == 2 and not port_open(first.port)
    other.stop()


def test_an_idle_server_stops_itself(tmp_path: Path) -> None:
    s = LocalServer(tmp_path / "data", require_model(), idle_minutes=0.05)  # 3 s
    info = s.ensure()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and port_open(info.port):
        time.sleep(0.5)
    assert not port_open(info.port) and not s.state.exists()


def local_of(engine: Engine) -> LocalAnswerer:
    answerer = engine.answerer("local")
    assert isinstance(answerer, LocalAnswerer)
    return answerer


@pytest.fixture
def local_engine(real_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """The sample index with `local` served by SmolLM2 (its server's state in a data dir of its own)."""
    e = real_engine
    settings: Settings = e.settings.model_copy(update={
        "answerer": "local", "local_model": require_model(), "llm_max_tokens": 400, "top_k": 3,
        "data_dir": tmp_path / "data"})
    engine = Engine(settings, e.embedder, e.manifest, e.store, e.keyword, e.indexer, e.retriever)
    yield engine
    local_of(engine).server.stop()


def test_local_answer_streams_through_the_llm_chain(local_engine: Engine) -> None:
    events = list(local_engine.ask_stream(KERRY))
    answer = events[-1].answer if isinstance(events[-1], DoneEvent) else None
    assert answer is not None and answer.answerer == "local", answer and answer.notices  # no fallback
    assert sum(isinstance(e, TokenEvent) for e in events) > 1
    assert answer.sentences and "first_token" in answer.timings_ms
    for c in answer.citations:  # whatever survived verification quotes the article exactly
        assert local_engine.article(c.article_id).text[c.start:c.end] == c.quote


def test_server_killed_mid_answer_falls_back_then_restarts(local_engine: Engine) -> None:
    server = local_of(local_engine).server
    pid = server.ensure().pid
    events, killed = [], False
    for event in local_engine.ask_stream("Write a long report on everything the passages say about Syria."):
        events.append(event)
        if isinstance(event, TokenEvent) and not killed:
            os.kill(pid, signal.SIGKILL)  # mid-answer: the model has begun to write
            killed = True
    notices = [e for e in events if isinstance(e, NoticeEvent)]
    assert killed and isinstance(events[-1], DoneEvent)
    answer: Answer = events[-1].answer
    assert notices and notices[0].reset and notices[0].text.startswith("LLM unavailable")
    assert answer.answerer == "extractive" and any("LLM unavailable" in n for n in answer.notices)
    after = local_engine.ask(KERRY)  # the next question starts a new server
    restarted = server.running()
    assert after.answerer == "local" and restarted is not None and restarted.pid != pid


def test_local_model_answers_with_citations(real_engine: Engine, tmp_path: Path) -> None:
    """The 1.5B answer model, when installed (`bash setup.sh --llm`; not in CI by default): a generated, cited
    answer to the README's question whose citations quote the article exactly."""
    path = model_path(real_engine.settings)
    if not path.is_file():
        pytest.skip(f"the local answer model is not installed ({path}): bash setup.sh --llm")
    e = real_engine
    settings = e.settings.model_copy(update={"answerer": "local", "data_dir": tmp_path / "data"})
    engine = Engine(settings, e.embedder, e.manifest, e.store, e.keyword, e.indexer, e.retriever)
    try:
        answer = engine.ask(KERRY)
    finally:
        local_of(engine).server.stop()
    print(f"\n{answer.text}\n{answer.timings_ms}")
    assert answer.answerer == "local" and not answer.refused, answer.notices
    assert answer.citations and "Assad" in answer.text
    first = answer.sentences[0]
    assert first.supported and first.citations
    for c in answer.citations:
        assert engine.article(c.article_id).text[c.start:c.end] == c.quote
