"""The near-duplicate LSH bands stored in the manifest (index/bands.py): the same groups as datasketch's in-memory
MinHashLSH gave, rows that always match the signatures (add, update, remove, a killed write, verify --repair), the
migration of an index that has signatures but no bands, and no stored signature read to group one new article."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from app.engine import Engine
from index import bands
from index.duplicates import (
    CANDIDATE_FACTOR,
    NUM_PERM,
    SCHEME,
    SEED,
    DuplicateGroups,
    close_in_time,
    signature,
    similarity,
)
from index.manifest import Manifest
from index.types import Article

WORDS = [f"w{i}" for i in range(3000)]


def corpus(n_stories: int = 60, seed: int = 7) -> list[Article]:
    """Stories of ~150 random words, each with 0-5 copies edited at 1-12% of their words (so that some copies are
    just above the threshold and the banding misses some), dated within 40 days, in shuffled order."""
    rng = random.Random(seed)
    out: list[Article] = []
    for s in range(n_stories):
        base = [rng.choice(WORDS) for _ in range(rng.randint(80, 220))]
        day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 40))
        versions = [base]
        for _ in range(rng.randint(0, 5)):
            rate = rng.uniform(0.01, 0.12)
            versions.append([rng.choice(WORDS) if rng.random() < rate else w for w in base])
        for v, words in enumerate(versions):
            when = day + timedelta(days=rng.randint(0, 20))
            out.append(Article(id=f"s{s:03d}-{v}", title=f"story {s} v{v}", text=" ".join(words),
                               date=None if rng.random() < 0.1 else when.isoformat()))
    rng.shuffle(out)
    return out


def reference(articles: list[Article], threshold: float, batches: int) -> tuple[dict[str, int], int]:
    """The grouping of index/duplicates.py before bands were stored (commit ed1d3c5): a datasketch MinHashLSH over
    every signature, articles signed in id order per ingest. Returns (article id -> group id, how many pairs above
    the threshold the LSH did not propose: > 0 shows the comparison can tell the banding apart)."""
    from datasketch import LeanMinHash, MinHashLSH

    lsh = MinHashLSH(threshold=max(0.05, threshold * CANDIDATE_FACTOR), num_perm=NUM_PERM)
    group: dict[str, int] = {}
    sigs: dict[str, np.ndarray] = {}
    dates: dict[str, str | None] = {}
    missed = 0
    for part in np.array_split(np.arange(len(articles)), batches):
        next_group = max(group.values(), default=0) + 1
        for a in sorted((articles[i] for i in part), key=lambda a: a.id):
            sig = signature(a.text)
            found = lsh.query(LeanMinHash(seed=SEED, hashvalues=sig, scheme=SCHEME))
            missed += sum(1 for m in sigs if m not in found and similarity(sigs[m], sig) >= threshold)
            matches = [m for m in found if similarity(sigs[m], sig) >= threshold and close_in_time(dates[m], a.date)]
            joined = sorted({group[m] for m in matches})
            if joined:
                target = joined[0]
                for member, g in group.items():
                    if g in joined[1:]:
                        group[member] = target
            else:
                target, next_group = next_group, next_group + 1
            group[a.id], sigs[a.id], dates[a.id] = target, sig, a.date
            lsh.insert(a.id, LeanMinHash(seed=SEED, hashvalues=sig, scheme=SCHEME))
    return group, missed


def stored(path: Path, articles: list[Article], threshold: float, batches: int) -> Manifest:
    """`articles` committed in `batches` ingests, each grouped by a new DuplicateGroups (a new process)."""
    manifest = Manifest(path / "manifest.sqlite")
    for part in np.array_split(np.arange(len(articles)), batches):
        manifest.commit([(articles[i], [], []) for i in part])
        DuplicateGroups(Manifest(path / "manifest.sqlite"), threshold).refresh()
    return manifest


def groups_of(manifest: Manifest) -> dict[str, int]:
    return {r[0]: r[1] for r in manifest.db.execute("SELECT article_id, group_id FROM near_duplicates")}


def consistent(manifest: Manifest, threshold: float = 0.5) -> None:
    """Every signature has exactly its b band rows, and they are its bands."""
    b, r = bands.banding(max(0.05, threshold * CANDIDATE_FACTOR), NUM_PERM)
    assert bands.incomplete(manifest.db, b) == []
    want = {(band, key, aid) for aid, sig in manifest.db.execute("SELECT article_id, signature FROM near_duplicates")
            for band, key in bands.keys(np.frombuffer(sig, dtype=np.uint32), b, r)}
    assert {tuple(r) for r in manifest.db.execute("SELECT band, key, article_id FROM near_duplicate_bands")} == want


@pytest.mark.parametrize(("threshold", "batches"), [(0.5, 1), (0.5, 4), (0.3, 3), (0.8, 2)])
def test_groups_are_the_in_memory_lsh_groups(tmp_path: Path, threshold: float, batches: int) -> None:
    articles = corpus()
    want, missed = reference(articles, threshold, batches)
    manifest = stored(tmp_path, articles, threshold, batches)
    assert groups_of(manifest) == want  # the same partition, with the same group ids
    assert len(set(want.values())) < len(articles) - 20  # many copies were grouped ...
    if threshold == 0.5:
        assert missed > 0  # ... and the banding, not a comparison of every pair, proposed the candidates
    consistent(manifest, threshold)


def test_a_new_process_groups_one_article_without_reading_the_stored_signatures(tmp_path: Path) -> None:
    """Building datasketch's LSH read every stored signature and inserted its bands in each new process (~0.6 s at
    3k articles, ~2 s at 9k): adding one article cost time proportional to the index."""
    articles = corpus(30)
    copy = next(a for a in articles if a.id.endswith("-0"))
    manifest = stored(tmp_path, articles, 0.5, 1)
    manifest.commit([(Article(id="late", title="late copy", text=copy.text + " trailer", date=copy.date), [], [])])
    fresh = Manifest(tmp_path / "manifest.sqlite")
    groups = DuplicateGroups(fresh, 0.5)

    reads: list[str] = []
    fresh.db.set_trace_callback(reads.append)
    assert groups.refresh() == []
    fresh.db.set_trace_callback(None)
    signature_reads = [s for s in reads if "signature" in s and s.lstrip().startswith("SELECT")]
    assert signature_reads and all("near_duplicate_bands s ON s.band" in s or "WHERE article_id='late'" in s
                                   for s in signature_reads), signature_reads  # the candidates' and its own only
    assert not [s for s in reads if "NOT EXISTS" in s or "GROUP BY" in s]  # no scan of the articles either
    assert copy.id in groups.of(["late"])["late"]
    consistent(fresh)


def ingest(engine: Engine, folder: Path, records: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "news.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert engine.ingest([folder / "news.jsonl"]).ok


def records(n: int = 12) -> list[dict]:
    return [{"id": a.id, "title": a.title, "text": a.text, "date": a.date} for a in corpus(n, seed=3)]


def test_bands_follow_adds_updates_and_removals(engine: Engine, tmp_path: Path) -> None:
    rows = records()
    ingest(engine, tmp_path / "a", rows)
    consistent(engine.manifest)
    before = engine.manifest.db.execute("SELECT COUNT(*) FROM near_duplicate_bands").fetchone()[0]
    assert before == 32 * engine.manifest.count()  # b = 32 bands of r = 4 values at the default threshold
    rows[0]["text"] = " ".join(reversed(rows[0]["text"].split()))  # an update: signed and banded again
    ingest(engine, tmp_path / "a", rows)
    consistent(engine.manifest)
    engine.remove(rows[1]["id"])
    consistent(engine.manifest)
    assert not engine.manifest.db.execute("SELECT 1 FROM near_duplicate_bands WHERE article_id=?",
                                          (rows[1]["id"],)).fetchone()
    assert engine.verify().clean


def test_an_index_with_signatures_but_no_bands_is_banded_at_the_next_write(engine: Engine, tmp_path: Path) -> None:
    rows = records()
    ingest(engine, tmp_path / "a", rows)
    db = engine.manifest.db
    groups_before = groups_of(engine.manifest)
    signatures = dict(db.execute("SELECT article_id, signature FROM near_duplicates"))
    db.execute("DROP TABLE near_duplicate_bands")  # as a newsrag from before bands left it
    db.execute("DELETE FROM meta WHERE key=?", (bands.META,))
    assert engine.groups is not None
    engine.groups = DuplicateGroups(engine.manifest, engine.settings.duplicate_threshold)  # the next process
    report = engine.verify()
    assert not report.clean and report.bands_missing == len(signatures)
    copy = next(r for r in rows if r["id"].endswith("-0"))
    late = {**copy, "id": "late", "title": "late copy", "text": copy["text"] + " trailer"}
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "late.json").write_text(json.dumps(late))
    done = engine.ingest([tmp_path / "b" / "late.json"])
    assert any(f"near-duplicate bands of {len(signatures)} signatures" in r for r in done.repaired), done.repaired
    consistent(engine.manifest)
    kept = dict(db.execute("SELECT article_id, signature FROM near_duplicates WHERE article_id != 'late'"))
    assert kept == signatures
    assert {a: g for a, g in groups_of(engine.manifest).items() if a != "late"} == groups_before
    assert copy["id"] in engine.groups.of(["late"])["late"]
    assert engine.verify().clean


def test_verify_notices_missing_bands_and_repair_makes_them(engine: Engine, tmp_path: Path) -> None:
    ingest(engine, tmp_path / "a", records())
    db = engine.manifest.db
    want = {tuple(r) for r in db.execute("SELECT band, key, article_id FROM near_duplicate_bands")}
    victim = next(iter(want))[2]
    db.execute("DELETE FROM near_duplicate_bands WHERE article_id=? AND band < 5", (victim,))
    report = engine.verify()
    assert not report.clean and report.bands_missing == 1 and "band rows" in report.summary()
    repaired = engine.verify(repair=True)
    assert repaired.clean and repaired.repaired == ["made the near-duplicate bands of 1 articles again"]
    assert {tuple(r) for r in db.execute("SELECT band, key, article_id FROM near_duplicate_bands")} == want


KILL = """
import os, sys
from pathlib import Path
import index.duplicates as d
from index.manifest import Manifest
real, n = d.signature, []
def dying(text):
    n.append(1)
    if len(n) == 3:
        os._exit(9)  # killed in the middle of grouping: no rollback runs, SQLite's journal undoes it
    return real(text)
d.signature = dying
d.DuplicateGroups(Manifest(Path(sys.argv[1])), 0.5).refresh()
"""


def test_a_killed_grouping_leaves_no_signature_without_bands(tmp_path: Path) -> None:
    articles = corpus(10)
    manifest = Manifest(tmp_path / "manifest.sqlite")
    manifest.commit([(a, [], []) for a in articles])
    done = subprocess.run([sys.executable, "-c", KILL, str(tmp_path / "manifest.sqlite")], timeout=120)
    assert done.returncode == 9
    assert groups_of(Manifest(tmp_path / "manifest.sqlite")) == {}  # all or nothing
    DuplicateGroups(Manifest(tmp_path / "manifest.sqlite"), 0.5).refresh()
    fresh = Manifest(tmp_path / "manifest.sqlite")
    assert groups_of(fresh) == reference(articles, 0.5, 1)[0]
    consistent(fresh)


def test_a_signature_written_without_bands_is_banded_not_regrouped(engine: Engine, tmp_path: Path) -> None:
    """A newsrag that stored no bands, writing into an index that has them: its signatures are queued by the
    trigger (the schema's, so it fires on that newsrag's connection too) and banded at the next write."""
    rows = records()
    ingest(engine, tmp_path / "a", rows)
    db = engine.manifest.db
    victim = rows[2]["id"]
    assert engine.groups is not None
    members = engine.groups.of([victim]).get(victim)
    sig = db.execute("SELECT signature FROM near_duplicates WHERE article_id=?", (victim,)).fetchone()[0]
    db.execute("DELETE FROM near_duplicates WHERE article_id=?", (victim,))
    db.execute("INSERT INTO near_duplicates (article_id, signature, group_id) VALUES (?,?,?)", (victim, sig, 999))
    assert engine.verify().bands_missing == 1
    assert engine.groups.refresh() == []
    assert db.execute("SELECT group_id FROM near_duplicates WHERE article_id=?", (victim,)).fetchone()[0] == 999
    consistent(engine.manifest)
    db.execute("DELETE FROM near_duplicates WHERE article_id=?", (victim,))
    db.execute("DELETE FROM near_duplicate_todo")  # neither signed nor queued: only verify can see it
    report = engine.verify()
    assert report.bands_missing == 1 and not report.clean
    assert engine.verify(repair=True).clean
    assert engine.groups.of([victim]).get(victim) == members  # grouped again as before
    consistent(engine.manifest)


def test_signatures_are_datasketchs_value_for_value() -> None:
    """index/duplicates.py computes datasketch's affine32 MinHash with numpy (datasketch's package imports scipy):
    stored signatures stay comparable with those written before."""
    from datasketch import MinHash

    rng = random.Random(3)
    words = "the a of Trump said Kerry Assad Syria court vote 2026 é ü 東京 naïve O'Neill".split()
    for n in (0, 1, 4, 5, 6, 40, 3000):
        text = " ".join(rng.choice(words) for _ in range(n))
        tokens = re.findall(r"\w+", text.lower())
        shingles = {" ".join(tokens[i:i + 5]) for i in range(max(1, len(tokens) - 4))}
        theirs = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
        theirs.update_batch([s.encode("utf-8") for s in shingles])
        assert np.array_equal(signature(text), np.asarray(theirs.hashvalues, dtype=np.uint32)), n


def test_banding_is_datasketchs_choice_at_every_threshold() -> None:
    from datasketch.lsh import _optimal_param

    for num_perm in (NUM_PERM, 64):
        for i in range(1, 100):
            assert bands.banding.__wrapped__(i / 100, num_perm) == _optimal_param(i / 100, num_perm, 0.5, 0.5), i
