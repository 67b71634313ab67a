"""The keyword index in the manifest database (index/keyword.py) and its in-memory postings (index/postings.py):
exact BM25 after any mix of adds, removes and merges; writes that touch only the article written; one transaction
with the manifest; old indexes and snapshots taken over without a rebuild by hand."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from app.engine import Engine
from index.keyword import KeywordIndex, postings
from index.keyword.postings import Postings, Row
from index.manifest import Manifest
from index.types import Article, Chunk
from tests.conftest import SAMPLE_DIR


def _bm25(docs: dict[int, Counter[int]], query: list[int], k: int) -> list[tuple[int, float]]:
    """Textbook BM25 ("lucene" idf) over the live docs, the slow way: what the postings must equal."""
    n = len(docs)
    avgdl = sum(sum(d.values()) for d in docs.values()) / n
    scores: dict[int, float] = {}
    for t in set(query):
        df = sum(1 for d in docs.values() if t in d)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for row, d in docs.items():
            if t in d:
                norm = postings.K1 * (1 - postings.B + postings.B * sum(d.values()) / avgdl)
                scores[row] = scores.get(row, 0.0) + idf * d[t] / (d[t] + norm)
    return sorted(scores.items(), key=lambda x: -x[1])[:k]


def _row(row: int, bag: Counter[int]) -> Row:
    return Row(row, np.asarray(list(bag), np.uint32), np.asarray(list(bag.values()), np.uint16))


def test_postings_equal_a_fresh_bm25_after_adds_removes_and_merges(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setattr(postings, "MERGE_MIN", 40)  # merges happen often, in the middle of the sequence
    rng = random.Random(5)
    live: dict[int, Counter[int]] = {}
    p, next_row = Postings(), 1
    for step in range(60):
        if live and rng.random() < 0.35:
            for row in rng.sample(sorted(live), k=min(len(live), rng.randint(1, 6))):
                p.remove(_row(row, live.pop(row)))
        else:
            batch = []
            for _ in range(rng.choice([1, 3, 50])):  # one article, a few, or more than MERGE_MIN at once
                bag = Counter(rng.choices(range(300), k=rng.randint(1, 40)))
                batch.append(_row(next_row, bag))
                live[next_row] = bag
                next_row += 1
            p.add(batch)
        if p.needs_merge:
            p.merge()
        if step % 20 == 19:  # a snapshot written and read back is the same index
            p.save(tmp_path / "kw")
            p = Postings.load(tmp_path / "kw") or Postings()
        query = rng.choices(range(300), k=4)
        got, want = p.top(query, 10), _bm25(live, query, 10)
        assert [r for r, _ in got] == [r for r, _ in want] or np.allclose([s for _, s in got], [s for _, s in want])
        assert np.allclose([s for _, s in got], [s for _, s in want], rtol=1e-4)
    assert p.n_alive == len(live)


def _one_article(i: int) -> tuple[Article, list[Chunk], list]:
    text = f"The harbour ferry number {i} was renamed after a vote.\n\nIts captain, Ola Nordmann {i}, approved."
    article = Article(id=f"ferry{i}", title=f"Ferry {i}", text=text)
    cut = text.index("\n\n")
    spans = [(0, cut), (cut + 2, len(text))]
    return article, [Chunk(id=f"ferry{i}:{article.sha256[:10]}:{n}", article_id=article.id, ordinal=n, start=s,
                           end=e, text=text[s:e]) for n, (s, e) in enumerate(spans)], []


def test_adding_an_article_writes_its_rows_only_and_readers_catch_up_by_them(sample_engine: Engine) -> None:
    manifest, keyword = sample_engine.manifest, sample_engine.keyword
    keyword.load()
    before = dict(manifest.db.execute("SELECT chunk_id, row FROM kw_chunks").fetchall())
    postings_before = keyword._postings
    assert postings_before is not None
    base = postings_before.n_base
    manifest.commit([_one_article(1)])
    after = dict(manifest.db.execute("SELECT chunk_id, row FROM kw_chunks").fetchall())
    assert {c: r for c, r in after.items() if c in before} == before  # no existing row was rewritten
    assert len(after) == len(before) + 2
    hits = keyword.query("harbour ferry renamed", 5)
    assert hits and hits[0][0].startswith("ferry1:")
    assert keyword._postings is postings_before and keyword._postings.n_base == base  # caught up, not reloaded
    manifest.remove("ferry1")  # the foreign key takes its keyword rows in the same transaction
    assert dict(manifest.db.execute("SELECT chunk_id, row FROM kw_chunks").fetchall()) == before
    assert not [c for c, _ in keyword.query("harbour ferry renamed", 5) if c.startswith("ferry1:")]


def test_a_failed_commit_leaves_no_keyword_rows(sample_engine: Engine) -> None:
    manifest = sample_engine.manifest
    rows = manifest.db.execute("SELECT COUNT(*) FROM kw_chunks").fetchone()[0]

    def fail(db, items):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    manifest.stages.append(fail)  # runs after the keyword stage, inside the same transaction
    with pytest.raises(RuntimeError):
        manifest.commit([_one_article(2)])
    manifest.stages.remove(fail)
    assert manifest.db.execute("SELECT COUNT(*) FROM kw_chunks").fetchone()[0] == rows
    assert manifest.article("ferry2") is None


def test_an_index_made_before_the_keyword_rows_gets_them_on_first_use(sample_engine: Engine) -> None:
    data_dir = Path(sample_engine.settings.data_dir)
    db = sample_engine.manifest.db
    db.execute("DROP TRIGGER kw_chunks_removed")  # as an index from before this store: no keyword tables at all
    db.executescript("DROP TABLE kw_chunks; DROP TABLE kw_removed; DROP TABLE kw_terms;")
    db.execute("DELETE FROM meta WHERE key LIKE 'kw_%'")
    fresh = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))
    assert fresh.query("Kerry Assad", 3)
    assert fresh.stored_ids() == sample_engine.manifest.chunk_ids()
    assert sample_engine.verify().clean


def test_rows_made_by_another_tokenisation_are_remade(sample_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.keyword as kw

    data_dir = Path(sample_engine.settings.data_dir)
    manifest = sample_engine.manifest
    old_rows = set(r[0] for r in manifest.db.execute("SELECT row FROM kw_chunks"))
    monkeypatch.setattr(kw, "VERSION", "another-tokeniser")
    reader = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))
    assert reader.query("Kerry Assad", 3)
    new_rows = set(r[0] for r in manifest.db.execute("SELECT row FROM kw_chunks"))
    assert new_rows and not new_rows & old_rows
    assert manifest.meta("kw_version") == "another-tokeniser"


def test_chunks_committed_without_a_keyword_stage_are_indexed_at_the_next_write(sample_engine: Engine,
                                                                               tmp_path: Path) -> None:
    data_dir = Path(sample_engine.settings.data_dir)
    bare = Manifest(data_dir / "manifest.sqlite")  # a tool that writes the manifest with no keyword index open
    article, chunks, quotes = _one_article(3)
    sample_engine.store.add(chunks, sample_engine.embedder.embed([c.text for c in chunks]), {article.id: article.title})
    bare.commit([(article, chunks, quotes)])
    assert not sample_engine.verify().clean  # verify sees the gap ...
    (tmp_path / "x.txt").write_text("Another story\n\nThe lighthouse was painted red.")
    report = sample_engine.ingest([tmp_path / "x.txt"])  # ... and the next ingest fills it
    assert any("had no keyword entry" in r for r in report.repaired)
    assert sample_engine.verify().clean
    assert [c for c, _ in sample_engine.keyword.query("harbour ferry renamed", 5) if c.startswith("ferry3:")]


def test_a_new_process_starts_from_the_snapshot_and_a_broken_one_is_ignored(engine: Engine, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postings, "MERGE_MIN", 2)
    data_dir = Path(engine.settings.data_dir)
    engine.ingest([SAMPLE_DIR])
    engine.keyword.load()  # more rows than MERGE_MIN: merged, and saved
    folder = data_dir / "keyword"
    assert (folder / "CURRENT").exists()
    want = engine.keyword.query("Kerry Assad Russia", 5)
    started = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))
    assert started.query("Kerry Assad Russia", 5) == want
    snap = folder / (folder / "CURRENT").read_text()
    (snap / "docs.npy").write_bytes(b"not an array")
    broken = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))
    assert broken.query("Kerry Assad Russia", 5) == want  # read from the rows instead


def test_a_filtered_query_returns_only_the_chunks_among_and_still_k(sample_engine: Engine) -> None:
    manifest, keyword = sample_engine.manifest, sample_engine.keyword
    manifest.commit([_one_article(4)])
    ferry = manifest.chunk_ids("ferry4")
    assert any(c.startswith("russian") for c, _ in keyword.query("Kerry Assad ferry", 10))
    got = keyword.query("Kerry Assad ferry", 10, ferry)
    assert got and {c for c, _ in got} <= ferry
    assert keyword.query("Kerry Assad ferry", 10, set()) == []
    manifest.remove("ferry4")
    assert keyword.query("Kerry Assad ferry", 10, ferry) == []  # removed since: their old rows are dead
