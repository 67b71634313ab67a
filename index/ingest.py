"""Ingest: load -> chunk -> find quotes -> embed -> write Chroma, then the manifest with the keyword index.

Order makes a killed ingest safe: new chunk ids (they embed the content hash) go into Chroma first, the
manifest transaction then makes them live and retires the old ones, and only then are old vectors deleted.
Anything in Chroma that the manifest does not list is an orphan, removed by `reconcile` at the next write
(a write that did not finish leaves a marker file, `DATA_DIR/writing`, that tells the next one to look). The file
is long because ingest, remove, verify and reconcile share that one write path and its crash-safety order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.chunk import Chunker
from index.embedding.base import Embedder
from index.keyword import KeywordStore
from index.load import Failure, load_paths
from index.lock import write_lock
from index.manifest import Manifest
from index.quotes import extract_quotes, refresh_quotes
from index.store import Store
from index.types import Article, Chunk, Quote, Skipped

Progress = Callable[[int], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[Failure] = field(default_factory=list)
    conflicts: list[Failure] = field(default_factory=list)  # an id taken by another file or record: not replaced
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # not read on purpose (symlinks out of the folder)
    notes: list[Failure] = field(default_factory=list)
    chunks: int = 0
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False only when nothing could be ingested at all."""
        return bool(self.added or self.updated or self.unchanged or self.duplicates
                    or not (self.failed or self.conflicts or self.skipped))

    def summary(self) -> str:
        extra = "".join(f", {name} {len(items)}" for name, items in (("conflicts", self.conflicts),
                                                                     ("duplicates skipped", self.duplicates),
                                                                     ("links skipped", self.skipped)) if items)
        lines = [f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
                 f"failed {len(self.failed)}{extra} ({self.chunks} new chunks)"]
        for label, items in (("failed", self.failed), ("conflict", self.conflicts), ("duplicate", self.duplicates),
                             ("skipped", self.skipped), ("note", self.notes)):
            lines += [f"  {label}: {f.path}: {f.reason}" for f in items]
        lines += [f"  repaired: {r}" for r in self.repaired]
        return "\n".join(lines)


@dataclass
class VerifyReport:
    articles: int
    chunks: int
    vectors: int
    keyword_chunks: int
    orphans: int
    missing: int
    keyword_stale: bool
    repaired: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing or self.keyword_stale)

    def summary(self) -> str:
        state = "clean" if self.clean else "NOT consistent"
        lines = [f"{state}: {self.articles} articles, {self.chunks} chunks in the manifest, {self.vectors} vectors "
                 f"in Chroma, {self.keyword_chunks} chunks in the keyword index"]
        if self.orphans:
            lines.append(f"  {self.orphans} vectors in Chroma that the manifest does not list (interrupted ingest)")
        if self.missing:
            lines.append(f"  {self.missing} manifest chunks missing from Chroma")
        if self.keyword_stale:
            lines.append("  the keyword index is out of date")
        lines += [f"  repaired: {r}" for r in self.repaired]
        if not self.clean and not self.repaired:
            lines.append("run `newsrag verify --repair` to fix it")
        return "\n".join(lines)


class Indexer:
    def __init__(self, data_dir: Path, manifest: Manifest, store: Store, keyword: KeywordStore,
                 embedder: Embedder, chunker: Chunker, batch_articles: int = 64, max_file_mb: float = 20.0):
        self.data_dir, self.manifest, self.store, self.keyword = data_dir, manifest, store, keyword
        self.embedder, self.chunker = embedder, chunker
        self.batch_articles, self.max_file_mb = batch_articles, max_file_mb

    def ingest(self, paths: list[Path], progress: Progress | None = None, follow_symlinks: bool = False,
               names: dict[Path, str] | None = None, items: Iterable[Article | Failure] = ()) -> IngestReport:
        """Load, check and write `paths`, then `items` (articles read elsewhere: URLs), in batches. The outcome of
        each record depends on the input and the index only, never on the batch size: everything read in this run
        is remembered across batches."""
        report = IngestReport()
        with write_lock(self.data_dir), self._writing() as interrupted:
            report.repaired = ((self.reconcile() if interrupted else []) + self.keyword.sync()
                               + refresh_quotes(self.manifest))
            batch: list[tuple[Article, str]] = []
            by_sha: dict[str, str] = {}  # text hash -> id, of the articles queued in this run
            by_id: dict[str, tuple[str, str]] = {}  # id -> (origin, text hash), of records accepted in this run
            for item in itertools.chain(load_paths(paths, self.max_file_mb, follow_symlinks, names), items):
                if isinstance(item, Failure):
                    (report.skipped if isinstance(item, Skipped) else report.failed).append(item)
                    continue
                if item.note:
                    report.notes.append(Failure(item.origin, item.note))
                status = self._classify(item, item.sha256, by_id, by_sha, report)
                if status is None:
                    continue
                batch.append((item, status))
                if len(batch) >= self.batch_articles:
                    self._write(batch, report, progress)
                    batch = []
            if batch:
                self._write(batch, report, progress)
        return report

    def _classify(self, item: Article, sha: str, by_id: dict[str, tuple[str, str]], by_sha: dict[str, str],
                  report: IngestReport) -> str | None:
        """"added" or "updated" for an article to write; None when it was reported as unchanged, a duplicate or a
        conflict. The first record with an id that a run accepts is kept; a changed text replaces an article only
        when it comes from the file the article came from."""
        where = item.origin
        first = by_id.get(item.id)
        if first is not None:
            if first[1] == sha:
                report.duplicates.append(Failure(where, f"repeats {first[0]} (same id '{item.id}', same text), "
                                                        "skipped"))
            else:
                report.conflicts.append(Failure(where, f"id '{item.id}' was already read from {first[0]} in this "
                                                       "ingest, with another text: kept the first; give this "
                                                       "record its own id"))
            return None
        owner = by_sha.get(sha)
        if owner is None:
            owner = self.manifest.sha_owner(sha)
            if owner is not None and owner in by_id and by_id[owner][1] != sha:
                owner = None  # the text that article had before this run replaced it (whether written yet or not)
        if owner == item.id:
            by_id[item.id] = (where, sha)
            report.unchanged.append(item.id)
            return None
        if owner is not None:
            report.duplicates.append(Failure(where, f"same text as article '{owner}', skipped"))
            return None
        existing = self.manifest.origin(item.id)
        if existing is not None and not same_source(existing, item):
            stored = f"{existing[0] or '?'}{existing[1] or ''}"
            report.conflicts.append(Failure(where, f"id '{item.id}' is taken by the article from {stored}, which "
                                                   "has another text: not replaced. To replace it, `newsrag "
                                                   f"remove {item.id}` first; to keep both, give this record its "
                                                   "own id"))
            return None
        by_id[item.id], by_sha[sha] = (where, sha), item.id
        return "updated" if existing is not None else "added"

    def _write(self, batch: list[tuple[Article, str]], report: IngestReport, progress: Progress | None) -> None:
        """All-or-nothing for one batch of articles."""
        items: list[tuple[Article, list[Chunk], list[Quote]]] = []
        for article, _ in batch:
            items.append((article, self.chunker.chunk(article), extract_quotes(article)))
        chunks = [c for _, cs, _ in items for c in cs]
        titles = {a.id: a.title for a, _ in batch}
        # Each chunk is embedded with its article's title in front: it gives short chunks their topic.
        vectors: list = []
        for i in range(0, len(chunks), 64):
            part = chunks[i:i + 64]
            vectors.extend(self.embedder.embed([f"{titles[c.article_id]}\n\n{c.text}" for c in part]))
            if progress:
                progress(len(part))
        try:
            self.store.add(chunks, _stack(vectors, self.embedder.dim), titles)
            retired = self.manifest.commit(items)
        except BaseException:
            self.store.delete([c.id for c in chunks if c.id not in self.manifest.chunk_ids(c.article_id)])
            raise
        self.store.delete(retired)
        report.chunks += len(chunks)
        for article, status in batch:
            (report.updated if status == "updated" else report.added).append(article.id)

    def remove(self, article_id: str) -> bool:
        with write_lock(self.data_dir), self._writing():
            if self.manifest.article(article_id) is None:
                return False
            self.store.delete(self.manifest.remove(article_id))  # its keyword rows go in the same transaction
            return True

    def verify(self, repair: bool = False) -> VerifyReport:
        """Do the manifest, Chroma and the keyword index agree? With repair, make them agree."""
        def check() -> VerifyReport:
            live, stored = self.manifest.chunk_ids(), self.store.ids()
            keyword_ids = self.keyword.stored_ids()
            return VerifyReport(self.manifest.count(), len(live), len(stored), len(keyword_ids),
                                len(stored - live), len(live - stored), keyword_ids != live)

        report = check()
        if repair and not report.clean:
            with write_lock(self.data_dir), self._writing():
                repaired = self.reconcile()
                if self.keyword.stored_ids() != self.manifest.chunk_ids():
                    self.keyword.rebuild()
                    repaired.append("rebuilt the keyword index")
            report = check()
            report.repaired = repaired
        return report

    @contextmanager
    def _writing(self) -> Iterator[bool]:
        """A marker file for the time a write runs (under the write lock): left behind only by a writer that died,
        so the next one knows to reconcile. Comparing every id in Chroma with the manifest on every ingest cost
        time proportional to the index (~25 ms at 10k chunks, ~0.25 s at 100k) for a check that almost never
        finds anything; `newsrag verify` still compares them all."""
        marker = self.data_dir / "writing"
        interrupted = marker.exists()
        marker.touch()
        yield interrupted
        marker.unlink(missing_ok=True)  # not reached when the write raised: the next writer reconciles

    def reconcile(self) -> list[str]:
        """Make Chroma agree with the manifest after an interrupted write; returns what was repaired."""
        live = self.manifest.chunk_ids()
        stored = self.store.ids()
        repaired = []
        orphans = stored - live
        if orphans:
            self.store.delete(orphans)
            repaired.append(f"removed {len(orphans)} orphaned vectors left by an interrupted ingest")
        missing = live - stored
        for article_id in sorted({cid.split(":", 1)[0] for cid in missing}):
            self.store.delete(self.manifest.remove(article_id))
            repaired.append(f"article '{article_id}' had vectors missing; removed it: ingest it again")
        return repaired


def same_source(stored: tuple[str | None, str | None], item: Article) -> bool:
    """Is `item` (a changed text) from the file the stored article came from? Then it is an update. The record
    inside the file does not have to match: a JSONL file that gained lines above a record still updates it. An
    article indexed before origins were recorded (record None) knows only the path it was given, maybe relative
    or a temp folder: the file name decides."""
    path, record = stored
    if path is None or item.path is None:
        return True
    if record is None:
        return Path(path).name == Path(item.path).name
    return path == item.path


def _stack(vectors: list, dim: int) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), dim)
