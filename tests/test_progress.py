"""Every long ingest tells a person how far it is, also when its output is not a terminal (a log, CI, a pipe): the
CLI, eval's corpus ingest, the web upload (the UI's bar and the server's log) and the API upload."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.engine import Engine, build_engine
from app.progress import ProgressLog, duration
from index.types import IngestProgress
from tests.conftest import ROOT, SAMPLE_DIR, make_settings
from tests.gradio_api import request_from

LINE = re.compile(r"^(?P<label>[\w :]+): (?P<n>[\d,]+)/(?P<total>[\d,]+) articles \(\d+%\), [\d,]+ chunks embedded; "
                  r"[\d.]+ articles/s, [\d.]+ chunks/s; ETA \w+$")


def _feed(folder: Path, n: int, name: str = "feed.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps({"id": f"s{i}", "title": f"Story {i}",
                                        "text": f"The council met on day {i} and voted {i % 7} times."}) + "\n"
                            for i in range(n)), encoding="utf-8")
    return path


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_n_articles_or_seconds_with_rate_and_eta() -> None:
    clock, out = Clock(), io.StringIO()  # StringIO is not a terminal
    log = ProgressLog("ingest", out, every_s=10, every_articles=100, clock=clock)
    with log:
        for n in range(1, 151):
            clock.now += 0.01  # 100 articles/s
            log(IngestProgress(n, 1000, n * 3, n))
        for chunks in range(450, 460):  # one long article: no new article for 20 s, but chunks are embedded
            clock.now += 2
            log(IngestProgress(150, 1000, chunks, 150))
    lines = out.getvalue().splitlines()
    assert [LINE.match(x) is not None for x in lines] == [True, True, True, False], lines
    assert lines[0].startswith("ingest: 100/1,000 articles (10%), 300 chunks embedded; 100.0 articles/s, ")
    assert lines[0].endswith("ETA 9s")  # 900 left at 100/s
    assert lines[1].startswith("ingest: 150/1,000") and lines[2].startswith("ingest: 150/1,000")  # by time
    assert lines[3].startswith("ingest: done, 150 articles read, 150 written, 459 chunks embedded in 22s")
    assert duration(42) == "42s" and duration(576) == "9m36s" and duration(3725) == "1h02m"


def test_nothing_is_printed_when_disabled_and_a_terminal_gets_a_bar() -> None:
    out = io.StringIO()
    with ProgressLog("eval: ingest", out, enabled=False) as log:
        log(IngestProgress(1, 1, 1, 1))
    assert out.getvalue() == ""
    with ProgressLog("ingest", out, terminal=True) as log:
        for n in range(1, 4):
            log(IngestProgress(n, 3, n, n))
    assert "3/3" in out.getvalue() and "article" in out.getvalue()  # tqdm's own bar, with its rate and ETA


def test_cli_ingest_reports_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    feed = _feed(tmp_path / "in", 600)
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(tmp_path / "data"), "NEWSRAG_EMBEDDER": "hash"}
    done = subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(feed)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [x for x in done.stderr.splitlines() if x.startswith("ingest: ")]
    found = [m for m in map(LINE.match, lines[:-1]) if m]
    assert len(found) == len(lines) - 1 >= 2 and all(m["total"] == "600" for m in found), lines
    counts = [0] + [int(m["n"].replace(",", "")) for m in found] + [600]
    assert all(0 < b - a <= 250 for a, b in itertools.pairwise(counts)), counts  # at least every 250
    assert lines[-1].startswith("ingest: done, 600 articles read, 600 written")
    assert done.stdout.startswith("added 600")


def test_eval_corpus_ingest_reports_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from eval.dataset import open_corpus

    feed = _feed(tmp_path / "corpus", 300)
    settings = make_settings(tmp_path / "unused")
    _engine, info = open_corpus(settings, [feed], data_dir=tmp_path / "eval-data")
    assert info["articles"] == 300 and not info["cached"]
    err = capsys.readouterr().err
    assert any(LINE.match(x) and x.startswith("eval: ingest: ") for x in err.splitlines()), err
    assert "eval: ingest: done, 300 articles read" in err
    open_corpus(settings, [feed], data_dir=tmp_path / "eval-data-quiet", quiet=True)
    assert "eval: ingest" not in capsys.readouterr().err


def test_web_upload_shows_rate_and_eta_and_logs_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.quality.feedback import FeedbackStore
    from app.web.ui.callbacks import UIActions

    engine = build_engine(make_settings(tmp_path / "data"))
    act = UIActions(engine, FeedbackStore(tmp_path / "feedback.sqlite"))
    shown: list[tuple[Any, dict[str, Any]]] = []

    def bar(value: Any, **kwargs: Any) -> None:  # what Gradio's progress bar would be given
        shown.append((value, kwargs))

    summary, *_ = act.ingest([str(_feed(tmp_path / "upload", 300))], request_from(), progress=bar)  # type: ignore
    assert summary.startswith("added 300")
    described = [kw["desc"] for value, kw in shown if isinstance(value, tuple)]
    assert described and all("articles/s" in d and "ETA" in d for d in described)
    assert shown[-1][0] == (300, 300)
    _logged(capsys.readouterr().err)


def test_api_upload_logs_progress(engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_api import client

    body = _feed(tmp_path / "api", 300).read_bytes()
    r = client(engine).post("/api/articles", files=[("files", ("feed.jsonl", body))])
    assert r.status_code == 200 and len(r.json()["added"]) == 300
    _logged(capsys.readouterr().err)


def _logged(err: str) -> None:
    """A server log: at least one progress line (300 articles: by 250, or sooner by time), then the last one."""
    assert any(LINE.match(x) and x.startswith("upload: ") for x in err.splitlines()), err
    assert "upload: done, 300 articles read, 300 written" in err


def test_eval_json_still_reports_the_corpus_ingest_on_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.main import main

    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    dataset = ROOT / "eval" / "datasets" / "sample.jsonl"
    assert main(["eval", "--dataset", str(dataset), "--corpus", str(SAMPLE_DIR), "--limit", "2",
                 "--data-dir", str(tmp_path / "eval-data"), "--out", str(tmp_path / "out"), "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out.strip().splitlines()[-1])["questions"] == 2  # stdout stays one JSON object
    assert "eval: ingest: done, 1 articles read" in err, err
