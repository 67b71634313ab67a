"""In-memory BM25 postings: a merged base segment plus a small delta and tombstones, caught up row by row.

The keyword index (index/keyword/__init__.py) stores one row per chunk in the manifest database: its term ids and
counts.
A reader turns those rows into postings here. Catching up after an ingest touches only what changed: new rows go
into the delta, removed rows become tombstones, and the corpus statistics (document frequencies, the number of
live chunks, their total length) move by exactly those rows, so a score is always that of one BM25 index over the
live chunks. When delta + tombstones pass a fifth of the base, they are merged into a new base (a cost of the
whole index, paid once per that many changes, by a reader, never by the ingest) and the base can be saved as a
snapshot, from which the next process starts instead of from every row.

Scores are bm25s's default ("lucene") BM25, idf = ln(1 + (N - df + 0.5) / (df + 0.5)) times
tf / (tf + k1 (1 - b + b dl / avgdl)): the same ranking as the bm25s index this replaced, over the same terms.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

K1, B = 1.2, 0.75  # k1 1.2 measured as good as bm25s's 1.5 on the calibration half (docs/eval.md)
MERGE_FRACTION, MERGE_MIN = 0.2, 2000
_ARRAYS = ("indptr", "docs", "tfs", "rows", "lengths", "df")


@dataclass
class Row:
    """One chunk's keyword row: row id, its distinct term ids and how often each occurs."""
    row: int
    terms: np.ndarray  # uint32
    tfs: np.ndarray  # uint16, aligned with terms (empty for a removal: only the terms are needed)


class Postings:
    """term id -> (doc, tf) over a base CSR segment and a delta; a doc is one keyword row."""

    def __init__(self) -> None:
        self.indptr = np.zeros(1, np.int64)  # base segment: docs[indptr[t]:indptr[t+1]] hold term t
        self.docs = np.zeros(0, np.int32)
        self.tfs = np.zeros(0, np.float32)
        self.n_base = 0
        self.delta: dict[int, tuple[list[int], list[float]]] = {}
        self.rows: list[int] = []  # doc -> row id: base docs, then delta docs
        self.lengths: list[float] = []
        self.alive: list[bool] = []
        self.by_row: dict[int, int] = {}  # live row id -> doc
        self.df = np.zeros(0, np.int64)
        self.n_alive, self.total, self.dead = 0, 0.0, 0
        self.last_row = 0  # rows up to here were read (those removed since are in the log)
        self.last_seq = 0  # removals up to here were applied
        self._norm: np.ndarray | None = None
        self._alive: np.ndarray | None = None

    # -- changes ---------------------------------------------------------------------------------
    def add(self, rows: list[Row]) -> None:
        """Add rows; many at once (a first load, a big ingest) are merged into the base right away."""
        rows = [r for r in rows if r.row not in self.by_row]
        if not rows:
            return
        first = len(self.rows)
        counts = np.fromiter((len(r.terms) for r in rows), np.int64, len(rows))
        terms = np.concatenate([r.terms for r in rows]).astype(np.int64)
        tfs = np.concatenate([r.tfs for r in rows]).astype(np.float32)
        lengths = [float(r.tfs.sum()) for r in rows]
        for i, r in enumerate(rows):
            self.by_row[r.row] = first + i
        self.rows += [r.row for r in rows]
        self.lengths += lengths
        self.alive += [True] * len(rows)
        self._grow(int(terms.max()) + 1 if len(terms) else 0)
        np.add.at(self.df, terms, 1)
        self.n_alive += len(rows)
        self.total += sum(lengths)
        self.last_row = max(self.last_row, max(r.row for r in rows))
        self._norm = self._alive = None
        docs = np.repeat(np.arange(first, first + len(rows), dtype=np.int64), counts)
        if len(rows) > MERGE_MIN:
            self.merge((terms, docs, tfs))
            return
        for t, d, f in zip(terms.tolist(), docs.tolist(), tfs.tolist(), strict=True):
            ds, fs = self.delta.setdefault(t, ([], []))
            ds.append(d)
            fs.append(f)

    def remove(self, row: Row) -> None:
        """Tombstone a row (its terms come from the removal log); rows never added or already gone are ignored."""
        doc = self.by_row.pop(row.row, None)
        if doc is None:
            return
        self.alive[doc] = False
        self.df[row.terms.astype(np.int64)] -= 1
        self.n_alive -= 1
        self.total -= self.lengths[doc]
        self.dead += 1
        self._norm = self._alive = None

    @property
    def needs_merge(self) -> bool:
        return len(self.rows) - self.n_base + self.dead > max(MERGE_MIN, MERGE_FRACTION * self.n_base)

    def merge(self, extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """Fold the delta, the tombstones and `extra` (term, doc, tf arrays of docs just added) into a new base."""
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [extra] if extra is not None else []
        if self.n_base:
            counts = np.diff(self.indptr)
            parts.append((np.repeat(np.arange(len(counts), dtype=np.int64), counts),
                          np.asarray(self.docs, np.int64), np.asarray(self.tfs, np.float32)))
        for t, (ds, fs) in self.delta.items():
            parts.append((np.full(len(ds), t, np.int64), np.asarray(ds, np.int64), np.asarray(fs, np.float32)))
        terms, docs, tfs = (np.concatenate([p[i] for p in parts]) if parts else np.zeros(0) for i in range(3))
        alive = np.asarray(self.alive, bool)
        keep = alive[docs.astype(np.int64)] if len(docs) else np.zeros(0, bool)
        terms, docs, tfs = terms[keep].astype(np.int64), docs[keep].astype(np.int64), tfs[keep]
        order = np.argsort(terms)  # grouping by term is all scoring needs (a doc holds a term once)
        self.indptr = np.searchsorted(terms[order], np.arange(len(self.df) + 1)).astype(np.int64)
        self.docs = (np.cumsum(alive) - 1)[docs[order]].astype(np.int32)  # old doc -> new doc
        self.tfs = tfs[order].astype(np.float32)
        self.rows = np.asarray(self.rows, np.int64)[alive].tolist()
        self.lengths = np.asarray(self.lengths, np.float32)[alive].tolist()
        self.alive = [True] * len(self.rows)
        self.by_row = {r: d for d, r in enumerate(self.rows)}
        self.n_base, self.delta, self.dead = len(self.rows), {}, 0
        self._norm = self._alive = None

    def _grow(self, n_terms: int) -> None:
        if n_terms > len(self.df):
            more = max(n_terms - len(self.df), 4096)
            self.df = np.concatenate([self.df, np.zeros(more, np.int64)])
            self.indptr = np.concatenate([self.indptr, np.full(more, self.indptr[-1], np.int64)])

    # -- queries ---------------------------------------------------------------------------------
    def top(self, terms: list[int], k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """(row id, score) of the k best live rows for these term ids (each counted once), best first; `allowed`:
        only these row ids."""
        wanted = sorted({t for t in terms if t < len(self.df) and self.df[t] > 0})
        if not wanted or not self.n_alive or k <= 0:
            return []
        if self._norm is None or self._alive is None:
            lengths = np.asarray(self.lengths, np.float32)
            self._norm = (K1 * (1 - B + B * lengths / (self.total / self.n_alive))).astype(np.float32)
            self._alive = np.asarray(self.alive, bool)
        norm, scores = self._norm, np.zeros(len(self.rows), np.float32)
        for t in wanted:
            df = float(self.df[t])
            idf = np.float32(np.log1p((self.n_alive - df + 0.5) / (df + 0.5)))
            lo, hi = self.indptr[t], self.indptr[t + 1]
            docs, tfs = self.docs[lo:hi], self.tfs[lo:hi]
            scores[docs] += idf * tfs / (tfs + norm[docs])
            if t in self.delta:
                ds, fs = np.asarray(self.delta[t][0]), np.asarray(self.delta[t][1], np.float32)
                scores[ds] += idf * fs / (fs + norm[ds])
        scores[~self._alive] = 0
        if allowed is not None:
            keep = np.zeros(len(scores), bool)
            rows_kept: set[int | None] = set(map(self.by_row.get, allowed))
            rows_kept.discard(None)
            keep[cast(list[int], list(rows_kept))] = True
            scores[~keep] = 0
        k = min(k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.rows[d], float(scores[d])) for d in best.tolist() if scores[d] > 0]

    # -- snapshots -------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the (merged) base as the current snapshot; a process reading an older one is not disturbed."""
        if self.delta or self.dead:
            self.merge()
        folder.mkdir(parents=True, exist_ok=True)
        snap = folder / f"snap-{uuid.uuid4().hex}"
        snap.mkdir()
        for name, arr in (("indptr", self.indptr), ("docs", self.docs), ("tfs", self.tfs), ("df", self.df),
                          ("rows", np.asarray(self.rows, np.int64)), ("lengths", np.asarray(self.lengths, np.float32))):
            np.save(snap / f"{name}.npy", arr)
        (snap / "meta.json").write_text(json.dumps({"last_row": self.last_row, "last_seq": self.last_seq}))
        pointer = folder / f"CURRENT.{uuid.uuid4().hex}"
        pointer.write_text(snap.name)
        os.replace(pointer, folder / "CURRENT")
        for old in folder.iterdir():
            if old != snap and old.name.startswith("snap-"):
                shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def saved_seq(folder: Path) -> int:
        """The last removal the current snapshot holds (0: no snapshot)."""
        try:
            snap = folder / (folder / "CURRENT").read_text().strip()
            return int(json.loads((snap / "meta.json").read_text())["last_seq"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    @classmethod
    def load(cls, folder: Path) -> Postings | None:
        """The current snapshot (memory-mapped), or None when there is none or it cannot be read."""
        try:
            snap = folder / (folder / "CURRENT").read_text().strip()
            meta = json.loads((snap / "meta.json").read_text())
            arrays = {name: np.load(snap / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
            p = cls()
            p.indptr, p.docs, p.tfs = arrays["indptr"], arrays["docs"], arrays["tfs"]
            p.df = np.array(arrays["df"], np.int64)
            p.rows = np.asarray(arrays["rows"]).tolist()
            p.lengths = np.asarray(arrays["lengths"]).tolist()
            p.last_row, p.last_seq = int(meta["last_row"]), int(meta["last_seq"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if len(p.indptr) != len(p.df) + 1 or len(p.docs) != len(p.tfs) or len(p.rows) != len(p.lengths):
            return None
        p.alive = [True] * len(p.rows)
        p.by_row = {r: d for d, r in enumerate(p.rows)}
        p.n_base = p.n_alive = len(p.rows)
        p.total = float(sum(p.lengths))
        return p
