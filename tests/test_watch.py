"""`newsrag ingest URL` and `newsrag watch`: polls are incremental, and Ctrl-C stops watching cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.main import main
from app.cli.watch import parse_every
from app.errors import NewsragError
from index.formats.feed import item_id
from tests.conftest import ROOT
from tests.feed_server import FeedServer
from tests.test_feeds import news_feed


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    news_feed(srv)
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    monkeypatch.chdir(tmp_path)


def test_intervals() -> None:
    assert [parse_every(t) for t in ("15m", "30s", "2h", "1d", "90", "1.5m")] == [900, 30, 7200, 86400, 90, 90]
    for bad in ("", "0s", "soon", "5 minutes", "-1m"):
        with pytest.raises(NewsragError, match="not an interval"):
            parse_every(bad)


def test_ingest_takes_urls_beside_paths(server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "note.txt").write_text("Local note\n\nThe library opens at nine.\n")
    assert main(["ingest", str(tmp_path / "note.txt"), server.url("/feed.xml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("added 1,") and "added 2," in out
    assert main(["ingest", server.url("/nothing.xml")]) == 1
    assert "HTTP 404" in capsys.readouterr().out


def test_watch_polls_incrementally(server: FeedServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", server.url("/feed.xml"), "--every", "1s", "--polls", "2"]) == 0
    first, second = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert "added 2," in first and "added 0, updated 0" in second
    feed_gets = [h for p, h in server.requests if p == "/feed.xml"]
    assert len(feed_gets) == 2 and "If-None-Match" in feed_gets[1]
    assert main(["watch", "feed.xml"]) == 2  # a path is not a feed URL: one line, no traceback
    assert "takes feed URLs" in capsys.readouterr().err


def test_ctrl_c_stops_watching_cleanly(server: FeedServer, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "watch", server.url("/feed.xml"), "--every", "1s"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while server.hits("/feed.xml") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.hits("/feed.xml") >= 2, "watch polled twice"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped watching" in err and "Traceback" not in err
    listed = subprocess.run([sys.executable, "-m", "app.cli", "list", "--json"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    ids = {json.loads(line)["id"] for line in listed.stdout.splitlines()}
    assert {item_id("127.0.0.1", "urn:1"), item_id("127.0.0.1", "urn:2")} <= ids
    verify = subprocess.run([sys.executable, "-m", "app.cli", "verify"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout


def test_a_busy_index_skips_a_poll_instead_of_ending_the_watch(server: FeedServer, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from index.lock import write_lock

    with write_lock(tmp_path / "data"):
        assert main(["watch", server.url("/feed.xml"), "--every", "1s", "--polls", "1"]) == 0
    assert "this poll failed" in capsys.readouterr().out
