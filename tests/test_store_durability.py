"""The feedback store (app/quality/feedback.py) and the human-ratings store (app/quality/ratings.py) under concurrent
writers in threads and processes, and after a writer is SIGKILLed mid-stream: WAL mode, every committed row kept, the
file intact, and the next writer not blocked by a lock the dead process held."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.store_writer import open_store, write

KINDS = ["feedback", "ratings"]
THREADS, PROCESSES, EACH = 8, 2, 50


def keys(kind: str, path: Path) -> list[str]:
    """What the writers wrote, read straight from SQLite (feedback: questions; ratings: raters)."""
    query = "SELECT question FROM feedback" if kind == "feedback" else "SELECT rater FROM answer_ratings"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        return [row[0] for row in db.execute(query)]


def writer_process(kind: str, path: Path, tag: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.store_writer", kind, str(path), tag, str(n)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_writers_in_threads_and_processes(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.sqlite"
    store = open_store(kind, path, create=True)
    procs = [writer_process(kind, path, f"p{p}", EACH) for p in range(PROCESSES)]
    failures: list[BaseException] = []

    def in_thread(t: int) -> None:
        try:
            for i in range(EACH):
                write(store, kind, f"t{t}-{i}")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=in_thread, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert failures == []
    expected = {f"{w}-{i}" for w in [*(f"t{t}" for t in range(THREADS)), *(f"p{p}" for p in range(PROCESSES))]
                for i in range(EACH)}
    got = keys(kind, path)
    assert len(got) == len(expected) and set(got) == expected
    print(f"\n{kind}: {THREADS} threads + {PROCESSES} processes x {EACH} writes: all {len(got)} rows present")


@pytest.mark.parametrize("kind", KINDS)
def test_a_killed_writer_loses_no_committed_row(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.sqlite"
    store = open_store(kind, path, create=True)
    rng, committed, total_kills = random.Random(11), set(), 3
    for k in range(total_kills):
        proc = writer_process(kind, path, f"k{k}", 100_000)
        stop_after = rng.randint(5, 40)
        assert proc.stdout is not None
        acknowledged = [proc.stdout.readline() for _ in range(stop_after)]  # each line: a row committed
        time.sleep(rng.uniform(0, 0.02))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # the rest through the same file object: readline() may have read lines ahead into its buffer, which
        # communicate() (reading the pipe's descriptor) would never see: under load two rows looked uncommitted
        rest = proc.stdout.read()
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        done = [int(x) for x in acknowledged + rest.split() if x.strip()]
        committed |= {f"k{k}-{i}" for i in done}
        got = set(keys(kind, path))
        assert committed <= got, sorted(committed - got)[:5]
        in_flight = {x for x in got if x.startswith(f"k{k}-")} - committed
        assert len(in_flight) <= 1, in_flight  # at most the row whose commit raced the kill
        t0 = time.monotonic()
        write(store, kind, f"after-{k}")  # the dead process's locks are gone
        assert time.monotonic() - t0 < 2
    print(f"\n{kind}: {total_kills} writers killed mid-stream, all {len(committed)} acknowledged rows present, "
          "integrity_check ok")
