"""Time: every answer is "as of" a date; a question's dates become a hard window or a soft preference the Answer
reports; filters are applied inside the searches, so k passages still come back."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.answering.timeframe import parse, scope
from app.cli.main import main
from app.engine import Engine, build_engine
from app.render import render
from app.web.api import create_app
from tests.conftest import make_settings

APRIL = date(2026, 4, 10)


@pytest.mark.parametrize(("question", "start", "end", "soft"), [
    ("Who won the vote this week?", "2026-04-04", "2026-04-10", True),
    ("What did the council decide last week?", "2026-03-28", "2026-04-03", True),
    ("Which company recently launched a toy?", "2026-03-28", "2026-04-10", True),
    ("What happened last month?", "2026-03-01", "2026-03-31", True),
    ("Most popular baby name last year?", "2025-01-01", "2025-12-31", True),  # reported this year: soft
    ("What happened in March?", "2026-03-01", "2026-03-31", False),
    ("What did the Fed do in May?", "2025-05-01", "2025-05-31", False),  # the last May before as_of
    ("What did the Fed do in March 2025?", "2025-03-01", "2025-03-31", False),
    ("How have prices moved since 2024?", "2024-01-01", None, False),
    ("Storms before 2020?", None, "2019-12-31", False),
    ("He set the record in 1980. How many golds?", "1980-01-01", "1980-12-31", True),  # history, not publication
])
def test_question_dates(question: str, start: str | None, end: str | None, soft: bool) -> None:
    frame = parse(question, APRIL)
    assert frame is not None
    assert (frame.start and frame.start.isoformat(), frame.end and frame.end.isoformat(), frame.soft) == (
        start, end, soft)


@pytest.mark.parametrize("question", ["What is New York doing about rent?", "Who may run for mayor?",
                                      "He won in 1932 and in 1920; which sport?"])
def test_no_time_frame(question: str) -> None:
    assert parse(question, APRIL) is None


def test_an_empty_hard_window_becomes_a_preference_and_explicit_filters_win() -> None:
    s = scope("What happened in March?", APRIL, None, lambda start, end: 0)
    assert s.frame and s.frame.soft and s.filters["prefer_from"] == "2026-03-01" and "date_from" not in s.filters
    assert s.notice and s.notice.startswith("No articles are dated in march")
    s = scope("What happened in March?", APRIL, {"date_from": "2026-01-01"}, lambda start, end: 5)
    assert s.filters == {"date_from": "2026-01-01", "as_of": "2026-04-10"} and s.notice
    assert s.notice.startswith("Searching articles from 2026-01-01")


def dated_corpus(tmp_path: Path) -> Path:
    """120 strong storm stories in January, three weak ones in March, two undated, one in May (after as_of).

    Six January stories (jan-0..5) are about the storm's delay in so many words: both rankings put them first by a
    margin, so with no date preference they fill the six slots whatever order Chroma's HNSW gives the 114 others,
    whose vectors tie (their texts differ only in a number)."""
    rows = [{"id": f"jan-{i}", "title": f"Storm {i} floods the coast", "date": f"2026-01-{1 + i % 28:02d}",
             "source": "big.example",
             "text": f"Storm delay {i}: the storm delay closed the coast road." if i < 6 else
             f"The storm number {i} flooded the coast. Storm surge and storm winds closed roads; the storm left {i} "
             "homes without power."}
            for i in range(120)]
    rows += [{"id": f"mar-{i}", "title": f"Council budget {i}", "date": f"2026-03-{10 + i}", "source": "small.example",
              "text": f"The council passed budget {i}. A storm delayed the vote by a day."} for i in range(3)]
    rows += [{"id": "undated", "title": "Storm history", "text": "Storms have shaped this coast for centuries."},
             {"id": "may", "title": "Storm season", "date": "2026-05-02", "source": "big.example",
              "text": "The storm season began early with a storm on the coast."}]
    path = tmp_path / "dated.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    tmp = tmp_path_factory.mktemp("time")
    engine = build_engine(make_settings(tmp / "data"))
    assert engine.ingest([dated_corpus(tmp)]).ok
    return engine


def test_a_hard_window_still_returns_k_passages(dated: Engine) -> None:
    answer = dated.ask("What did the storm do in March?", k=3, as_of=APRIL)
    assert [p.date[:7] for p in answer.passages if p.date] == ["2026-03"] * 3
    assert answer.time_window and not answer.time_window.soft
    assert answer.notices[0] == "Searching articles from 2026-03-01 to 2026-03-31 (in march)"
    direct = dated.retriever.retrieve("storm", 3, {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert len(direct) == 3 and all(p.article_id.startswith("mar-") for p in direct)


def test_answers_are_as_of_a_date(dated: Engine) -> None:
    answer = dated.ask("What did the storm do?", k=8, as_of=date(2026, 2, 1))
    assert answer.as_of == "2026-02-01" and answer.time_window is None
    assert all(p.date is None or p.date <= "2026-02-01" for p in answer.passages)
    assert "Sources: (as of 2026-02-01)" in render(answer)
    assert dated.ask("When did the storm season begin?").as_of == "2026-05-02"  # default: the newest article's day


def test_this_week_prefers_the_week_without_cutting_older_articles(dated: Engine, tmp_path: Path) -> None:
    week = dated.ask("What did the storm delay this week?", k=6, as_of=date(2026, 3, 14))
    assert week.notices[0] == "Preferring articles from 2026-03-08 to 2026-03-14 (this week)"
    assert week.passages[0].article_id.startswith("mar-")
    assert any(p.article_id.startswith("jan-") for p in week.passages)  # a preference, not a cut
    flat = build_engine(make_settings(dated.settings.data_dir, recency_weight=0))
    plain = flat.ask("What did the storm delay this week?", k=6, as_of=date(2026, 3, 14))
    assert not any(p.article_id.startswith("mar-") for p in plain.passages)  # the six delay stories win without it
    assert sum(p.article_id.startswith("mar-") for p in week.passages) == 3


def test_cli_and_api_take_the_dates(dated: Engine, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(dated.settings.data_dir))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    assert main(["ask", "--json", "--since", "2026-03-01", "--until", "2026-03-31", "--source", "small.example",
                 "-k", "3", "What did the storm delay?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {p["article_id"][:4] for p in answer["passages"]} == {"mar-"} and len(answer["passages"]) == 3
    assert main(["ask", "--as-of", "2026-02-30", "storm?"]) == 2
    assert "--as-of '2026-02-30' is not a date" in capsys.readouterr().err
    api = TestClient(create_app(dated, dated.settings), base_url="http://127.0.0.1:7860", client=("127.0.0.1", 5))
    r = api.post("/api/ask", json={"question": "What did the storm do?", "as_of": "2026-01-15"})
    assert r.status_code == 200 and r.json()["as_of"] == "2026-01-15"
    assert all(p["date"] is None or p["date"] <= "2026-01-15" for p in r.json()["passages"])
    bad = api.post("/api/ask", json={"question": "storm?", "as_of": "soon"})
    assert bad.status_code == 422 and "as_of" in bad.text
