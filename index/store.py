"""The vector store: a Chroma collection (embedded PersistentClient, or a `chroma run` server) behind
llama-index's ChromaVectorStore. Embeddings are always passed in: Chroma's own embedding function is never used."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import numpy as np

from index.types import Chunk

COLLECTION = "newsrag_chunks"


class Store(Protocol):
    def add(self, chunks: list[Chunk], vectors: np.ndarray, titles: dict[str, str]) -> None: ...
    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...


class ChromaStore:
    def __init__(self, data_dir: Path, host: str | None = None, port: int = 8000):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if host:
            self.client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        else:
            self.client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=chroma_settings)
        self.collection = self.client.get_or_create_collection(
            COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"})
        self.vectors = ChromaVectorStore(chroma_collection=self.collection)

    def add(self, chunks: list[Chunk], vectors: np.ndarray, titles: dict[str, str]) -> None:
        from llama_index.core.schema import BaseNode, TextNode

        nodes: list[BaseNode] = [TextNode(id_=c.id, text=c.text, embedding=v.tolist(),
                          metadata={"article_id": c.article_id, "title": titles.get(c.article_id, ""),
                                    "start": c.start, "end": c.end})
                 for c, v in zip(chunks, vectors, strict=True)]
        if nodes:
            self.vectors.add(nodes)

    def delete(self, ids: set[str] | list[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), 1000):
            self.collection.delete(ids=ids[i:i + 1000])

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first."""
        from llama_index.core.vector_stores.types import VectorStoreQuery

        if self.collection.count() == 0:
            return []
        result = self.vectors.query(VectorStoreQuery(query_embedding=vector.tolist(), similarity_top_k=k))
        # ChromaVectorStore reports exp(-distance); with cosine space distance = 1 - cosine.
        return [(i, 1.0 + math.log(s)) for i, s in zip(result.ids or [], result.similarities or [], strict=True)]

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def count(self) -> int:
        return self.collection.count()
