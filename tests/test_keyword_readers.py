"""Several processes (the workers of `newsrag serve --workers N`) read one keyword index while another one ingests.
The index lives in the manifest database and each reader catches up from what changed: a reader must never see half
a commit, never fail, and never need the writer's lock. (Threads with an index and a manifest connection each stand
in for the processes: SQLite isolates two connections of one process just as it does two processes.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.engine import Engine
from index.keyword import KeywordIndex
from index.lock import write_lock
from index.manifest import Manifest
from index.types import Article, Chunk

CHUNKS = 5


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll instead of sleeping a fixed time: CI machines are slow and loaded."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _article(n: int) -> tuple[Article, list[Chunk], list]:
    """An article of CHUNKS chunks, each naming the word 'zebrafinch' (and this version's number)."""
    parts = [f"Part {i}: the zebrafinch census, version {n}, counted birds in the park." for i in range(CHUNKS)]
    text = "\n\n".join(parts)
    article = Article(id="census", title="Zebrafinch census", text=text)
    chunks, start = [], 0
    for i, part in enumerate(parts):
        start = text.index(part, start)
        chunks.append(Chunk(id=f"census:{article.sha256[:10]}:{i}", article_id="census", ordinal=i, start=start,
                            end=start + len(part), text=part))
    return article, chunks, []


def test_readers_see_whole_commits_while_a_writer_adds_updates_and_removes(sample_engine: Engine) -> None:
    data_dir = Path(sample_engine.settings.data_dir)
    manifest = sample_engine.manifest
    errors: list[BaseException] = []
    seen: list[int] = []  # how many chunks of the census article each query saw
    kerry: list[int] = []
    done = threading.Event()

    def reader() -> None:
        index = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))
        while not done.is_set():
            try:
                seen.append(len([c for c, _ in index.query("zebrafinch census", 50) if c.startswith("census:")]))
                kerry.append(len(index.query("Kerry Assad", 5)))
            except BaseException as exc:  # any failure is the finding
                errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    late: KeywordIndex | None = None
    try:
        with write_lock(data_dir):  # an ingest: add, update (new chunks replace old ones in one commit), remove
            deadline, n = time.monotonic() + 3, 0
            while time.monotonic() < deadline:
                manifest.commit([_article(n)])
                n += 1
                if n % 3 == 0:
                    manifest.remove("census")
                if n == 10:
                    late = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))  # a worker starting now
                    assert late.query("Kerry Assad", 5)
                time.sleep(0.005)
            before = len(seen)
            assert _eventually(lambda: len(seen) > before + 4)  # readers keep answering while the writer holds the lock
            manifest.commit([_article(n)])
            assert _eventually(lambda: seen[-1] == CHUNKS)  # the last commit is visible before the writer is done
    finally:
        done.set()
        for t in readers:
            t.join(timeout=30)
    assert not errors, errors[:3]
    assert set(seen) <= {0, CHUNKS}, sorted(set(seen))  # all of an article's chunks, or none: never half a commit
    assert CHUNKS in seen and 0 in seen
    assert kerry and min(kerry) > 0  # every query found the Kerry passages
    assert late is not None and late.query("zebrafinch", 50)
    assert sample_engine.keyword.stored_ids() == manifest.chunk_ids()
