"""Issue 13, part 3: no article silently replaces another. Ids keep every script's letters and carry a hash of
the original when they had to be changed; an id taken by another file is a conflict, never an update; a repeated
id gives the same result whatever the batch size; manifests from before origins were recorded are migrated."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.engine import Engine, build_engine
from index.fields import MAX_ID, is_safe_id, make_id
from index.manifest import SCHEMA_VERSION
from tests.conftest import make_settings


def story(title: str, text: str) -> str:
    return f"{title}\n\n{text}"


def test_file_names_in_any_script_keep_their_letters(engine: Engine, tmp_path: Path) -> None:
    names = ["Новости", "新闻报道", "أخبار", "Ειδήσεις", "हिंदी"]
    for i, name in enumerate(names):
        (tmp_path / f"{name}.txt").write_text(story(f"Story {i}", f"Text of story {i} about the river."))
    report = engine.ingest([tmp_path])
    assert sorted(report.added) == sorted(names) and not report.updated and not report.conflicts
    assert engine.manifest.count() == 5


@pytest.mark.parametrize(("a", "b"), [
    ("a/b", "a b"),  # both slug to a-b
    ("x" * 130 + "1", "x" * 130 + "2"),  # equal in their first 120 characters
    ("news:1", "news 1"),
    ("Новости дня", "Новости-дня?"),
])
def test_different_originals_never_share_an_id(a: str, b: str) -> None:
    ids = make_id(a), make_id(b)
    assert ids[0] != ids[1]
    assert all(is_safe_id(i) and len(i) <= MAX_ID for i in ids)


def test_safe_ids_are_kept_as_given() -> None:
    for rid in ("rtqa-05e803652ff0", "russian-airstrikes-in-syria", "Новости", "a.b_c-1", "17"):
        assert make_id(rid) == rid
    assert make_id("a b").startswith("a-b-") and make_id(":::").startswith("article-")


def test_slugged_record_ids_are_two_articles(engine: Engine, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": rid, "title": rid, "text": f"Text {n} about the bridge."})
                              for n, rid in enumerate(["a/b", "a b", "x" * 130 + "1", "x" * 130 + "2"])))
    report = engine.ingest([feed])
    assert len(report.added) == 4 and not report.updated and not report.conflicts
    assert engine.manifest.count() == 4


def test_an_id_from_another_file_is_a_conflict_not_an_update(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first, second = tmp_path / "one" / "story.txt", tmp_path / "two" / "story.txt"
    first.write_text(story("Bridge reopens", "The bridge reopened on Monday."))
    second.write_text(story("Dam bursts", "The dam burst on Friday."))
    assert engine.ingest([first]).added == ["story"]
    report = engine.ingest([second])
    assert not report.updated and not report.added
    [conflict] = report.conflicts
    assert conflict.path == str(second) and str(first) in conflict.reason, "both origins are named"
    assert "newsrag remove story" in conflict.reason and "conflicts 1" in report.summary()
    assert engine.article("story").title == "Bridge reopens", "the first article is untouched"
    first.write_text(story("Bridge reopens", "The bridge reopened on Tuesday, a day late."))
    again = engine.ingest([first])
    assert again.updated == ["story"] and not again.conflicts, "a changed text from the same file is an update"


def test_a_record_from_another_jsonl_is_a_conflict(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "rtqa-1", "title": "A", "text": "Alpha text."}) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps({"id": "rtqa-1", "title": "B", "text": "Beta text."}) + "\n")
    report = engine.ingest([tmp_path])
    assert report.added == ["rtqa-1"] and len(report.conflicts) == 1
    assert report.conflicts[0].path == f"{tmp_path / 'b.jsonl'}:1" and f"{tmp_path / 'a.jsonl'}:1" in \
        report.conflicts[0].reason
    assert engine.article("rtqa-1").text == "Alpha text."
    # a feed that gained a line above the record still updates it: the file is the origin
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "new", "title": "N", "text": "New text."}) + "\n"
                                      + json.dumps({"id": "rtqa-1", "title": "A", "text": "Alpha, revised."}) + "\n")
    report = engine.ingest([tmp_path / "a.jsonl"])
    assert report.added == ["new"] and report.updated == ["rtqa-1"] and not report.conflicts


def repeated_ids_feed(path: Path) -> Path:
    lines = [("x", "First x text."), ("y", "Y text."), ("x", "Second x text."), ("z", "Z text."),
             ("x", "First x text."), ("y", "Another y text.")]
    path.write_text("\n".join(json.dumps({"id": i, "title": i.upper(), "text": t}) for i, t in lines) + "\n")
    return path


@pytest.mark.parametrize("batch", [1, 2, 64])
def test_a_repeated_id_gives_one_result_whatever_the_batch_size(tmp_path: Path, batch: int) -> None:
    engine = build_engine(make_settings(tmp_path / "data", ingest_batch_articles=batch))
    feed = repeated_ids_feed(tmp_path / "feed.jsonl")
    report = engine.ingest([feed])
    assert sorted(report.added) == ["x", "y", "z"] and not report.updated
    assert [f.path.rsplit(":", 1)[1] for f in report.conflicts] == ["3", "6"]
    assert f"{feed}:1" in report.conflicts[0].reason and "kept the first" in report.conflicts[0].reason
    assert [f.path.rsplit(":", 1)[1] for f in report.duplicates] == ["5"]
    assert engine.article("x").text == "First x text." and engine.article("y").text == "Y text."
    again = engine.ingest([feed])  # and the same again on a second run
    assert sorted(again.unchanged) == ["x", "y", "z"] and len(again.conflicts) == 2 and not again.updated


V1_SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, url TEXT, source TEXT, path TEXT,
    text TEXT NOT NULL, sha256 TEXT NOT NULL, added_at TEXT DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def test_a_manifest_from_before_origins_is_migrated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = build_engine(make_settings(data))
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "story.txt").write_text(story("Bridge", "The bridge reopened."))
    (folder / "other.txt").write_text(story("Dam", "The dam held."))
    engine.ingest([folder])
    # turn it into a schema 1 manifest: no record column, no schema key, the paths as given then, odd dates
    db = sqlite3.connect(data / "manifest.sqlite")
    db.executescript("ALTER TABLE articles DROP COLUMN record; DELETE FROM meta WHERE key = 'schema';"
                     "UPDATE articles SET path = 'news/' || id || '.txt';"
                     "UPDATE articles SET date = 'June 1, 2022' WHERE id = 'story';"
                     "UPDATE articles SET date = '{''y'': 2020}' WHERE id = 'other';")
    db.close()
    engine = build_engine(make_settings(data))
    assert engine.manifest.meta("schema") == SCHEMA_VERSION
    assert engine.article("story").date == "2022-06-01" and engine.article("other").date is None
    assert engine.manifest.origin("story") == ("news/story.txt", None)
    (folder / "story.txt").write_text(story("Bridge", "The bridge reopened, late."))
    (tmp_path / "story.md").write_text("# Not the bridge\n\nAnother story with the same id.")
    report = engine.ingest([tmp_path / "story.md"])
    assert [Path(c.path).name for c in report.conflicts] == ["story.md"] and not report.updated
    report = engine.ingest([folder / "story.txt"])
    assert report.updated == ["story"], "an article from before: the same file name is the same origin"
    assert engine.manifest.origin("story") == (str(folder / "story.txt"), "")


@pytest.mark.parametrize("batch", [1, 64])
def test_a_text_replaced_earlier_in_the_run_is_free_whatever_the_batch_size(tmp_path: Path, batch: int) -> None:
    engine = build_engine(make_settings(tmp_path / "data", ingest_batch_articles=batch))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(story("Old", "The old text."))
    engine.ingest([folder])
    (folder / "a.txt").write_text(story("New", "The new text."))  # a moves to a new text ...
    (folder / "b.jsonl").write_text(json.dumps({"id": "b", "title": "Old", "text": "The old text."}) + "\n")
    report = engine.ingest([folder])  # ... and b takes the old one, in the same run
    assert report.updated == ["a"] and report.added == ["b"] and not report.duplicates
