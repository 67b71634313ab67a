"""The LSH bands of the near-duplicate signatures (index/duplicates.py), stored in the manifest database.

MinHash LSH cuts each signature into b bands of r values; two articles are candidates when one band is equal in
both. datasketch's MinHashLSH keeps those bands in memory, so every process had to read every stored signature and
insert its bands before it could group one new article (~0.6 s at 3k articles, ~2 s at 9k): adding one article in
a fresh process (`newsrag ingest new.txt` every few minutes) cost time proportional to the index. Here each band is
a row (band, key, article id) of `near_duplicate_bands`, keyed by (band, key), so the candidates of one signature
are b index lookups, and only the candidates' signatures are read.

- b and r are datasketch's own choice for the LSH threshold and NUM_PERM (`MinHashLSH(...).b/.r`), so the
  candidates, and with them the groups, are the ones the in-memory LSH gave (tests/test_bands.py compares both).
- `key` is a 64-bit hash of the band's r values; a candidate is kept only when one of its bands really is equal
  (`shares_band`), so a hash collision can never add a candidate the LSH would not have proposed.
- The rows are written in the transaction that writes their signature and go with it (ON DELETE CASCADE from
  `near_duplicates`, which goes with its article): the bands always match the stored signatures.
- Meta `duplicate_bands` records the banding the rows were made with ("<LSH threshold> <b>x<r>"). An index whose
  rows were made otherwise (made before bands were stored, or under another NEWSRAG_DUPLICATE_THRESHOLD) has them
  made again from the stored signatures at its next write (`ensure`): no text is read, nothing is regrouped.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

META = "duplicate_bands"
TABLE = """
CREATE TABLE IF NOT EXISTS near_duplicate_bands (
    band INTEGER NOT NULL, key INTEGER NOT NULL,
    article_id TEXT NOT NULL REFERENCES near_duplicates(article_id) ON DELETE CASCADE,
    PRIMARY KEY (band, key, article_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS near_duplicate_bands_article ON near_duplicate_bands(article_id);
"""
FILL_BATCH = 2000  # signatures read per step when the rows are made again


@functools.lru_cache(maxsize=8)
def banding(lsh_threshold: float, num_perm: int) -> tuple[int, int]:
    """(b, r): the bands and rows per band datasketch's MinHashLSH chooses for this threshold (`_optimal_param`: the
    b x r <= num_perm that minimises the false positive plus false negative probability, equal weights). Its
    integrals are of polynomials of degree b * r <= num_perm, which Gauss-Legendre with num_perm // 2 + 1 nodes
    integrates exactly; datasketch uses scipy's quad (and its import, ~0.4 s). tests/test_bands.py checks both choose
    the same (b, r)."""
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def integral(f: Any, lo: float, hi: float) -> float:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        return float((hi - lo) / 2 * np.dot(weights, f(s)))

    best, choice = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = integral(lambda s: 1 - (1 - s ** float(r)) ** float(b), 0.0, lsh_threshold)  # noqa: B023
            fn = integral(lambda s: (1 - s ** float(r)) ** float(b), lsh_threshold, 1.0)  # noqa: B023
            error = 0.5 * fp + 0.5 * fn
            if error < best:
                best, choice = error, (b, r)
    return choice


def spec(lsh_threshold: float, b: int, r: int) -> str:
    return f"{lsh_threshold:.6g} {b}x{r}"


def parse(recorded: str | None, lsh_threshold: float) -> tuple[int, int] | None:
    """(b, r) from a recorded spec made for this threshold; None when it was made for another one (or never)."""
    try:
        threshold, shape = str(recorded).split(" ")
        b, r = (int(x) for x in shape.split("x"))
    except ValueError:
        return None
    return (b, r) if threshold == f"{lsh_threshold:.6g}" else None


def keys(sig: np.ndarray, b: int, r: int) -> list[tuple[int, int]]:
    """(band, key) of each of the signature's b bands: the key is a stable signed 64-bit hash of the band's values."""
    values = np.ascontiguousarray(sig[:b * r], dtype=np.uint32).reshape(b, r)
    return [(i, int.from_bytes(hashlib.blake2b(values[i].tobytes(), digest_size=8).digest(), "big", signed=True))
            for i in range(b)]


def shares_band(a: np.ndarray, c: np.ndarray, b: int, r: int) -> bool:
    """Is one band of a equal to that band of c (the LSH's candidate rule, without hashing)?"""
    return bool((a[:b * r].reshape(b, r) == c[:b * r].reshape(b, r)).all(axis=1).any())


def write(db: sqlite3.Connection, article_id: str, sig: np.ndarray, b: int, r: int) -> None:
    """The bands of one article's signature (inside the caller's transaction; replaces any it had)."""
    db.execute("DELETE FROM near_duplicate_bands WHERE article_id=?", (article_id,))
    db.executemany("INSERT INTO near_duplicate_bands (band, key, article_id) VALUES (?,?,?)",
                   [(band, key, article_id) for band, key in keys(sig, b, r)])


def candidates(db: sqlite3.Connection, sig: np.ndarray, b: int, r: int) -> list[sqlite3.Row]:
    """The stored articles that share a band with `sig`: (article_id, signature, group_id, date) rows, by id."""
    pairs = keys(sig, b, r)
    values = ",".join("(?,?)" for _ in pairs)
    rows = db.execute(
        f"SELECT d.article_id, d.signature, d.group_id, a.date FROM near_duplicates d JOIN articles a "
        f"ON a.id = d.article_id WHERE d.article_id IN (SELECT s.article_id FROM (VALUES {values}) v "
        f"JOIN near_duplicate_bands s ON s.band = v.column1 AND s.key = v.column2) ORDER BY d.article_id",
        [x for pair in pairs for x in pair]).fetchall()
    return [row for row in rows if shares_band(np.frombuffer(row[1], dtype=np.uint32), sig, b, r)]


def incomplete(db: sqlite3.Connection, b: int) -> list[str]:
    """Articles whose signature does not have exactly its b band rows (`newsrag verify`: it reads every row)."""
    return [r[0] for r in db.execute(
        "SELECT d.article_id FROM near_duplicates d LEFT JOIN (SELECT article_id, COUNT(*) AS n FROM "
        "near_duplicate_bands GROUP BY article_id) s ON s.article_id = d.article_id "
        "WHERE COALESCE(s.n, 0) != ? ORDER BY d.article_id", (b,))]


def fill(db: sqlite3.Connection, article_ids: Sequence[str] | None, b: int, r: int) -> int:
    """Make the band rows again from the stored signatures, of `article_ids` or (None) of every article, inside the
    caller's transaction; returns how many signatures were banded."""
    if article_ids is None:
        db.execute("DELETE FROM near_duplicate_bands")
        done, after = 0, ""
        while rows := db.execute("SELECT article_id, signature FROM near_duplicates WHERE article_id > ? "
                                 "ORDER BY article_id LIMIT ?", (after, FILL_BATCH)).fetchall():
            db.executemany("INSERT INTO near_duplicate_bands (band, key, article_id) VALUES (?,?,?)",
                           [(band, key, row[0]) for row in rows
                            for band, key in keys(np.frombuffer(row[1], dtype=np.uint32), b, r)])
            done, after = done + len(rows), rows[-1][0]
        return done
    for aid in article_ids:
        row = db.execute("SELECT signature FROM near_duplicates WHERE article_id=?", (aid,)).fetchone()
        if row is not None:
            write(db, aid, np.frombuffer(row[0], dtype=np.uint32), b, r)
    return len(article_ids)
