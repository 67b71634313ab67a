"""Chunk offsets, quotes, and the ingest contract: idempotent, replace-on-change, remove, crash-safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.engine import Engine
from index.chunk import Chunker
from index.embed import HashEmbedder, MiniLMEmbedder
from index.load import load_file
from index.quotes import extract_quotes
from index.types import Article
from tests.conftest import ROOT, SAMPLE, SAMPLE_DIR


def sample_article() -> Article:
    article = next(iter(load_file(SAMPLE)))
    assert isinstance(article, Article)
    return article


@pytest.mark.parametrize("embedder", [HashEmbedder(), MiniLMEmbedder()], ids=["hash", "minilm"])
def test_chunk_offsets_are_exact_and_fit_the_model(embedder) -> None:  # type: ignore[no-untyped-def]
    article = sample_article()
    tokenize = embedder.tokenizer()
    chunks = Chunker(tokenize, 200, 30).chunk(article)
    assert len(chunks) >= 6
    for c in chunks:
        assert article.text[c.start:c.end] == c.text
        assert len(tokenize(c.text)) <= 200
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert len(covered) / len(article.text) > 0.97, "chunks cover the article"


def test_chunk_offsets_with_repeated_paragraphs() -> None:
    para = "The mayor said the bridge would reopen in May. Repairs cost $4 million.\n\n"
    article = Article(id="rep", title="Bridge", text=(para * 40).strip())
    chunks = Chunker(HashEmbedder().tokenizer(), 60, 10).chunk(article)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(article.text[c.start:c.end] == c.text for c in chunks)


def test_speakers_in_the_sample() -> None:
    article = sample_article()
    quotes = extract_quotes(article)
    speakers = {q.speaker for q in quotes}
    for name in ("John Kerry", "Sergei Lavrov", "Ash Carter", "Josh Earnest", "Vladimir Putin",
                 "Frank-Walter Steinmeier"):
        assert name in speakers, name
    roles = {q.speaker: q.role for q in quotes}
    assert roles["John Kerry"] == "US secretary"
    assert roles["Frank-Walter Steinmeier"] == "German Foreign Minister"
    assert roles["Josh Earnest"] == "White House spokesman"
    kerry = [q.text for q in quotes if q.speaker == "John Kerry"]
    assert any("cannot be defeated as long as Bashar al-Assad" in t for t in kerry)
    assert all(article.text[q.start:q.end] == q.text for q in quotes)
    assert not any(q.speaker == "Assad" or q.speaker.startswith("Islamic") for q in quotes)


def test_reingest_is_a_noop_and_changes_replace(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    story = folder / "story.txt"
    story.write_text("Council passes budget\n\nThe council passed the budget on Monday. " * 20)
    first = engine.ingest([folder, SAMPLE_DIR])
    assert sorted(first.added) == ["russian-airstrikes-in-syria", "story"]
    n_vectors = engine.store.count()
    again = engine.ingest([folder, SAMPLE_DIR])
    assert sorted(again.unchanged) == ["russian-airstrikes-in-syria", "story"] and not again.added
    assert engine.store.count() == n_vectors
    story.write_text("Council rejects budget\n\nThe council rejected the budget on Tuesday after a long debate.")
    changed = engine.ingest([folder])
    assert changed.updated == ["story"]
    assert engine.store.ids() == engine.manifest.chunk_ids(), "old chunks are gone from Chroma"
    assert engine.article("story").title == "Council rejects budget"
    answer = engine.ask("Did the council reject the budget?")
    assert "rejected" in answer.text and "passed" not in answer.text


def test_duplicates_and_remove(engine: Engine, tmp_path: Path) -> None:
    copy = tmp_path / "copy-of-sample.txt"
    copy.write_text(SAMPLE.read_text())
    report = engine.ingest([SAMPLE, copy])
    assert report.added == ["russian-airstrikes-in-syria"]
    assert "same text as article 'russian-airstrikes-in-syria'" in report.duplicates[0].reason
    engine.remove("russian-airstrikes-in-syria")
    assert engine.articles() == [] and engine.store.count() == 0
    assert engine.keyword.query("Kerry Assad", 5) == []
    with pytest.raises(Exception, match="No article with id 'nope'"):
        engine.remove("nope")


def test_failed_write_leaves_no_trace(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the manifest transaction fails after vectors went into Chroma, those vectors are taken out again."""
    def boom(items):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine.manifest, "commit", boom)
    with pytest.raises(RuntimeError):
        engine.ingest([SAMPLE_DIR])
    assert engine.store.count() == 0 and engine.manifest.count() == 0


def test_killed_ingest_is_repaired(tmp_path: Path) -> None:
    """SIGKILL a real `newsrag ingest` mid-way; the next ingest finds Chroma and the manifest in agreement."""
    src = tmp_path / "many"
    src.mkdir()
    base = SAMPLE.read_text()
    for i in range(400):
        (src / f"a{i:03}.txt").write_text(f"Story {i}\n\n{base}\nEdition {i}.")
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(tmp_path / "data"), "NEWSRAG_EMBEDDER": "hash",
           "NEWSRAG_INGEST_BATCH_ARTICLES": "8"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "ingest", str(src)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest_db = tmp_path / "data" / "manifest.sqlite"
    deadline = time.time() + 60
    import sqlite3

    while time.time() < deadline:  # wait until some batches are committed, then kill
        time.sleep(0.2)
        if manifest_db.exists():
            try:
                n = sqlite3.connect(manifest_db).execute("SELECT COUNT(*) FROM articles").fetchone()[0]
            except sqlite3.Error:
                continue
            if n >= 16:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    from app.engine import build_engine
    from tests.conftest import make_settings

    engine = build_engine(make_settings(tmp_path / "data"))
    kept = engine.manifest.count()
    assert 16 <= kept < 400, "killed mid-way: finished batches are kept"
    report = engine.ingest([src])
    assert len(report.unchanged) == kept and len(report.added) == 400 - kept
    assert engine.store.ids() == engine.manifest.chunk_ids()
    assert engine.keyword.query("Kerry", 5)
