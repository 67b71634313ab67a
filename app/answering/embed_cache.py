"""An LRU cache of text embeddings in front of the embedder that answering uses.

Answering embeds the same strings again and again: the question (once to retrieve, once more to score sentences
against it), the sentences of the retrieved passages (the extractive answerer scores them, the verifier compares
each claim with them) and a speaker's quotes. Passages recur across questions about the same story, so a warm
process embeds only the sentences it has not seen. Keyed by the exact text. Ingest does not go through it.

With `solo` (the INT8 backend), each text is embedded on its own (texts run side by side, one per core). Dynamic INT8
quantisation scales activations per batch, so a text embedded among others gets a vector that depends on them (cosine
down to ~0.97 against the same text alone): a cached vector would then depend on which question first brought the text
in, and the same question could be answered differently depending on what was asked before. Alone, a text's vector
is a function of the text (and costs the same CPU: no padding).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from index.embedding.base import Embedder

DEFAULT_ITEMS = 20_000  # 384 float32 each: ~31 MB when full


class CachedEmbedder:
    def __init__(self, inner: Embedder, max_items: int = DEFAULT_ITEMS, solo: bool = False):
        self.inner, self.max_items, self.solo = inner, max_items, solo
        self.name, self.backend, self.dim = inner.name, inner.backend, inner.dim
        self.recipe = inner.recipe
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.hits = self.misses = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text; the texts not cached yet are embedded in one call."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                vec = self._vectors.get(text)
                if vec is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._vectors.move_to_end(text)
                    out[row] = vec
            self.hits += len(texts) - sum(len(rows) for rows in missing.values())
            self.misses += len(missing)
        if not missing:
            return out
        fresh = self._embed(list(missing))
        with self._lock:
            for (text, rows), vec in zip(missing.items(), fresh, strict=True):
                out[rows] = vec
                self._vectors[text] = vec.copy()
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.max_items:
                self._vectors.popitem(last=False)
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not self.solo or len(texts) == 1:
            return self.inner.embed(texts)
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="newsrag-embed-solo")
        rows = list(self._pool.map(lambda text: self.inner.embed([text])[0], texts))
        return np.stack(rows).astype(np.float32, copy=False)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

    def tokenizer(self) -> Callable[[str], list]:
        return self.inner.tokenizer()

    def preload(self) -> None:
        self.inner.preload()

    def __len__(self) -> int:
        return len(self._vectors)

    def __getattr__(self, name: str) -> Any:
        """Anything else (e.g. the ONNX embedder's `session`, which the bench reads) is the wrapped embedder's."""
        return getattr(self.inner, name)
