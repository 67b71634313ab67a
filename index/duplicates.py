"""Near-duplicate articles (syndicated copies): the same wire story from several outlets, or republished with a
new headline, byline, dateline or trailing paragraph. Grouped after each ingest so that retrieval shows a story once
and the citation lists the other outlets ("also in: ...").

Each article gets a MinHash signature (datasketch 2.0's affine32 scheme, computed with numpy) of its lower-cased
word 5-shingles; the LSH bands of the stored signatures (rows in the manifest: index/bands.py) propose candidates,
and a candidate joins the article's group when the estimated Jaccard similarity is at least
NEWSRAG_DUPLICATE_THRESHOLD and the two were published at most MAX_DAYS_APART apart (when both are dated). The date
rule keeps apart what the text alone would join on the RealTime QA corpus: yearly refreshes of a page ("Spring break
2024" / "2025": 0.77) and two betting pages that share only a long disclaimer (0.71, 74 days apart).
Groups are transitive (unions of pairs).

The `near_duplicates` table (article id, signature, group) lives in the manifest and is owned here. A row goes with
its article (ON DELETE CASCADE), so a changed article is signed and grouped again; an article indexed before
grouping existed is signed at the next ingest. What is to be signed is
queued (`near_duplicate_todo`) by triggers in the transaction that writes the article, so grouping one new article
reads the queue, its candidates and the groups it joins: never every article or signature, and its cost does not
grow with the index (an index from before the queue is scanned once, when its bands are made).
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import numpy as np

from index import bands
from index.lock import write_lock
from index.manifest import Manifest, Transaction
from index.types import VerifyReport

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
CREATE TABLE IF NOT EXISTS near_duplicate_todo (
    article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS near_duplicate_todo_article AFTER INSERT ON articles BEGIN
    INSERT OR IGNORE INTO near_duplicate_todo (article_id) VALUES (NEW.id); END;
CREATE TRIGGER IF NOT EXISTS near_duplicate_todo_signature AFTER INSERT ON near_duplicates BEGIN
    INSERT OR IGNORE INTO near_duplicate_todo (article_id) VALUES (NEW.article_id); END;
"""


def signature(text: str) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 values) of the text's lower-cased word 5-shingles: datasketch 2.0's
    `MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")` after `update_batch` of the UTF-8 shingles, value for
    value (tests/test_bands.py compares them). Computed here with numpy: datasketch's package imports scipy
    (~0.4 s of every ingest process) for LSH tuning we never use."""
    words = _WORD.findall(text.lower())
    shingles = {" ".join(words[i:i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    hashed = np.frombuffer(b"".join(hashlib.sha1(s.encode("utf-8")).digest()[:4] for s in shingles), dtype="<u4")
    a, b = _permutations()
    with np.errstate(over="ignore"):  # the arithmetic is modulo 2^32 by design
        permuted = _fmix32(hashed).reshape(-1, 1) * a + b
    return np.minimum(np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32), permuted.min(axis=0))


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations h -> a * h + b (mod 2^32), a odd, drawn from RandomState(SEED)."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch mixes each hash with it before the permutations)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


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
        self.db.executescript(TABLE + bands.TABLE)

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

    def keys(self, article_ids: Iterable[str]) -> dict[str, str]:
        """For each given article that has been grouped: a key its copies share and no other article has (its
        group's id, after a NUL that no article id holds), which stands for the group in the per-article cap. One
        primary-key read per article, however large its group (`of` returns every member; the group's first
        member, as a join, read each member of each candidate's group: ~3 ms a question over 27 copies a story);
        an article not yet grouped has no key."""
        ids = list(set(article_ids))
        if not ids or self.threshold <= 0:
            return {}
        marks = ",".join("?" * len(ids))
        return {r[0]: f"\0group {r[1]}" for r in self.db.execute(
            f"SELECT article_id, group_id FROM near_duplicates WHERE article_id IN ({marks})", ids)}

    def count(self) -> tuple[int, int]:
        """(groups of two or more, articles in them)."""
        row = self.db.execute("SELECT COUNT(*), COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM near_duplicates "
                              "GROUP BY group_id HAVING n > 1)").fetchone()
        return int(row[0]), int(row[1])

    # -- writes (after an ingest, under the write lock) -----------------------------------------------
    def refresh(self) -> list[str]:
        """Sign, group and band what is queued in `near_duplicate_todo`, in one transaction; returns what was done
        beyond that (band rows made again). The queue is filled by triggers in the transaction that writes an
        article (or, by a newsrag that stores no bands, a signature), so it reads only what changed: no scan of the
        articles, no stored signature but the candidates', no LSH built."""
        if self.threshold <= 0:
            return []
        recorded = bands.parse(self.manifest.meta(bands.META), self.lsh_threshold)
        if recorded is not None and not self.db.execute("SELECT 1 FROM near_duplicate_todo LIMIT 1").fetchone():
            return []
        done: list[str] = []
        with Transaction(self.db):
            t0 = time.perf_counter()
            (b, r), remade = self._banding()
            if remade:
                done.append(f"made the near-duplicate bands of {remade} signatures ({time.perf_counter() - t0:.1f} s, "
                            "once)")
            top = self.db.execute("SELECT COALESCE(MAX(group_id), 0) FROM near_duplicates").fetchone()[0]
            next_group = int(top) + 1
            for (aid,) in self.db.execute("SELECT article_id FROM near_duplicate_todo ORDER BY article_id").fetchall():
                old = self.db.execute("SELECT signature FROM near_duplicates WHERE article_id=?", (aid,)).fetchone()
                if old:  # signed and grouped by a newsrag that stored no bands
                    bands.write(self.db, aid, np.frombuffer(old[0], dtype=np.uint32), b, r)
                    continue
                row = self.db.execute("SELECT date, text FROM articles WHERE id=?", (aid,)).fetchone()
                sig = signature(row["text"])
                matches = [m for m in bands.candidates(self.db, sig, b, r)
                           if similarity(np.frombuffer(m[1], dtype=np.uint32), sig) >= self.threshold
                           and close_in_time(m[3], row["date"])]
                joined = sorted({int(m[2]) for m in matches})
                if joined:  # it joins the oldest group it matches, and bridges the others into it
                    target = joined[0]
                    if len(joined) > 1:
                        marks = ",".join("?" * (len(joined) - 1))
                        self.db.execute(f"UPDATE near_duplicates SET group_id=? WHERE group_id IN ({marks})",
                                        [target, *joined[1:]])
                else:
                    target, next_group = next_group, next_group + 1
                self.db.execute("INSERT INTO near_duplicates (article_id, signature, group_id) VALUES (?,?,?)",
                                (aid, sig.tobytes(), target))
                bands.write(self.db, aid, sig, b, r)
            self.db.execute("DELETE FROM near_duplicate_todo")
        return done

    @property
    def lsh_threshold(self) -> float:
        return max(0.05, self.threshold * CANDIDATE_FACTOR)

    def _unqueued(self) -> str:
        """The articles with no signature that are not queued either (indexed before the queue existed)."""
        return ("SELECT a.id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM near_duplicates d WHERE d.article_id = "
                "a.id) AND NOT EXISTS (SELECT 1 FROM near_duplicate_todo t WHERE t.article_id = a.id)")

    def _banding(self) -> tuple[tuple[int, int], int]:
        """(b, r) for the threshold, and how many signatures had their band rows made again (inside the write
        transaction) because the stored rows were made for another banding or before bands were stored."""
        recorded = bands.parse(self.manifest.meta(bands.META), self.lsh_threshold)
        if recorded is not None:
            return recorded, 0
        b, r = bands.banding(self.lsh_threshold, NUM_PERM)
        remade = bands.fill(self.db, None, b, r)
        self.db.execute(f"INSERT INTO near_duplicate_todo (article_id) {self._unqueued()}")  # one scan of the ids
        self.manifest.set_meta(bands.META, bands.spec(self.lsh_threshold, b, r))
        return (b, r), remade

    def verify(self, report: VerifyReport, repair: bool, data_dir: Path) -> VerifyReport:
        """`newsrag verify`: counts into `report` the articles whose grouping is incomplete (see `check`); with
        repair, completes it under the write lock."""
        report.bands_missing = self.check()[0]
        if repair and report.bands_missing:
            with write_lock(data_dir):
                report.repaired += self.check(repair=True)[1]
            report.bands_missing = self.check()[0]
        return report

    def check(self, repair: bool = False) -> tuple[int, list[str]]:
        """(articles whose grouping is incomplete, what was repaired) for `newsrag verify`: signatures without their
        band rows (written by a newsrag that stored no bands) and articles neither signed nor queued. With repair
        (the caller holds the write lock) the rows are made from the stored signatures, the articles queued and
        grouped. It reads every row: verify's cost, never an ingest's."""
        if self.threshold <= 0:
            return 0, []
        recorded = bands.parse(self.manifest.meta(bands.META), self.lsh_threshold)
        missing = (bands.incomplete(self.db, recorded[0]) if recorded is not None
                   else [r[0] for r in self.db.execute("SELECT article_id FROM near_duplicates")])
        unqueued = [r[0] for r in self.db.execute(self._unqueued())]
        if not (repair and (missing or unqueued)):
            return len(missing) + len(unqueued), []
        with Transaction(self.db):
            if recorded is not None:
                bands.fill(self.db, missing, *recorded)
            self.db.execute(f"INSERT INTO near_duplicate_todo (article_id) {self._unqueued()}")
        self.refresh()
        return len(missing) + len(unqueued), [f"made the near-duplicate bands of {len(missing)} articles again"
                                              + (f", grouped {len(unqueued)} articles" if unqueued else "")]
