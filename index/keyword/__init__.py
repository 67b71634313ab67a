"""The keyword index: BM25 over each chunk's terms (title + chunk text), stored inside the manifest database.

Each chunk has one row in `kw_chunks` (its term ids and counts), written by the same SQLite transaction that makes
the chunk live (`Manifest.commit` calls `stage`), and deleted with it: a foreign key cascades from `chunks`, and a
trigger logs the removal with the row's terms. So there is one source of truth, no generation that can go stale,
and a reader never sees half an ingest: SQLite shows it the whole transaction or none of it. Adding or removing an
article writes its own rows, whatever the size of the index.

Readers keep the postings in memory (index/keyword/postings.py) and catch up from the rows added and the removals logged
since they last looked, so the first query after an ingest also pays only for what changed. A merged snapshot of
the postings in `keyword/` lets a new process start without reading every row; it is a cache (any reader may write
one, atomically; a missing or unreadable one is rebuilt from the rows), never a second source of truth.

Past one host, a distributed engine can take this one's place behind `KeywordStore` (docs/scaling.md). The file is
long because the write side (stage, sync, backfill, prune) and the read side (catch-up) share one schema and one
log, and must change together.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Protocol, cast

import numpy as np

from index.keyword.postings import Postings, Row
from index.lock import IndexBusy, write_lock
from index.manifest import Manifest
from index.text import tokens
from index.types import Article, Chunk

# The terms stored are those of index/text.py's tokens(): a change there is a new VERSION, and the rows are remade.
VERSION = "snowball-english-1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS kw_terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS kw_chunks (
    row INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE REFERENCES chunks(id) ON DELETE CASCADE,
    terms BLOB NOT NULL, tfs BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS kw_removed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, row INTEGER NOT NULL, terms BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS kw_chunks_removed AFTER DELETE ON kw_chunks BEGIN
    INSERT INTO kw_removed (row, terms) VALUES (old.row, old.terms); END;
"""
BACKFILL_ARTICLES = 50  # articles per transaction when (re)making rows: each write transaction stays short


class KeywordStore(Protocol):
    """The keyword index: kept in step by the manifest's transactions, queried by the retriever."""

    def stage(self, db: sqlite3.Connection, items: Sequence[tuple[Article, Sequence[Chunk]]]) -> None:
        """Index these chunks inside the manifest's open write transaction (removals follow the chunks)."""
        ...

    def query(self, text: str, k: int, among: AbstractSet[str] | None = None) -> list[tuple[str, float]]: ...
    def stored_ids(self) -> set[str]: ...
    def sync(self) -> list[str]: ...
    def rebuild(self) -> None: ...
    def load(self) -> None: ...


def chunk_terms(title: str, text: str) -> Counter[str]:
    """What the keyword index holds for a chunk: the terms of its article's title and its own text."""
    return Counter(tokens(title + "\n" + text))


class KeywordIndex:
    def __init__(self, data_dir: Path, manifest: Manifest):
        self.data_dir, self.dir, self.manifest = data_dir, data_dir / "keyword", manifest
        manifest.db.executescript(SCHEMA)
        manifest.stages.append(self.stage)
        if manifest.meta("kw_version") is None and not manifest.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone():
            manifest.set_meta("kw_version", VERSION)  # a new index: every row it gets is staged by this tokenisation
        self._postings: Postings | None = None
        self._generation = -1
        self._lock = threading.Lock()  # one catch-up at a time; a query never reads postings being changed
        self._row_of: dict[str, int] = {}  # chunk id -> row, for filtered queries (stale entries are dead rows)
        self._mapped = 0
        self._allowed_for: tuple[AbstractSet[str], set[int]] | None = None  # the last `among` and its rows

    # -- writes ----------------------------------------------------------------------------------
    def stage(self, db: sqlite3.Connection, items: Sequence[tuple[Article, Sequence[Chunk]]]) -> None:
        _insert(db, [(c.id, chunk_terms(a.title, a.text[c.start:c.end])) for a, chunks in items for c in chunks])

    def sync(self) -> list[str]:
        """Under the write lock: remake the rows if another tokenisation made them, give rows to chunks that have
        none (an index made before this store, or chunks committed with no keyword stage), and prune the removal
        log up to the current snapshot. Cheap when there is nothing to do (two meta reads). Returns what it did."""
        repaired: list[str] = []
        if self._current():
            self._prune()
            return repaired
        if self.manifest.meta("kw_version") != VERSION and self._count_rows():
            self._clear()
            repaired.append("remade the keyword index for the current tokenisation")
        added = self._backfill()
        if added:
            repaired.append(f"indexed {added} chunks that had no keyword entry")
        self.manifest.set_meta("kw_version", VERSION)
        self.manifest.set_meta("unstaged", "0")
        shutil.rmtree(self.data_dir / "bm25", ignore_errors=True)  # the bm25s files of the index this replaced
        self._prune()
        return repaired

    def _current(self) -> bool:
        return self.manifest.meta("kw_version") == VERSION and self.manifest.meta("unstaged") != "1"

    def rebuild(self) -> None:
        """Remake every row from the manifest (repair); the caller holds the write lock."""
        self._clear()
        self._backfill()
        self.manifest.set_meta("kw_version", VERSION)
        self.manifest.set_meta("unstaged", "0")

    def _clear(self) -> None:
        with self.manifest.transaction() as db:
            db.execute("DELETE FROM kw_chunks")
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM kw_removed").fetchone()[0]
            db.execute("DELETE FROM kw_removed")
            db.execute("INSERT INTO meta (key, value) VALUES ('kw_pruned_seq', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(seq),))
            self.manifest.bump()

    def _backfill(self) -> int:
        """Rows for the manifest's chunks that lack one, a few articles per transaction, in article order; each
        article's text is read once (not once per chunk: a 19 MB article has 21k chunks)."""
        done, after = 0, ""
        while True:
            with self.manifest.transaction() as db:
                ids = [r[0] for r in db.execute(
                    "SELECT DISTINCT c.article_id FROM chunks c WHERE c.article_id > ? AND NOT EXISTS "
                    "(SELECT 1 FROM kw_chunks k WHERE k.chunk_id = c.id) ORDER BY c.article_id LIMIT ?",
                    (after, BACKFILL_ARTICLES))]
                if not ids:
                    return done
                missing = db.execute(
                    f'SELECT c.id, c.article_id, c.start, c."end" FROM chunks c WHERE c.article_id IN ({_marks(ids)}) '
                    "AND NOT EXISTS (SELECT 1 FROM kw_chunks k WHERE k.chunk_id = c.id)", ids).fetchall()
                articles = self.manifest.articles(ids)
                _insert(db, [(r[0], chunk_terms(articles[r[1]].title, articles[r[1]].text[r[2]:r[3]]))
                             for r in missing])
                self.manifest.bump()
                done, after = done + len(missing), ids[-1]

    def _prune(self) -> None:
        """Drop the removals the current snapshot already holds; readers behind it restart from the snapshot."""
        seq = Postings.saved_seq(self.dir)
        if not seq:
            return
        with self.manifest.transaction() as db:
            db.execute("DELETE FROM kw_removed WHERE seq <= ?", (seq,))
            db.execute("INSERT INTO meta (key, value) VALUES ('kw_pruned_seq', ?) ON CONFLICT(key) DO UPDATE SET "
                       "value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))", (str(seq),))

    # -- reads -----------------------------------------------------------------------------------
    def stored_ids(self) -> set[str]:
        """The chunk ids the keyword index holds (the manifest's, when it is complete)."""
        return {r[0] for r in self.manifest.db.execute("SELECT chunk_id FROM kw_chunks")}

    def _count_rows(self) -> int:
        return int(self.manifest.db.execute("SELECT COUNT(*) FROM kw_chunks").fetchone()[0])

    @property
    def loaded(self) -> bool:
        """Whether the postings of the manifest's current state are in memory (a query would not load them)."""
        return self._postings is not None and self._generation == self.manifest.generation()

    def load(self) -> None:
        """Bring the postings up to date: what the first query would otherwise do."""
        with self._lock:
            self._fresh()

    def query(self, text: str, k: int, among: AbstractSet[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks with a positive score; `among`: only these chunks (a
        filter inside the search, so that k still come back). The rows of the last `among` are remembered: the
        retriever passes the same frozen set for the same filter (30k ids mapped to rows took ~30 ms)."""
        words = sorted(set(tokens(text)))
        if not words or k <= 0 or among == set():
            return []
        db = self.manifest.db
        with self._lock:
            fresh = self._fresh()  # first: a first use may be making the rows (and the terms) right now
            ids = [r[0] for r in db.execute(f"SELECT id FROM kw_terms WHERE term IN ({_marks(words)})", words)]
            allowed = None
            if among is not None:  # chunk ids -> rows from memory: 30k ids looked up in SQL took ~100 ms
                new = db.execute("SELECT chunk_id, row FROM kw_chunks WHERE row > ? ORDER BY row", (self._mapped,))
                new_rows = False
                for cid, row in new:
                    self._row_of[cid], self._mapped, new_rows = row, row, True
                last = self._allowed_for
                if last is not None and last[0] is among and not new_rows:
                    allowed = last[1]
                else:
                    found: set[int | None] = set(map(self._row_of.get, among))  # C-level lookups: ~5x faster
                    found.discard(None)
                    allowed = cast(set[int], found)
                    self._allowed_for = (among, allowed) if isinstance(among, frozenset) else None
            top = fresh.top(ids, k, allowed)
        if not top:
            return []
        rows = [r for r, _ in top]
        names = dict(db.execute(f"SELECT row, chunk_id FROM kw_chunks WHERE row IN ({_marks(rows)})", rows).fetchall())
        return [(names[r], s) for r, s in top if r in names]  # a row removed since is skipped

    def _fresh(self) -> Postings:
        """The postings as of the manifest's state now, caught up from the rows added and removed since. One SQL
        statement reads the new rows, the new removals and the generation, so they come from one snapshot of the
        database: never half a commit (an updated article's new chunks without the removal of its old ones)."""
        generation = self.manifest.generation()
        if self._postings is not None and generation == self._generation:
            return self._postings
        if self._postings is None:
            self._migrate()
        while True:
            pruned = int(self.manifest.meta("kw_pruned_seq") or 0)
            p = self._postings
            if p is None or p.last_seq < pruned:  # first look, or removals we never saw were pruned
                p = Postings.load(self.dir)
                if p is None or p.last_seq < pruned:
                    p = Postings()
            got = self.manifest.db.execute(
                "SELECT 0, row, terms, tfs FROM kw_chunks WHERE row > ? UNION ALL "
                "SELECT 1, seq, row, terms FROM kw_removed WHERE seq > ? UNION ALL "
                "SELECT 2, CAST(value AS INTEGER), NULL, NULL FROM meta WHERE key = 'generation' UNION ALL "
                "SELECT 3, CAST(value AS INTEGER), NULL, NULL FROM meta WHERE key = 'kw_pruned_seq'",
                (p.last_row, p.last_seq)).fetchall()
            got = sorted((tuple(x) for x in got), key=lambda x: (x[0], x[1]))
            stats = {kind: value for kind, value, _, _ in got if kind >= 2}
            fresh = not p.rows  # starting from no rows: every live row is read, no removal can be missed
            if fresh or stats.get(3, 0) <= p.last_seq:
                break  # else the log was pruned past us since we looked: start again
        if fresh:
            p.last_seq = max(p.last_seq, int(stats.get(3, 0)))
        base = p.n_base
        p.add([Row(r, np.frombuffer(t, np.uint32), np.frombuffer(f, np.uint16))
               for kind, r, t, f in got if kind == 0])
        for kind, seq, r, t in got:  # removals; one of a row never seen (added and removed since) is ignored
            if kind == 1:
                p.remove(Row(r, np.frombuffer(t, np.uint32), np.zeros(0, np.uint16)))
                p.last_seq = seq
        if p.needs_merge:
            p.merge()
        if p.n_base != base:  # merged: save it, so that the next process starts from here
            with contextlib.suppress(OSError):  # a read-only data dir: the next process merges again
                p.save(self.dir)
        self._postings, self._generation = p, int(stats.get(2, 0))
        return p

    def _migrate(self) -> None:
        """An index without keyword rows for all its chunks (made before this store, or by another tokenisation):
        remake them now if no one is writing, else the writer does it (Indexer.reconcile) and we use what there is."""
        if self._current():
            return
        try:
            with write_lock(self.data_dir):
                self.sync()
        except IndexBusy:
            pass


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _insert(db: sqlite3.Connection, bags: list[tuple[str, Counter[str]]]) -> None:
    """Insert keyword rows (chunk id, term counts), adding the new terms to the vocabulary."""
    vocab = sorted({t for _, bag in bags for t in bag})
    ids: dict[str, int] = {}
    for i in range(0, len(vocab), 500):
        part = vocab[i:i + 500]
        db.executemany("INSERT OR IGNORE INTO kw_terms (term) VALUES (?)", [(t,) for t in part])
        ids.update(db.execute(f"SELECT term, id FROM kw_terms WHERE term IN ({_marks(part)})", part).fetchall())
    db.executemany("INSERT INTO kw_chunks (chunk_id, terms, tfs) VALUES (?, ?, ?)",
                   [(cid, np.asarray([ids[t] for t in bag], np.uint32).tobytes(),
                     np.asarray(list(bag.values()), np.uint16).tobytes()) for cid, bag in bags])
