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
from index.embedding.hashing import HashEmbedder
from index.embedding.minilm import MiniLMEmbedder
from index.load import load_file
from index.quotes import extract_quotes
from index.types import Article
from tests.conftest import ROOT, SAMPLE, SAMPLE_DIR, sample_copies


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
    def boom(*args):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine.manifest, "commit", boom)
    with pytest.raises(RuntimeError):
        engine.ingest([SAMPLE_DIR])
    assert engine.store.count() == 0 and engine.manifest.count() == 0


def test_only_a_write_that_did_not_finish_makes_the_next_one_compare_every_id(engine: Engine, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing every id in Chroma on each ingest made adding one article cost time proportional to the index."""
    from index.types import Chunk

    engine.ingest([SAMPLE_DIR])
    listed = {"n": 0}
    ids = engine.store.ids

    def counting_ids() -> set[str]:
        listed["n"] += 1
        return ids()

    monkeypatch.setattr(engine.store, "ids", counting_ids)
    (tmp_path / "one.txt").write_text("One more\n\nThe bridge reopened on Monday.")
    assert engine.ingest([tmp_path / "one.txt"]).added == ["one"] and listed["n"] == 0
    orphan = Chunk(id="ghost:0000000000:0", article_id="ghost", ordinal=0, start=0, end=5, text="ghost")
    engine.store.add([orphan], engine.embedder.embed(["ghost"]), {"ghost": "Ghost"})  # a writer died here ...
    (Path(engine.settings.data_dir) / "writing").touch()  # ... leaving its marker
    (tmp_path / "two.txt").write_text("Two more\n\nThe tunnel closed on Friday.")
    report = engine.ingest([tmp_path / "two.txt"])
    assert listed["n"] == 1 and any("orphaned vectors" in r for r in report.repaired)
    assert "ghost:0000000000:0" not in engine.store.ids()
    assert not (Path(engine.settings.data_dir) / "writing").exists()


def _ingest_process(src: Path, data: Path) -> subprocess.Popen:
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(data), "NEWSRAG_EMBEDDER": "hash",
           "NEWSRAG_INGEST_BATCH_ARTICLES": "4"}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "ingest", str(src)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _articles(data: Path) -> int:
    import sqlite3

    try:
        return sqlite3.connect(data / "manifest.sqlite").execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_ingest_killed_ten_times_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """SIGKILL a real `newsrag ingest` at 10 random points; verify/repair, go on; the end state is exact."""
    import random

    from app.engine import build_engine
    from tests.conftest import make_settings

    src, data = sample_copies(tmp_path / "many", 160), tmp_path / "data"
    rng = random.Random(7)
    kills, repaired = 0, 0
    while kills < 10:
        before = _articles(data)
        proc = _ingest_process(src, data)
        target = before + rng.randint(1, 8)  # kill somewhere inside the next two batches
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None and _articles(data) < target:
            time.sleep(rng.uniform(0.002, 0.02))
        if proc.poll() is not None:
            break  # it finished before we could kill it
        # then within a few batches: a batch of 4 takes a few ms with the hash embedder (less since small Chroma
        # adds no longer re-read an unpersisted tail), and waits of up to 0.3 s let a run finish the corpus
        time.sleep(rng.uniform(0, 0.08))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        engine = build_engine(make_settings(data))
        report = engine.verify(repair=True)
        repaired += bool(report.repaired)
        assert report.clean, report.summary()
    assert kills == 10, f"only {kills} kills: the corpus was ingested too fast"
    engine = build_engine(make_settings(data))
    final = engine.ingest([src])
    assert len(final.added) + len(final.unchanged) == 160 and not final.failed and not final.duplicates
    assert engine.manifest.count() == 160
    assert engine.store.ids() == engine.manifest.chunk_ids() and engine.store.count() == len(engine.store.ids())
    assert engine.verify().clean
    print(f"\n10 kills survived, {repaired} needed a repair")


@pytest.mark.slow
def test_second_writer_is_refused_and_readers_keep_answering(tmp_path: Path) -> None:
    from app.engine import build_engine
    from app.errors import Busy
    from tests.conftest import make_settings

    data = tmp_path / "data"
    engine = build_engine(make_settings(data))
    engine.ingest([SAMPLE_DIR])
    proc = _ingest_process(sample_copies(tmp_path / "many", 200), data)
    try:
        deadline = time.time() + 60
        while _articles(data) < 3 and time.time() < deadline:
            time.sleep(0.05)
        with pytest.raises(Busy, match=r"index is busy \(pid \d+\)"):
            engine.ingest([SAMPLE_DIR])
        answer = engine.ask("What did Kerry say about Assad?")  # a reader, while the other process writes
        assert "Kerry" in answer.citations[0].quote
    finally:
        proc.kill()
        proc.wait()


def test_the_article_hash_is_taken_once_per_article_not_per_chunk(engine: Engine, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A 19 MB article took over 20 minutes: every chunk re-hashed the whole article (quadratic). Counted, not
    timed: the article hashes per ingest stay the same when the article is 4x longer (4x the chunks)."""
    calls = {"n": 0}
    real = Article.sha256

    def counting(self: Article) -> str:
        calls["n"] += 1
        return real.fget(self)  # type: ignore[attr-defined, no-any-return]

    monkeypatch.setattr(Article, "sha256", property(counting))
    para = "The mayor said the bridge would reopen in May after repairs that cost four million dollars."
    counts = []
    for copies in (40, 160):
        text = "\n\n".join(f"{para} Item {i}." for i in range(copies))
        calls["n"] = 0
        chunks = engine.indexer.chunker.chunk(Article(id=f"a{copies}", title="Bridge", text=text))
        assert calls["n"] == 1, f"{calls['n']} hashes for {len(chunks)} chunks"
        (tmp_path / f"long{copies}.txt").write_text(f"Bridge {copies}\n\n{text}")
        calls["n"] = 0
        assert engine.ingest([tmp_path / f"long{copies}.txt"]).added == [f"long{copies}"]
        counts.append((len(chunks), calls["n"]))
    (small_chunks, small_calls), (big_chunks, big_calls) = counts
    assert big_chunks >= 3 * small_chunks and big_calls == small_calls, counts


def test_the_keyword_index_reads_a_long_article_once(engine: Engine, tmp_path: Path) -> None:
    """The keyword rebuild joined chunks to articles: every chunk row carried its own copy of the article text
    (a 19 MB article with 21k chunks: SQLite ran out of disk sorting 400 GB). Now each text is read once."""
    import tracemalloc

    para = "The mayor said the bridge would reopen in May after repairs that cost four million dollars."
    text = "\n\n".join(f"{para} Item {i}." for i in range(4000))  # 0.4 MB, ~400 chunks
    (tmp_path / "long.txt").write_text(f"Bridge\n\n{text}")
    engine.ingest([tmp_path / "long.txt"])
    chunks = len(engine.manifest.chunk_ids())
    tracemalloc.start()
    engine.keyword.rebuild()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert chunks > 300 and peak < 40 * len(text), (chunks, peak)  # one copy per chunk would be > 300x
    assert engine.keyword.query("bridge reopen", 3)


@pytest.mark.slow
def test_an_article_with_more_chunks_than_a_chroma_batch(tmp_path: Path) -> None:
    """Chroma refuses more than 5,461 vectors in one add: an article longer than that was an InternalError."""
    from app.engine import build_engine
    from tests.conftest import make_settings

    engine = build_engine(make_settings(tmp_path / "data", chunk_tokens=40, chunk_overlap=5))
    limit = engine.store.max_batch_size()
    words = " ".join(f"word{i % 97}" for i in range(30)) + "."
    (tmp_path / "long.txt").write_text("Long\n\n" + "\n\n".join(words for _ in range(limit + 200)))
    report = engine.ingest([tmp_path / "long.txt"])
    assert report.added == ["long"] and report.chunks > limit
    assert engine.store.count() == report.chunks and engine.verify().clean
