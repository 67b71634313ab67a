"""Near-duplicate articles (syndicated copies): the same wire story from several outlets, or republished with a
new headline, byline, dateline or trailing paragraph. Grouped after each ingest so that retrieval shows a story once
and the citation lists the other outlets ("also in: ...").

Each article gets a MinHash signature (datasketch) of its lower-cased word 5-shingles; an LSH index over the stored
signatures proposes candidates, and a candidate joins the article's group when the estimated Jaccard similarity is
at least NEWSRAG_DUPLICATE_THRESHOLD and the two were published at most MAX_DAYS_APART apart (when both are dated).
The date rule keeps apart what the text alone would join on the RealTime QA corpus: yearly refreshes of a page
("Spring break 2024" / "2025": 0.77) and two betting pages that share only a long disclaimer (0.71, 74 days apart).
Groups are transitive (unions of pairs).

The `near_duplicates` table (article id, signature, group) lives in the manifest and is owned here. A row goes with
its article (ON DELETE CASCADE), so a changed article is signed and grouped again; an article indexed before
grouping existed is signed at the next ingest. Reading the groups needs no datasketch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np

from index.manifest import Manifest, Transaction

NUM_PERM = 128
SHINGLE_WORDS = 5
MAX_DAYS_APART = 14
SEED = 1
SCHEME = "affine32"  # datasketch 2.0's default, named so that stored signatures stay comparable
CANDIDATE_FACTOR = 0.8  # LSH banding misses some pairs just above its threshold: ask for candidates below it
_WORD = re.compile(r"\w+")

TABLE = """
CREATE TABLE IF NOT EXISTS near_duplicates (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE, signature BLOB NOT NULL,
    group_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS near_duplicates_group ON near_duplicates(group_id);
"""


def signature(text: str) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 values) of the text's lower-cased word 5-shingles."""
    from datasketch import MinHash  # numpy + scipy: imported at ingest only

    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    m.update_batch([s.encode("utf-8") for s in shingles])
    return np.asarray(m.hashvalues, dtype=np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two shingle sets: the share of equal MinHash values."""
    return float(np.count_nonzero(a == b)) / len(a)


def close_in_time(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return True  # an undated article is judged by its text alone
    try:
        return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days) <= MAX_DAYS_APART
    except ValueError:
        return True


class DuplicateGroups:
    def __init__(self, manifest: Manifest, threshold: float):
        self.manifest, self.threshold = manifest, threshold
        self.db = manifest.db
        self.db.executescript(TABLE)
        self._lsh: Any = None  # the LSH over the stored signatures, kept between ingests (see _sync)
        self._indexed: dict[str, bytes] = {}  # article id -> the signature it has in self._lsh

    # -- reads (retrieval) ----------------------------------------------------------------------------
    def of(self, article_ids: Iterable[str]) -> dict[str, list[str]]:
        """For each given article in a group of two or more: every member of its group, itself included."""
        ids = list(set(article_ids))
        if not ids or self.threshold <= 0:  # grouping switched off
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT d.article_id AS asked, m.article_id AS member FROM near_duplicates d JOIN near_duplicates m "
            f"ON m.group_id = d.group_id WHERE d.article_id IN ({marks}) ORDER BY m.article_id", ids).fetchall()
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(r["asked"], []).append(r["member"])
        return {a: members for a, members in out.items() if len(members) > 1}

    def count(self) -> tuple[int, int]:
        """(groups of two or more, articles in them)."""
        row = self.db.execute("SELECT COUNT(*), COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM near_duplicates "
                              "GROUP BY group_id HAVING n > 1)").fetchone()
        return int(row[0]), int(row[1])

    # -- writes (after an ingest, under the write lock) -----------------------------------------------
    def refresh(self) -> int:
        """Sign and group every article that has no signature yet; returns how many were signed."""
        from datasketch import LeanMinHash, MinHashLSH  # numpy + scipy: imported at ingest only

        todo = self.db.execute("SELECT a.id, a.date, a.text FROM articles a LEFT JOIN near_duplicates d "
                               "ON d.article_id = a.id WHERE d.article_id IS NULL ORDER BY a.id").fetchall()
        if not todo or self.threshold <= 0:
            return 0
        sigs: dict[str, np.ndarray] = {}
        dates: dict[str, str | None] = {}
        group: dict[str, int] = {}
        stored: dict[str, bytes] = {}
        for r in self.db.execute("SELECT d.article_id, d.signature, d.group_id, a.date FROM near_duplicates d "
                                 "JOIN articles a ON a.id = d.article_id"):
            stored[r[0]], group[r[0]], dates[r[0]] = r[1], r[2], r[3]
            sigs[r[0]] = np.frombuffer(r[1], dtype=np.uint32)
        lsh = self._sync(stored, MinHashLSH, LeanMinHash)
        next_group = max(group.values(), default=0) + 1
        changed: set[str] = set()
        for row in todo:
            aid, sig = row["id"], signature(row["text"])
            found = lsh.query(LeanMinHash(seed=SEED, hashvalues=sig, scheme=SCHEME))
            matches = [m for m in found if similarity(sigs[m], sig) >= self.threshold
                       and close_in_time(dates[m], row["date"])]
            joined = sorted({group[m] for m in matches})
            if joined:  # it joins the oldest group it matches, and bridges the others into it
                target = joined[0]
                for member, g in group.items():
                    if g in joined[1:]:
                        group[member] = target
                        changed.add(member)
            else:
                target, next_group = next_group, next_group + 1
            group[aid], sigs[aid], dates[aid] = target, sig, row["date"]
            changed.add(aid)
            lsh.insert(aid, LeanMinHash(seed=SEED, hashvalues=sig, scheme=SCHEME))
            self._indexed[aid] = sig.tobytes()
        with Transaction(self.db):
            self.db.executemany(
                "INSERT INTO near_duplicates (article_id, signature, group_id) VALUES (?,?,?) ON CONFLICT(article_id) "
                "DO UPDATE SET signature = excluded.signature, group_id = excluded.group_id",
                [(a, sigs[a].tobytes(), group[a]) for a in sorted(changed)])
        return len(todo)

    def _sync(self, stored: dict[str, bytes], lsh_class: Any, minhash_class: Any) -> Any:
        """The LSH over `stored` (article id -> signature), brought up to date from the one this object kept:
        signatures that are new or changed (an article updated, here or by another process) go in, those of
        removed articles come out. Building it afresh inserted every article's bands on every ingest: ~2 s at 9k
        articles, so adding one article cost time proportional to the index (the bench's add-one-article)."""
        if self._lsh is None:
            self._lsh = lsh_class(threshold=max(0.05, self.threshold * CANDIDATE_FACTOR), num_perm=NUM_PERM)
            self._indexed = {}
        for aid in [a for a, sig in self._indexed.items() if stored.get(a) != sig]:
            self._lsh.remove(aid)
            del self._indexed[aid]
        for aid, sig in stored.items():
            if aid not in self._indexed:
                self._lsh.insert(aid, minhash_class(seed=SEED, hashvalues=np.frombuffer(sig, dtype=np.uint32),
                                                    scheme=SCHEME))
                self._indexed[aid] = sig
        return self._lsh
