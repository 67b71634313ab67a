"""Issue 13, part 2: one bad record costs only itself. Wrong field types are coerced where obvious and refused
(with file, line and field) otherwise; front matter gives the metadata; mixed UTF-8/Latin-1 keeps its UTF-8."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli.main import main
from app.engine import Engine
from app.web.api import create_app
from index.fields import iso_date
from index.load import Failure, load_paths
from index.types import Article


def load(*paths: Path) -> tuple[list[Article], list[Failure]]:
    items = list(load_paths(list(paths)))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Failure)]


def record(i: int, **fields: object) -> str:
    return json.dumps({"id": f"r{i}", "title": f"Story {i}", "text": f"Story number {i} is about the harbour.",
                       **fields})


# (fields of the record, None when it must be refused else the stored (field, value), a fragment of the reason)
CASES: list[tuple[dict[str, object], tuple[str, object] | None, str]] = [
    ({"url": 12345}, None, "'url' must be an http(s) URL string, not the number 12345"),
    ({"url": "javascript:alert(1)"}, None, "'url' 'javascript:alert(1)' is not an http(s) URL"),
    ({"url": "https://example.org/a"}, ("url", "https://example.org/a"), ""),
    ({"source": {"name": "BBC News", "id": None}}, ("source", "BBC News"), ""),
    ({"source": {"id": 7}}, None, "'source' must be a string, not an object"),
    ({"source": ["a"]}, None, "'source' must be a string, not a list"),
    ({"date": {"y": 2020}}, None, "'date' must be a date string such as 2024-05-31, not an object"),
    ({"date": 2020}, None, "'date' must be a date string"),
    ({"date": "yesterday"}, None, "'date' 'yesterday' is not a date"),
    ({"date": "01/02/2020"}, None, "is not a date"),  # day or month first: never guessed
    ({"date": "2022-06-01T23:30:00-05:00"}, ("date", "2022-06-01"), ""),
    ({"date": "June 1, 2022"}, ("date", "2022-06-01"), ""),
    ({"date": "Wed, 01 Jun 2022 10:00:00 GMT"}, ("date", "2022-06-01"), ""),
    ({"date": "2022/06/01"}, ("date", "2022-06-01"), ""),
    ({"id": 17}, ("id", "17"), ""),
    ({"id": 1.5}, None, "'id' must be a string or an integer, not the number 1.5"),
    ({"id": True}, None, "'id' must be a string or an integer, not true"),
    ({"title": 2020}, ("title", "2020"), ""),
    ({"title": {"en": "x"}}, None, "'title' must be a string, not an object"),
    ({"text": 5}, None, "'text' must be a string, not the number 5"),
]


@pytest.mark.parametrize(("fields", "stored", "reason"), CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_a_wrong_type_costs_only_its_record(tmp_path: Path, fields: dict[str, object],
                                            stored: tuple[str, object] | None, reason: str) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([record(1), record(2, **fields), record(3)]) + "\n")
    articles, failures = load(feed)
    assert {"r1", "r3"} <= {a.id for a in articles}, "the good records go in"
    if stored is None:
        assert len(articles) == 2 and len(failures) == 1
        assert failures[0].path == f"{feed}:2", "the reason names the file and line"
        assert reason in failures[0].reason and "\n" not in failures[0].reason
    else:
        assert not failures and len(articles) == 3
        name, value = stored
        assert getattr(articles[1], name) == value


def test_a_bad_item_in_a_json_list_is_named_by_its_index(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[" + ",".join([record(0), record(1, url=5), record(2)]) + "]")
    articles, failures = load(path)
    assert [a.id for a in articles] == ["r0", "r2"] and [a.record for a in articles] == ["[0]", "[2]"]
    assert [(f.path, f.reason.split(",")[0]) for f in failures] == [(f"{path}[1]", "'url' must be an http(s) URL "
                                                                                  "string")]


def test_cli_ingest_lists_the_bad_record_without_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([record(1), record(2, url=12345), record(3, source={"name": "x"}), record(4)]))
    assert main(["ingest", str(feed)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("added 3, updated 0, unchanged 0, failed 1")
    assert f"failed: {feed}:2: 'url' must be an http(s) URL string, not the number 12345" in out
    assert "Traceback" not in out + err and "pydantic" not in out + err


def test_upload_of_30_records_with_one_bad_indexes_the_29(engine: Engine) -> None:
    lines = [record(i, **({"url": 12345} if i == 17 else {})) for i in range(1, 31)]
    client = TestClient(create_app(engine, engine.settings), base_url="http://127.0.0.1:7860",
                        client=("127.0.0.1", 50000), raise_server_exceptions=False)
    r = client.post("/api/articles", files=[("files", ("feed.jsonl", "\n".join(lines).encode()))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["added"]) == 29 and "r17" not in body["added"]
    assert body["failed"] == [{"path": "feed.jsonl:17",
                               "reason": "'url' must be an http(s) URL string, not the number 12345"}]
    assert engine.manifest.count() == 29


def test_dates_are_stored_as_iso_and_sort(engine: Engine, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join([record(1, date="March 3, 2021"), record(2, date="2021-12-24T08:00:00Z"),
                               record(3, date="Mon, 01 Feb 2021 09:00:00 +0000"), record(4)]))
    engine.ingest([feed])
    rows = engine.articles()
    assert [(r["id"], r["date"]) for r in rows] == [("r2", "2021-12-24"), ("r1", "2021-03-03"),
                                                    ("r3", "2021-02-01"), ("r4", None)]


def test_iso_date_forms() -> None:
    assert iso_date("2024-05-31") == "2024-05-31" and iso_date("20240531") == "2024-05-31"
    assert iso_date("2024-05-31 10:00:00 UTC") == "2024-05-31" and iso_date("31 May 2024") == "2024-05-31"
    assert iso_date(None) is None and iso_date("") is None


FRONT = """---
title: "Budget: the vote"
date: 2024-03-05
url: https://example.org/budget   # the page
source: 'Council''s paper'
tags:
  - budget
---
# Budget: the vote

The council approved the budget on Tuesday.
"""


@pytest.mark.parametrize("name", ["vote.md", "vote.txt"])
def test_front_matter_gives_the_metadata(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(FRONT)
    [article], failures = load(tmp_path / name)
    assert not failures
    assert article.title == "Budget: the vote", "the title is not '---'"
    assert article.date == "2024-03-05" and article.url == "https://example.org/budget"
    assert article.source == "Council's paper"
    body = "The council approved the budget on Tuesday."
    assert article.text == (body if name.endswith(".md") else "# Budget: the vote\n\n" + body)
    assert "---" not in article.text and "tags" not in article.text


def test_front_matter_id_and_bad_fields(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\nid: council-2024-03\n---\nFirst line is the title\n\nAnd the text.\n")
    (tmp_path / "b.md").write_text("---\ndate: {y: 2020}\n---\nTitle\n\nText.\n")
    (tmp_path / "c.md").write_text("---\nJust a horizontal rule above, no front matter.\n\nText.\n")
    articles, failures = load(tmp_path)
    by_id = {a.id: a for a in articles}
    assert by_id["council-2024-03"].title == "First line is the title"
    assert [(Path(f.path).name, f.reason) for f in failures] == [
        ("b.md", "front matter 'date' '{y: 2020}' is not a date newsrag can read (write it as YYYY-MM-DD)")]
    assert by_id["c"].text.startswith("Just a horizontal rule"), "no closing line: not front matter, read as before"


def test_mixed_utf8_and_latin1_keeps_the_utf8(tmp_path: Path) -> None:
    utf8 = "Zürich “talks” — Ωmega\n\nThe mayor of Zürich said “yes” to the plan"
    raw = utf8.encode() + b", and the caf\xe9 owners agreed."  # one Latin-1 byte pasted into a UTF-8 file
    (tmp_path / "mixed.txt").write_bytes(raw)
    [article], failures = load(tmp_path / "mixed.txt")
    assert not failures
    assert article.title == "Zürich “talks” — Ωmega"
    assert article.text == "The mayor of Zürich said “yes” to the plan, and the café owners agreed."
    assert article.note is not None and "1 byte" in article.note and "Windows-1252" in article.note


def test_mixed_encoding_is_a_note_in_the_report(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "mixed.txt").write_bytes("Zürich\n\nThe café".encode() + b" in Z\xfcrich opened.")
    report = engine.ingest([tmp_path / "mixed.txt"])
    assert report.added == ["mixed"] and "Zürich" in engine.article("mixed").text
    assert [Path(n.path).name for n in report.notes] == ["mixed.txt"] and "note: " in report.summary()
