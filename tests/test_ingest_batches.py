"""Ingest's batches (index/ingest.py): whatever fails (the embedder, the Chroma add, the manifest's commit, the
reading side, Ctrl-C), the error is the one raised and nothing is left half-written; the index is the same
whatever the batch size. (Written for an ingest that embedded on a background thread beside the writes: measured
as no faster on a quiet machine and reverted, docs/latency.md; the failure rules are the serial ingest's too.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.engine import Engine, build_engine
from tests.conftest import ROOT, make_settings, sample_copies


def engine_with(tmp_path: Path, batch: int = 4) -> Engine:
    return build_engine(make_settings(tmp_path / "data", ingest_batch_articles=batch))  # the hash fake embeds


def fail_on(obj: object, name: str, n: int, error: BaseException) -> Callable[..., Any]:
    """`obj.name` raises `error` on its n-th call (1-based) and calls through otherwise; returns the original."""
    real: Callable[..., Any] = getattr(obj, name)
    calls = []

    def failing(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == n:
            raise error
        return real(*args)
    setattr(obj, name, failing)
    return real


def consistent(engine: Engine) -> None:
    """Chroma holds exactly the manifest's chunks, every article has all of its own."""
    assert engine.store.ids() == engine.manifest.chunk_ids()
    assert engine.verify().clean


@pytest.mark.parametrize("fail_at", [1, 2, 4, 6])
def test_an_embedder_failure_is_raised_and_leaves_no_half_written_batch(tmp_path: Path, fail_at: int) -> None:
    engine = engine_with(tmp_path)
    embed = fail_on(engine.indexer.embedder, "embed", fail_at, RuntimeError("the embedder crashed"))
    src = sample_copies(tmp_path / "in", 24)
    with pytest.raises(RuntimeError, match="the embedder crashed"):
        engine.ingest([src])
    assert engine.manifest.count() % 4 == 0 and engine.manifest.count() < 24  # whole batches only
    consistent(engine)
    written, engine.indexer.embedder.embed = engine.manifest.count(), embed  # type: ignore[method-assign]
    assert len(engine.ingest([src]).added) == 24 - written and engine.manifest.count() == 24
    consistent(engine)


def test_a_failed_chroma_add_deletes_that_batchs_vectors(tmp_path: Path) -> None:
    engine = engine_with(tmp_path)
    fail_on(engine.store, "add", 3, RuntimeError("chroma is gone"))
    with pytest.raises(RuntimeError, match="chroma is gone"):
        engine.ingest([sample_copies(tmp_path / "in", 24)])
    assert engine.manifest.count() % 4 == 0 and engine.manifest.count() < 24
    consistent(engine)


def test_ctrl_c_during_a_write_leaves_a_consistent_index(tmp_path: Path) -> None:
    engine = engine_with(tmp_path)
    commit = fail_on(engine.manifest, "commit", 2, KeyboardInterrupt())
    src = sample_copies(tmp_path / "in", 24)
    with pytest.raises(KeyboardInterrupt):
        engine.ingest([src])
    assert engine.manifest.count() == 4  # the first batch, and nothing of the one whose commit was interrupted
    consistent(engine)
    engine.manifest.commit = commit  # type: ignore[method-assign]
    assert len(engine.ingest([src]).added) == 20
    consistent(engine)


def test_a_failure_on_the_reading_side_first_writes_the_batches_that_were_complete(tmp_path: Path) -> None:
    """As when batches ran one after another: the batches before the failing article's are written."""
    engine = engine_with(tmp_path, batch=2)
    chunk = engine.indexer.chunker.chunk

    def failing_chunk(article):  # type: ignore[no-untyped-def]
        if article.id == "a005":
            raise ValueError("chunk text not found in article")
        return chunk(article)

    engine.indexer.chunker.chunk = failing_chunk  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="chunk text not found"):
        engine.ingest([sample_copies(tmp_path / "in", 12)])
    assert sorted(a["id"] for a in engine.manifest.listing()) == ["a000", "a001", "a002", "a003"]
    consistent(engine)


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_the_index_is_the_same_whatever_the_batch_size(tmp_path: Path, batch: int) -> None:
    engine = engine_with(tmp_path, batch=batch)
    report = engine.ingest([sample_copies(tmp_path / "in", 10)])
    reference = engine_with(tmp_path / "serial", batch=10)
    assert report.chunks == reference.ingest([tmp_path / "in"]).chunks
    assert engine.manifest.chunk_ids() == reference.manifest.chunk_ids()
    ids = sorted(engine.manifest.chunk_ids())
    ours, theirs = engine.store.collection.get(ids=ids, include=["embeddings"]), \
        reference.store.collection.get(ids=ids, include=["embeddings"])
    assert dict(zip(ours["ids"], map(list, ours["embeddings"]), strict=True)) == \
        dict(zip(theirs["ids"], map(list, theirs["embeddings"]), strict=True))


def test_a_real_ingest_stopped_with_ctrl_c_exits_promptly_and_stays_consistent(tmp_path: Path) -> None:
    src, data = sample_copies(tmp_path / "many", 120), tmp_path / "data"
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(data), "NEWSRAG_EMBEDDER": "hash",
           "NEWSRAG_INGEST_BATCH_ARTICLES": "4"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "ingest", str(src)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None and not _committed(data):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the interrupted ingest did not exit")
    if proc.returncode == 0:
        pytest.skip("the ingest finished before it could be interrupted")
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    engine = build_engine(make_settings(data))
    report = engine.verify(repair=True)
    assert report.clean, report.summary()
    written = engine.manifest.count()
    assert len(engine.ingest([src]).added) == 120 - written and engine.manifest.count() == 120
    assert engine.store.ids() == engine.manifest.chunk_ids()


def _committed(data: Path) -> bool:
    import sqlite3

    try:
        return sqlite3.connect(data / "manifest.sqlite").execute("SELECT COUNT(*) FROM articles").fetchone()[0] > 0
    except sqlite3.Error:
        return False
