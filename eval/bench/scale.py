"""Retrieval at corpus sizes: grow an ingested corpus to N chunks, then measure retrieval and answer latency and
the peak RSS of a serving process (`python -m eval.bench.scale SPEC_JSON`, one process per size).

Growing is honest and deterministic: the source index's articles in order, whole; past its end, copies with new ids
(`<id>~copy<n>`), the same text, the title suffixed ` (copy n)` (so the content hash differs) and the source chunks'
vectors (the text is the same, so it is not embedded again: ingest speed is measured on its own). No paraphrases,
no synthetic text; the quotes of each article are copied too. Then the near-duplicates are grouped, as `newsrag
ingest` groups them: each copy joins its original's group, so retrieval shows one passage per story as it would
on such an archive (before, the copies were left ungrouped, which no ingest would do, and choosing the k passages
walked ~110 candidates a question through their texts in the quick bench's 27-fold copied 10k index).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.measure import peak_rss_mb, percentiles

WRITE_BATCH = 2048


def grow(source: Path, size: int, out: Path) -> dict[str, Any]:
    """Write an index of ~`size` chunks to `out` from the index in `source`; returns what it cost."""
    from app.settings import Settings
    from index.duplicates import DuplicateGroups
    from index.keyword import KeywordIndex
    from index.manifest import Manifest
    from index.store import ChromaStore
    from index.types import Article, Chunk, Quote

    src, src_store = Manifest(source / "manifest.sqlite"), ChromaStore(source)
    rows = src.chunk_rows()
    vectors = src_store.vectors([r["id"] for r in rows])
    quotes: dict[str, list[dict[str, Any]]] = {}
    for q in src.db.execute('SELECT q.*, substr(a.text, q.start + 1, q."end" - q.start) AS text FROM quotes q '
                            "JOIN articles a ON a.id = q.article_id"):
        quotes.setdefault(q["article_id"], []).append(dict(q))
    by_article: dict[str, list[Any]] = {}
    for r in rows:
        by_article.setdefault(r["article_id"], []).append(r)
    originals = src.articles(by_article)

    dest = Manifest(out / "manifest.sqlite")
    dest.claim_embedder(str(src.meta("embed_model")), str(src.meta("embed_backend")), src.meta("embed_recipe") or "")
    store, keyword = ChromaStore(out), KeywordIndex(out, dest)
    seconds = {"write_chroma": 0.0, "write_manifest": 0.0}
    total, copy = 0, 0
    items: list[tuple[Article, list[Chunk], list[Quote]]] = []
    pending: list[tuple[Chunk, np.ndarray]] = []
    while total < size:
        for article_id, chunk_rows in by_article.items():
            if total >= size:
                break
            base = originals[article_id]
            article = base if copy == 0 else base.model_copy(
                update={"id": f"{base.id}~copy{copy}", "title": f"{base.title} (copy {copy})"})
            chunks = [Chunk(id=f"{article.id}:{article.sha256[:10]}:{n}", article_id=article.id, ordinal=n,
                            start=r["start"], end=r["end"], text=base.text[r["start"]:r["end"]])
                      for n, r in enumerate(chunk_rows)]
            items.append((article, chunks, [Quote(**{**q, "article_id": article.id})
                                            for q in quotes.get(article_id, [])]))
            pending += [(c, vectors[r["id"]]) for c, r in zip(chunks, chunk_rows, strict=True)]
            total += len(chunks)
            if len(pending) >= WRITE_BATCH:
                _flush(store, dest, items, pending, seconds)
                items, pending = [], []
        copy += 1
    _flush(store, dest, items, pending, seconds)
    t0 = time.perf_counter()
    # what `newsrag ingest` does after writing: the copies (same text, same date) join their original's group
    DuplicateGroups(dest, Settings.model_fields["duplicate_threshold"].default).refresh()
    seconds["group"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    keyword.load()  # the keyword rows were written with the manifest; this is a first reader's merge (+ snapshot)
    seconds["keyword_load"] = time.perf_counter() - t0
    return {"chunks": total, "articles": dest.count(), "copies": copy - 1,
            **{f"{k}_s": round(v, 1) for k, v in seconds.items()}}


def _flush(store: Any, manifest: Any, items: list[Any], pending: list[Any], seconds: dict[str, float]) -> None:
    if not pending:
        return
    t0 = time.perf_counter()
    store.add([c for c, _ in pending], np.stack([v for _, v in pending]), {a.id: a.title for a, _, _ in items})
    t1 = time.perf_counter()
    manifest.commit(items)
    seconds["write_chroma"] += t1 - t0
    seconds["write_manifest"] += time.perf_counter() - t1


def serve(spec: dict[str, Any]) -> dict[str, Any]:
    """Open the index like `newsrag serve` does, warm it, then time retrieval and answers over the questions."""
    from app.answering.retrieve import HybridRetriever, search_depth
    from app.engine import build_engine
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=spec["data_dir"], embedder="minilm",  # type: ignore[call-arg]
                        embed_backend=spec["backend"], model_cache_dir=spec["models_dir"])
    engine = build_engine(settings)
    questions: list[str] = spec["questions"]
    for q in questions[:3]:
        engine.ask(q)  # warm: model, HNSW and BM25 loaded
    # Answering caches embeddings (app/answering/embed_cache.py): retrieval is timed without that cache (every question
    # embedded afresh), and answers are timed empty-cache-first: `answer` is each question's first asking (only what
    # earlier questions brought is cached), `answer_repeat` the same questions asked again.
    raw = getattr(engine.embedder, "inner", engine.embedder)
    wired = engine.retriever  # the engine's own retriever (groups of copies, the per-article cap), minus the cache
    assert isinstance(wired, HybridRetriever)
    retriever = HybridRetriever(raw, engine.store, engine.keyword, engine.manifest, wired.groups, wired.recency_weight,
                                wired.per_article, wired.prior)
    getattr(engine.embedder, "clear", lambda: None)()
    k = settings.top_k
    depth = search_depth(k)  # what the retriever asks of each search, so the parts add up to the whole
    timings: dict[str, list[float]] = {"retrieve": [], "embed": [], "dense": [], "bm25": [], "answer": [],
                                       "answer_repeat": []}
    for repeat in range(spec.get("repeats", 1)):
        for q in questions:
            t0 = time.perf_counter()
            retriever.retrieve(q, k)
            t1 = time.perf_counter()
            vector = raw.embed([q])[0]
            t2 = time.perf_counter()
            engine.store.query(vector, depth)
            t3 = time.perf_counter()
            engine.keyword.query(q, depth)
            t4 = time.perf_counter()
            engine.ask(q)
            t5 = time.perf_counter()
            answer = "answer_repeat" if repeat else "answer"
            for name, (a, b) in {"retrieve": (t0, t1), "embed": (t1, t2), "dense": (t2, t3), "bm25": (t3, t4),
                                 answer: (t4, t5)}.items():
                timings[name].append((b - a) * 1000)
    rss = peak_rss_mb()
    from eval.bench.add_one import add_one_article

    out = {"chunks": engine.store.count(), "peak_rss_mb": rss, "add_one": add_one_article(engine),
           **{name: percentiles(samples) for name, samples in timings.items()}}
    if spec.get("local"):
        out["local"] = local_latency(engine, questions[: spec["local"]])
    return out


def local_latency(engine: Any, questions: list[str]) -> dict[str, Any]:
    """`--answerer local` (the model newsrag runs itself): time to first token and to the verified answer, with
    the server already started and the model loaded (its start is timed apart), then the server is stopped. A
    server left running is stopped first: llama.cpp keeps earlier prompts in memory, and an answer whose prompt it
    has seen comes ~100x faster than a new one."""
    from app.answering.local.answerer import LocalAnswerer  # only with --local

    answerer = engine.answerer("local")
    assert isinstance(answerer, LocalAnswerer)
    answerer.server.stop()
    t0 = time.perf_counter()
    answerer.server.ensure()
    start_s = round(time.perf_counter() - t0, 1)
    first, total, fallbacks = [], [], 0
    try:
        for q in questions:
            t1 = time.perf_counter()
            answer = engine.ask(q, answerer="local")
            total.append((time.perf_counter() - t1) * 1000)
            fallbacks += answer.answerer != "local"
            if "first_token" in answer.timings_ms:
                first.append(answer.timings_ms["first_token"] + answer.timings_ms.get("retrieve", 0.0))
    finally:
        answerer.server.stop()
    return {"questions": len(questions), "server_start_s": start_s, "first_token": percentiles(first),
            "answer": percentiles(total), "fallbacks": fallbacks, "threads": engine.settings.local_threads,
            "passages": engine.settings.local_passages, "prompt": f"answer.v{engine.settings.local_prompt}"}


def main(argv: list[str]) -> int:
    from app.settings import go_offline

    go_offline()
    print(json.dumps(serve(json.loads(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
