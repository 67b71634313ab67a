"""Ingest's write side, pipelined: each article is chunked as it is read and its chunks are embedded in parts of 64
on a background thread, while the caller's thread goes on reading and chunking, and writes each batch whose vectors
are all in (one Chroma add, the manifest transaction, the delete of retired vectors).

Why: embedding is about two thirds of an ingest and keeps every core busy (ONNX Runtime releases the GIL); the
rest (reading, splitting, quotes, the Chroma add, the manifest transaction) is on one thread, and while it ran one
core sat idle. Overlapped, that work runs beside the embedding (docs/latency.md has the numbers). Chroma's add
(~40 ms a call plus ~0.7 ms a vector here) holds the GIL in native code, so it still pauses the embedding between
texts, and adding per part instead of per batch cost ~1.7x its CPU: it stays one add per batch.

What does not change (index/ingest.py's docstring): per batch of articles, its vectors go into Chroma, then the
manifest transaction makes them live, then the vectors it retired are deleted; batches are written in input order;
parts are the same 64-chunk slices of a batch as before, so no vector depends on the pipelining. Only
`embedder.embed` leaves the caller's thread: the manifest's SQLite connection, Chroma, the chunker and the progress
callback are used from the thread that called ingest, as before.

Failures: an embedding's exception is raised on the caller's thread, as it was raised, at the next article read.
Whatever fails (the embedder, a write, Ctrl-C), the vectors of batches not yet committed are deleted and the
embedding thread is stopped before the error propagates (at most the part it is running finishes; nothing queued
starts). A failure on the reading side (loading, checking, chunking an article) first writes the batches that
were complete, as they were written before it when batches ran one after another.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np

from index.chunk import Chunker
from index.embedding.base import Embedder
from index.manifest import Manifest
from index.quotes import extract_quotes
from index.store import Store
from index.types import Article, Chunk, IngestProgress, IngestReport, Quote

Progress = Callable[[IngestProgress], None]
PART = 64  # chunks per embed call
AHEAD = 2  # parts handed to the embedding thread and not yet written: one running, one waiting


class Meter:
    """What an ingest has done so far, told to its `progress` callback (if any) at every step."""

    def __init__(self, progress: Progress | None, total: int | None):
        self.progress, self.total = progress, total
        self.articles = self.chunks = self.written = 0

    def tell(self, read: int = 0, chunks: int = 0, written: int = 0) -> None:
        self.articles, self.chunks, self.written = self.articles + read, self.chunks + chunks, self.written + written
        if self.progress:
            self.progress(IngestProgress(self.articles, self.total, self.chunks, self.written))


@dataclass
class Batch:
    items: list[tuple[Article, list[Chunk], list[Quote]]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    sent: int = 0  # chunks handed to the embedder
    pending: int = 0  # parts handed to the embedder whose vectors were not taken yet
    vectors: list[np.ndarray] = field(default_factory=list)  # of its parts, in order
    stored: bool = False  # its add to Chroma has begun
    closed: bool = False  # all its articles are in


class Pipeline:
    """`with Pipeline(...) as pipe: pipe.add(article, status) ...; pipe.finish()`; `poll()` between articles writes
    what has been embedded meanwhile (and raises the embedder's error)."""

    def __init__(self, store: Store, manifest: Manifest, embedder: Embedder, chunker: Chunker, report: IngestReport,
                 meter: Meter, batch_articles: int):
        self.store, self.manifest, self.embedder, self.chunker = store, manifest, embedder, chunker
        self.report, self.meter, self.batch_articles = report, meter, batch_articles
        self.batches: deque[Batch] = deque([Batch()])  # not yet committed, oldest first; the last one is filling
        self.parts: deque[tuple[Batch, list[Chunk], Future[np.ndarray]]] = deque()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="newsrag-ingest-embed")
        self._write_failed = False

    def add(self, article: Article, status: str) -> None:
        """Chunk an article and find its quotes (here, on the caller's thread), queue its chunks to be embedded."""
        batch = self.batches[-1]
        chunks = self.chunker.chunk(article)
        batch.items.append((article, chunks, extract_quotes(article)))
        batch.statuses.append(status)
        batch.chunks.extend(chunks)
        while len(batch.chunks) - batch.sent >= PART:
            self._send(batch)
        if len(batch.items) >= self.batch_articles:
            self._close()
        self.poll()

    def poll(self) -> None:
        """Take the vectors of every part that is embedded and write the batches they complete, without waiting."""
        while self.parts and self.parts[0][2].done():
            self._write_next()
        self._commit_ready()

    def finish(self) -> None:
        """Write everything still queued."""
        if self.batches[-1].items:
            self._close()
        self._drain()

    def _close(self) -> None:
        batch = self.batches[-1]
        while batch.sent < len(batch.chunks):
            self._send(batch)
        batch.closed = True
        self.batches.append(Batch())

    def _send(self, batch: Batch) -> None:
        while len(self.parts) >= AHEAD:
            self._write_next()
        part = batch.chunks[batch.sent:batch.sent + PART]
        batch.sent += len(part)
        batch.pending += 1
        titles = {a.id: a.title for a, _, _ in batch.items}
        # Each chunk is embedded with its article's title in front: it gives short chunks their topic.
        texts = [f"{titles[c.article_id]}\n\n{c.text}" for c in part]
        self.parts.append((batch, part, self._executor.submit(self.embedder.embed, texts)))

    def _write_next(self) -> None:
        """Wait for the oldest part's vectors; write its batch if that was the batch's last part."""
        batch, part, future = self.parts[0]
        try:
            batch.vectors.append(future.result())
        except Exception:
            self._write_failed = True
            raise
        self.parts.popleft()
        batch.pending -= 1
        self.meter.tell(chunks=len(part))
        self._commit_ready()

    def _commit_ready(self) -> None:
        """Write the oldest batches whose articles are all in and whose vectors are all embedded."""
        while self.batches[0].closed and not self.batches[0].pending:
            batch = self.batches[0]
            try:
                batch.stored = True
                vectors = _stack(np.concatenate(batch.vectors) if batch.vectors else [], self.embedder.dim)
                self.store.add(batch.chunks, vectors, {a.id: a.title for a, _, _ in batch.items})
                retired = self.manifest.commit(batch.items, self.chunker.spec)
                self.batches.popleft()
                self.store.delete(retired)
            except Exception:
                self._write_failed = True  # no batch after this one is written
                raise
            self.report.chunks += len(batch.chunks)
            self.meter.tell(written=len(batch.items))
            for (article, _, _), status in zip(batch.items, batch.statuses, strict=True):
                {"updated": self.report.updated, "rechunked": self.report.rechunked}.get(
                    status, self.report.added).append(article.id)

    def _drain(self) -> None:
        while self.parts:
            self._write_next()
        self._commit_ready()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            if isinstance(error, Exception) and not self._write_failed:
                self._drain_closed()
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)  # nothing queued starts
            try:
                if error is not None:
                    self._delete_uncommitted()
            finally:
                self._executor.shutdown(wait=True)  # the part that was running, if any, ends

    def _drain_closed(self) -> None:
        """After a failure on the reading side: write the batches that were complete (best effort)."""
        try:
            while self.parts and self.parts[0][0].closed:
                self._write_next()
            self._commit_ready()
        except Exception:  # the reading side's error is the one raised; what this left is deleted next
            pass

    def _delete_uncommitted(self) -> None:
        """Take out of Chroma the vectors of batches that did not commit (none of them is live)."""
        for batch in self.batches:
            if batch.stored:
                self.store.delete([c.id for c in batch.chunks if c.id not in self.manifest.chunk_ids(c.article_id)])


def _stack(vectors: np.ndarray | list, dim: int) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), dim)
