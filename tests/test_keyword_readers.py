"""Several processes (the workers of `newsrag serve --workers N`) read one keyword index while another one ingests:
a reader that finds the persisted index stale must never race the writer or other readers rebuilding it. (Threads
with an index and a manifest connection each stand in for the processes: the write lock is a flock, which two
open files of one process contend for just as two processes do.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.engine import Engine
from index.keyword import KeywordIndex
from index.lock import write_lock
from index.manifest import Manifest

BUMP = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"


def _eventually(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll instead of sleeping a fixed time: CI machines are slow and loaded."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_stale_readers_never_collide_with_each_other_or_a_writer(sample_engine: Engine) -> None:
    data_dir = Path(sample_engine.settings.data_dir)
    manifest, keyword = sample_engine.manifest, sample_engine.keyword
    errors: list[BaseException] = []
    hits: list[int] = []
    done = threading.Event()

    def reader() -> None:
        index = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))
        while not done.is_set():
            try:
                hits.append(len(index.query("Kerry Assad", 5)))
            except BaseException as exc:  # any failure is the finding
                errors.append(exc)

    manifest.db.execute(BUMP)  # an ingest was killed after its commit: the persisted index is stale, no writer
    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        assert _eventually(lambda: keyword.stored_ids() is not None)  # one reader rebuilt it, under the write lock
        with write_lock(data_dir):  # an ingest commits batch after batch, each a new generation
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline:
                manifest.db.execute(BUMP)
                time.sleep(0.01)
            before = len(hits)
            assert _eventually(lambda: len(hits) > before + 4)  # readers keep answering from the index they have ...
            assert keyword.stored_ids() is None  # ... and leave the persisting to the writer
            fresh = KeywordIndex(data_dir, Manifest(data_dir / "manifest.sqlite"))  # a worker that starts now
            assert fresh.query("Kerry Assad", 5)
            assert fresh._generation < manifest.generation()  # it loaded the stale copy instead of rebuilding
            keyword.rebuild()
        time.sleep(0.3)
    finally:
        done.set()
        for t in readers:
            t.join(timeout=30)
    assert not errors, errors[:3]
    assert hits and min(hits) > 0  # every query found the Kerry passages
    assert keyword.stored_ids() is not None
