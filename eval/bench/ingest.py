"""One ingest pipeline of `newsrag bench`, run in a process of its own (`python -m eval.bench.ingest SPEC_JSON`) so
each starts cold and has its own peak RSS. Prints one JSON object.

Pipelines, all over the same JSONL corpus and the same local MiniLM:
- `newsrag`: build_engine + Engine.ingest (load, split, quotes, embed, Chroma + manifest + BM25), any embed backend.
- `llamaindex-default`: the llama-index tutorial, `VectorStoreIndex.from_documents` into Chroma with
  `HuggingFaceEmbedding` and llama-index's default splitter (1024-token chunks: MiniLM reads only the first 256).
- `llamaindex-alltext`: the same with `SentenceSplitter(chunk_size, chunk_overlap)` so all the text is embedded.
Model loading is timed apart from ingest for every pipeline. Hit@5 is measured after the timed part.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from eval.bench.measure import Coverage, Stages, hit_at, peak_rss_mb, read_questions

# One paragraph longer than any chunk size: splitting it loads the sentence tokenizer (nltk, scipy: seconds), a
# one-off cost of the process that both kinds of pipeline pay before their clocks start.
WARM_TEXT = " ".join(f"Warm-up sentence number {i} has a few words." for i in range(400))


def run_newsrag(spec: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import index.ingest as ingest_module
    from app.engine import build_engine
    from app.settings import Settings
    from index.store import ChromaStore
    from index.types import Article

    settings = Settings(_env_file=None, data_dir=spec["data_dir"], embedder="minilm",  # type: ignore[call-arg]
                        embed_backend=spec["backend"], model_cache_dir=spec["models_dir"],
                        chunk_tokens=spec["chunk_tokens"], chunk_overlap=spec["chunk_overlap"])
    engine = build_engine(settings)
    engine.embedder.embed(["warm up"])
    engine.indexer.chunker.chunk(Article(id="warm", title="Warm", text=WARM_TEXT))  # imports llama-index + nltk
    if isinstance(engine.store, ChromaStore):
        engine.store.max_batch_size()  # opens the embedded Chroma (creates its SQLite file), as the baselines do first
    load_s = time.perf_counter() - t0
    stages = Stages()
    ix = engine.indexer
    ingest_module.load_paths = stages.wrap_iter("load", ingest_module.load_paths)
    ingest_module.extract_quotes = stages.wrap("quotes", ingest_module.extract_quotes)
    ix.chunker.chunk = stages.wrap("split", ix.chunker.chunk)  # type: ignore[method-assign]
    ix.embedder.embed = stages.wrap("embed", ix.embedder.embed)  # type: ignore[method-assign]
    ix.store.add = stages.wrap("write_chroma", ix.store.add)  # type: ignore[method-assign]
    # write_manifest includes the keyword rows: they are written in the manifest's transaction
    ix.manifest.commit = stages.wrap("write_manifest", ix.manifest.commit)  # type: ignore[method-assign]
    t1, cpu1 = time.perf_counter(), time.process_time()
    report = engine.ingest([Path(spec["corpus"])])
    seconds, cpu = time.perf_counter() - t1, time.process_time() - cpu1
    rss = peak_rss_mb()
    profile = stages.rounded()
    profile["other"] = round(seconds - sum(stages.seconds.values()), 3)

    rows = engine.manifest.chunk_rows()
    coverage = Coverage()
    texts: dict[str, str] = {}
    for r in rows:
        body = r["text"][r["start"]:r["end"]]
        coverage.add(r["article_id"], f"{r['title']}\n\n{body}", len(r["title"]) + 2, r["start"], r["end"])
        texts[r["article_id"]] = r["text"]
    questions = read_questions(Path(spec["questions"]) if spec.get("questions") else None)
    hybrid, dense = [], []
    for q in questions:
        hybrid.append([p.article_id for p in engine.retriever.retrieve(q["question"], 5)])
        vector = engine.embedder.embed([q["question"]])[0]
        dense.append([cid.rsplit(":", 2)[0] for cid, _ in engine.store.query(vector, 5)])
    gold = [q["gold_article_ids"] for q in questions]
    return _result(spec, len(report.added) + len(report.updated), len(rows), (seconds, cpu), load_s, rss, coverage,
                   texts, profile, hit_at(hybrid, gold), len(questions), hit5_dense=hit_at(dense, gold),
                   failed=len(report.failed), duplicates=len(report.duplicates))


def run_llamaindex(spec: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.ingestion import run_transformations
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.embedding.onnx_export import model_dir

    LlamaSettings.llm = None  # a MockLLM: nothing here may reach OpenAI
    embed_model = HuggingFaceEmbedding(model_name=str(model_dir()), device="cpu")
    LlamaSettings.embed_model = embed_model
    alltext = spec["pipeline"] == "llamaindex-alltext"
    splitter = SentenceSplitter(chunk_size=spec["chunk_tokens"], chunk_overlap=spec["chunk_overlap"])
    transformations: list[Any] = [splitter] if alltext else LlamaSettings.transformations
    embed_model.get_text_embedding("warm up")
    run_transformations([Document(text=WARM_TEXT)], transformations)  # the same one-off imports as newsrag's warm-up
    load_s = time.perf_counter() - t0
    client = chromadb.PersistentClient(path=str(Path(spec["data_dir"]) / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))

    t1, cpu1 = time.perf_counter(), time.process_time()
    docs = []
    with open(spec["corpus"], encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            docs.append(Document(text=record["text"], id_=record["id"],
                                 metadata={"title": record["title"], "article_id": record["id"]},
                                 excluded_embed_metadata_keys=["article_id"],
                                 excluded_llm_metadata_keys=["article_id"]))
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("baseline"))
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=embed_model, transformations=transformations)
    seconds, cpu = time.perf_counter() - t1, time.process_time() - cpu1
    rss = peak_rss_mb()

    coverage = Coverage()
    nodes = run_transformations(docs, transformations)
    for node in nodes:
        embedded = node.get_content(metadata_mode=MetadataMode.EMBED)
        body = node.get_content(metadata_mode=MetadataMode.NONE)
        start = getattr(node, "start_char_idx", None) or 0
        coverage.add(str(node.metadata["article_id"]), embedded, embedded.find(body), start, start + len(body))
    texts = {d.id_: d.text for d in docs}
    questions = read_questions(Path(spec["questions"]) if spec.get("questions") else None)
    retriever = index.as_retriever(similarity_top_k=5)
    ranked = [[str(n.node.metadata["article_id"]) for n in retriever.retrieve(q["question"])] for q in questions]
    splitter = transformations[0]  # the one that made the chunks
    return _result(spec, len(docs), len(nodes), (seconds, cpu), load_s, rss, coverage, texts, {},
                   hit_at(ranked, [q["gold_article_ids"] for q in questions]), len(questions),
                   chunk_size=getattr(splitter, "chunk_size", None),
                   chunk_overlap=getattr(splitter, "chunk_overlap", None))


def _result(spec: dict[str, Any], articles: int, chunks: int, timed: tuple[float, float], load_s: float, rss: float,
            coverage: Coverage, texts: dict[str, str], profile: dict[str, float], hit5: float | None,
            questions: int, **extra: Any) -> dict[str, Any]:
    seconds, cpu = timed  # wall and CPU (all the process's threads): on a shared machine CPU moves less
    return {"pipeline": spec["pipeline"], "backend": spec.get("backend", "torch"), "articles": articles,
            "chunks": chunks, "ingest_s": round(seconds, 2), "ingest_cpu_s": round(cpu, 2),
            "model_load_s": round(load_s, 2),
            "articles_per_s": round(articles / seconds, 2), "chunks_per_s": round(chunks / seconds, 1),
            "wordpieces_per_s": round(coverage.pieces / seconds), "text_share": coverage.share(texts),
            "peak_rss_mb": rss, "profile_s": profile, "hit5": hit5, "questions": questions, **extra}


def main(argv: list[str]) -> int:
    from app.settings import go_offline

    go_offline()
    spec = json.loads(argv[0])
    result = run_newsrag(spec) if spec["pipeline"] == "newsrag" else run_llamaindex(spec)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
