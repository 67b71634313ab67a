"""The vector store: a Chroma collection, embedded (PersistentClient in the data dir) or on a Chroma server
(`chroma run --path DIR --port N`, selected by NEWSRAG_CHROMA_URL) through HttpClient.

The collection holds what a search needs: each chunk's id, its vector and four small metadata fields (article_id,
title, start, end, for anyone inspecting it or filtering with Chroma's `where`). The chunk's text is not stored
there: it lives once, in the manifest, where answers read it. Storing it in Chroma as well (as llama-index's
ChromaVectorStore does, with the whole node again as JSON metadata) made Chroma's add ~4x dearer: Chroma keeps a
full-text index of every document (~1.4 ms of CPU a chunk against ~0.5 ms for the vector and metadata, measured in
docs/latency.md), with the GIL held, for text nothing reads. Collections written before this keep their documents;
they are never read. Queries need only ids and distances, and `newsrag ask` never imports llama-index (about a
second of a cold start). Embeddings are always passed in: Chroma's own embedding function is never used.

The embedded store reads and writes through `chromadb_rust_bindings` without importing the `chromadb` package
(index/chroma_local.py: ~1.5 s of a one-article `newsrag ingest` and a third of a `newsrag ask` cold start); a
Chroma server goes through chromadb's HttpClient, opened on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np

from index.chroma_local import METADATA, LocalCollection
from index.types import Chunk

COLLECTION = "newsrag_chunks"
DELETE_BATCH = 1000


class Store(Protocol):
    """The vector store the indexer writes and the retriever reads (ChromaStore, embedded or a Chroma server)."""

    def add(self, chunks: list[Chunk], vectors: np.ndarray, titles: dict[str, str]) -> None: ...
    def delete(self, ids: set[str] | list[str]) -> None: ...
    def query(self, vector: np.ndarray, k: int, among: list[str] | None = None) -> list[tuple[str, float]]: ...
    def ids(self) -> set[str]: ...
    def count(self) -> int: ...


def server_address(url: str) -> tuple[str, int, bool]:
    """http://host:port -> (host, port, ssl); the port defaults to 8000 (Chroma's) or 443 for https."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"NEWSRAG_CHROMA_URL must look like http://host:8000, not {url!r}")
    ssl = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if ssl else 8000), ssl


class ChromaStore:
    def __init__(self, data_dir: Path, url: str = ""):
        self.path, self.url = data_dir / "chroma", url
        if url:
            server_address(url)  # a malformed URL fails now, not at the first question
        self._local = None if url else LocalCollection(self.path, COLLECTION)
        self._client: Any = None
        self._collection: Any = None

    @property
    def collection(self) -> Any:
        """The server's collection through chromadb's HttpClient, or the local one (the same calls it answers)."""
        if self._local is not None:
            return self._local
        if self._collection is None:
            import chromadb  # ~1.5 s to import: only for a Chroma server
            from chromadb.config import Settings as ChromaSettings  # with chromadb (see above)

            host, port, ssl = server_address(self.url)
            self._client = chromadb.HttpClient(host=host, port=port, ssl=ssl,
                                               settings=ChromaSettings(anonymized_telemetry=False))
            self._collection = self._client.get_or_create_collection(
                COLLECTION, embedding_function=None, metadata=METADATA)
        return self._collection

    def max_batch_size(self) -> int:
        if self._local is not None:
            return self._local.max_batch_size()
        self.collection  # noqa: B018 - opens the client
        return int(self._client.get_max_batch_size())

    def add(self, chunks: list[Chunk], vectors: np.ndarray, titles: dict[str, str]) -> None:
        ids = [c.id for c in chunks]
        metadatas = [{"article_id": c.article_id, "title": titles.get(c.article_id, ""), "start": c.start, "end": c.end}
                     for c in chunks]
        vectors = np.asarray(vectors, dtype=np.float32)
        # Chroma refuses a batch over its maximum (5,461 here): a long article (a 19 MB one has 21k chunks) is
        # written in slices. Atomicity is not lost: vectors become live only with the manifest transaction.
        step = max(1, self.max_batch_size()) if chunks else 1
        for i in range(0, len(chunks), step):
            self.collection.add(ids=ids[i:i + step], embeddings=vectors[i:i + step], metadatas=metadatas[i:i + step])

    def delete(self, ids: set[str] | list[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), DELETE_BATCH):
            self.collection.delete(ids=ids[i:i + DELETE_BATCH])

    def query(self, vector: np.ndarray, k: int, among: list[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) best first (fewer than k when the collection is smaller); `among`: search
        only these chunks (a filter applied inside the search, so that k still come back)."""
        if k <= 0 or among == []:
            return []
        vector = np.asarray(vector, dtype=np.float32)
        if self._local is not None:
            found = self._local.query(vector, k, among)
        else:
            result = self.collection.query(query_embeddings=[vector], n_results=k, include=["distances"], ids=among)
            found = (result["ids"][0], result["distances"][0])
        # cosine space: distance = 1 - cosine
        return [(i, 1.0 - float(d)) for i, d in zip(*found, strict=True)]

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vector of each of these chunk ids that is in the store."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), 5000):
            got = self.collection.get(ids=ids[i:i + 5000], include=["embeddings"])
            out.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
        return out

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def count(self) -> int:
        return int(self.collection.count())
