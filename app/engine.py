"""The engine every face calls: ask (plain or streamed), ingest, list, remove. Built once by `build_engine`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from app.answering.base import Answerer
from app.answering.condense import Condenser
from app.answering.embed_cache import CachedEmbedder
from app.answering.registry import ANSWERERS, CONDENSERS, RERANKERS
from app.answering.rerank import Passthrough, Reranker
from app.answering.retrieve import HybridRetriever, Retriever
from app.answering.timeframe import Scope, scope, window
from app.errors import Busy, ConfigError, NewsragError, NotFound, NotReady
from app.limits import check_size
from app.settings import Settings, go_offline
from app.types import Answer, DoneEvent, Event, NoticeEvent, Passage, Turn
from index.chunk import Chunker
from index.duplicates import DuplicateGroups
from index.embedding.base import Embedder
from index.embedding.factory import make_embedder, resolve_backend
from index.formats.base import MB
from index.ingest import Indexer, IngestReport, Progress, VerifyReport
from index.keyword import KeywordIndex, KeywordStore
from index.lock import IndexBusy, write_lock
from index.manifest import Manifest
from index.store import ChromaStore, Store
from index.types import Article


class Engine:
    """question -> condense (follow-ups) -> retrieve -> rerank -> answer, and the index's ingest/remove/verify."""

    def __init__(self, settings: Settings, embedder: Embedder, manifest: Manifest, store: Store,
                 keyword: KeywordStore, indexer: Indexer, retriever: Retriever, reranker: Reranker | None = None,
                 groups: DuplicateGroups | None = None):
        self.settings, self.embedder, self.manifest, self.store = settings, embedder, manifest, store
        self.keyword, self.indexer, self.retriever, self.groups = keyword, indexer, retriever, groups
        self.reranker: Reranker = reranker or Passthrough()  # no second stage unless one is given
        self._answerers: dict[str, Answerer] = {}
        self._condensers: dict[str, Condenser] = {}
        self._ready_lock = threading.Lock()  # Chroma's client must not be opened by two threads at once

    # -- answering -----------------------------------------------------------------------------------
    def answerer(self, kind: str | None = None) -> Answerer:
        kind = kind or self.settings.answerer
        if kind not in self._answerers:
            self._answerers[kind] = ANSWERERS.factory(kind)(self.settings, self.embedder)
        return self._answerers[kind]

    def condenser(self, kind: str | None = None) -> Condenser:
        """The condenser the answerer names (app/answering/registry.py): the LLM rewrites follow-ups when it
        answers them; otherwise the deterministic rules do."""
        name = ANSWERERS.entry(kind or self.settings.answerer).options.get("condenser", "rules")
        if name not in self._condensers:
            self._condensers[name] = CONDENSERS.factory(name)(self.settings)
        return self._condensers[name]

    def ask(self, question: str, history: list[Turn] | None = None, answerer: str | None = None,
            k: int | None = None, filters: dict[str, Any] | None = None, as_of: date | None = None) -> Answer:
        final: Answer | None = None
        for event in self.ask_stream(question, history, answerer, k, filters, as_of):
            if isinstance(event, DoneEvent):
                final = event.answer
        assert final is not None, "the stream always ends with done"
        return final

    def retrieve(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Passage]:
        """Both retrieval stages: the retriever's pool as deep as the reranker asks for, then the reranker's k."""
        return self.reranker.rerank(query, self.retriever.retrieve(query, self.reranker.depth(k), filters), k)

    def ask_stream(self, question: str, history: list[Turn] | None = None, answerer: str | None = None,
                   k: int | None = None, filters: dict[str, Any] | None = None,
                   as_of: date | None = None) -> Iterator[Event]:
        """`as_of`: answer as of that day (default: the newest article's date, at most today)."""
        question = self._check(question, history)
        chosen = self.answerer(answerer)  # fails fast on a misconfigured answerer
        t0 = time.perf_counter()
        rewritten = self.condenser(answerer).rewrite(question, history) if history else None
        query = rewritten or question
        when = self.scope(query, as_of, filters)
        t1 = time.perf_counter()
        passages = self.retrieve(query, k or self.settings.top_k, when.filters)
        t2 = time.perf_counter()
        if rewritten:
            yield NoticeEvent(text=f"Searching for: {rewritten}", rewritten_query=rewritten)
        if when.notice:
            yield NoticeEvent(text=when.notice)
        for event in chosen.stream(query, passages):
            if not isinstance(event, DoneEvent):
                yield event
                continue
            answer = event.answer
            t3 = time.perf_counter()
            answer.question = question
            answer.rewritten_query = rewritten
            answer.as_of, answer.time_window = when.as_of.isoformat(), window(when)
            answer.notices = [when.notice, *answer.notices] if when.notice else answer.notices
            answer.settings_hash = self.settings.fingerprint()
            answer.timings_ms = {"condense": _ms(t0, t1), "retrieve": _ms(t1, t2), "answer": _ms(t2, t3),
                                 "total": _ms(t0, t3), **answer.timings_ms}
            yield DoneEvent(answer=answer)

    def scope(self, question: str, as_of: date | None = None, filters: dict[str, Any] | None = None) -> Scope:
        """The date the question is answered as of and the retrieval filters its time words make
        (app/answering/timeframe.py)."""
        if as_of is None:
            newest = self.manifest.dated()[1]
            as_of = min(date.today(), date.fromisoformat(newest)) if newest else date.today()
        return scope(question, as_of, filters, lambda start, end: self.manifest.dated(start, end)[0])

    def _check(self, question: str, history: list[Turn] | None) -> str:
        question = (question or "").strip()
        if not question:
            raise NewsragError("The question is empty: ask something about the indexed articles.")
        check_size(question, history)  # the API checked already; the CLI, the UI and eval come straight here
        if self.manifest.count() == 0:
            raise NotReady("Nothing is indexed yet: add articles first with `newsrag ingest PATH` "
                           "(try `newsrag ingest examples/articles`).")
        return question

    # -- the index -----------------------------------------------------------------------------------
    def ingest(self, paths: list[Path], progress: Progress | None = None, follow_symlinks: bool = False,
               names: dict[Path, str] | None = None) -> IngestReport:
        """`names`: the origin to record per path (uploads: the client's file name, not the temp path)."""
        check_embedder(self.manifest, self.embedder, Path(self.settings.data_dir))  # another process may have begun
        with busy_is_an_error():
            report = self.indexer.ingest(paths, progress, follow_symlinks, names)
        return self._group(report)

    def _group(self, report: IngestReport) -> IngestReport:
        """Sign and group what this ingest (or any before grouping existed) left ungrouped (index/duplicates.py)."""
        if self.groups is not None:
            with busy_is_an_error(), write_lock(Path(self.settings.data_dir)):
                report.repaired += self.groups.refresh()
        return report

    def ingest_urls(self, urls: list[str], progress: Progress | None = None,
                    log: Callable[[str], None] | None = None) -> IngestReport:
        """Feeds and pages (index/remote/urls.py): fetched first, then ingested like files; a URL that fails is
        reported and the others go in. Conditional GET state is kept only for what was committed."""
        from index.remote.fetch import Fetcher, FetchLimits  # httpx (~0.2 s): only when URLs are ingested
        from index.remote.urls import Gatherer, commit  # (and feedparser, trafilatura, with it)

        check_embedder(self.manifest, self.embedder, Path(self.settings.data_dir))
        s = self.settings
        limits = FetchLimits(timeout_s=s.fetch_timeout, deadline_s=s.fetch_timeout, max_bytes=int(s.max_file_mb * MB))
        with Fetcher(limits) as fetcher:
            got = Gatherer(self.manifest, fetcher, log).gather(urls)
        with busy_is_an_error():
            report = self.indexer.ingest([], progress, items=got.items)
        report.notes += got.notes
        report.unchanged += [a for a in got.unchanged if a not in report.unchanged]
        commit(self.manifest, got.pending, {*report.added, *report.updated, *report.rechunked, *report.unchanged})
        return self._group(report)

    def verify(self, repair: bool = False) -> VerifyReport:
        with busy_is_an_error():
            report = self.indexer.verify(repair)  # + the near-duplicate bands (index/bands.py):
            return self.groups.verify(report, repair, Path(self.settings.data_dir)) if self.groups else report

    def articles(self) -> list[dict]:
        return self.manifest.listing()

    def article(self, article_id: str) -> Article:
        article = self.manifest.article(article_id)
        if article is None:
            raise NotFound(f"No article with id '{article_id}' (see `newsrag list`).")
        return article

    def remove(self, article_id: str) -> None:
        with busy_is_an_error():
            removed = self.indexer.remove(article_id)
        if not removed:
            raise NotFound(f"No article with id '{article_id}' (see `newsrag list`).")

    def ready(self) -> dict[str, Any]:
        """Load the model, the keyword index and the dense index, so the first question pays for none of them;
        raises if one is unusable. One caller at a time: the first opens Chroma's client (see app/web/startup.py)."""
        with self._ready_lock:
            vector = self.embedder.embed(["ready"])[0]
            vectors = self.store.count()
            if vectors:
                self.store.query(vector, 1)  # Chroma loads the HNSW index on the first query
            self.keyword.load()
            return {"articles": self.manifest.count(), "vectors": vectors, "embedder": self.embedder.name}


@contextmanager
def busy_is_an_error() -> Iterator[None]:
    try:
        yield
    except IndexBusy as exc:
        raise Busy(str(exc)) from None


def check_embedder(manifest: Manifest, embedder: Embedder, data_dir: Path) -> None:
    """Refuse to mix vectors of two embedders (or backends, or exported-model recipes) in one index; an empty index
    adopts this one."""
    recipe = embedder.recipe
    recorded = manifest.claim_embedder(embedder.name, embedder.backend, recipe)
    if recorded is None:
        return
    model, backend, recorded_recipe = recorded
    if (model, backend) == (embedder.name, embedder.backend):
        raise ConfigError(f"The index in {data_dir} was built with {model} on {backend} exported as "
                          f"{recorded_recipe!r}, but this newsrag exports it as {recipe!r}: the vectors differ and "
                          "cannot be mixed. Ingest the articles again into a new NEWSRAG_DATA_DIR.")
    fix = ("NEWSRAG_EMBEDDER=hash" if model == "hash"
           else f"NEWSRAG_EMBEDDER=minilm NEWSRAG_EMBED_BACKEND={backend}")
    raise ConfigError(f"The index in {data_dir} was built with {model} on {backend}, but the settings ask for "
                      f"{embedder.name} on {embedder.backend}: vectors from different embedders cannot be mixed. "
                      f"Set {fix} to use this index, or ingest into a new NEWSRAG_DATA_DIR.")


def _ms(a: float, b: float) -> float:
    return round((b - a) * 1000, 1)


def build_engine(settings: Settings | None = None) -> Engine:
    """The one wiring function: Settings in, a ready-to-use Engine out (models load lazily on first use)."""
    go_offline()
    settings = settings or Settings()

    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(data_dir / "manifest.sqlite")
    embedder = make_embedder(settings.embedder, settings.embed_batch_size,
                             resolve_backend(settings.embed_backend, manifest), settings.models_dir())
    embedder.preload()  # the model loads while Chroma and the rest are imported
    check_embedder(manifest, embedder, data_dir)
    store = ChromaStore(data_dir, settings.chroma_url)
    keyword = KeywordIndex(data_dir, manifest)
    chunker = Chunker(embedder.tokenizer(), settings.chunk_tokens, settings.chunk_overlap, embedder.name)
    indexer = Indexer(data_dir, manifest, store, keyword, embedder, chunker, settings.ingest_batch_articles,
                      settings.max_file_mb)
    # questions, passage sentences, quotes: embedded once per process, each on its own (see
    # app/answering/embed_cache.py)
    answering = CachedEmbedder(embedder)
    groups = DuplicateGroups(manifest, settings.duplicate_threshold)
    retriever = HybridRetriever(answering, store, keyword, manifest, groups, settings.recency_weight,
                                settings.passages_per_article)
    reranker = RERANKERS.factory(settings.reranker)(settings, answering)
    return Engine(settings, answering, manifest, store, keyword, indexer, retriever, reranker, groups)
