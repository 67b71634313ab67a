"""An LRU cache of text embeddings in front of the embedder that answering uses.

Answering embeds the same strings again and again: the question (once to retrieve, once more to score sentences
against it), the sentences of the retrieved passages (the extractive answerer scores them, the verifier compares
each claim with them) and a speaker's quotes. Passages recur across questions about the same story, so a warm
process embeds only the sentences it has not seen. Keyed by the exact text. Ingest does not go through it.

A cached vector must be a function of its text alone, or the same question could be answered differently depending
on what was asked before: the ONNX embedders run each text on its own (dynamic INT8 scales activations per run, so a
text batched with others would get a vector that depends on them; index/embedding/onnx_minilm.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from index.embedding.base import Embedder

DEFAULT_ITEMS = 20_000  # 384 float32 each: ~31 MB when full


class CachedEmbedder:
    def __init__(self, inner: Embedder, max_items: int = DEFAULT_ITEMS):
        self.inner, self.max_items = inner, max_items
        self.name, self.backend, self.dim = inner.name, inner.backend, inner.dim
        self.recipe = inner.recipe
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
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
        fresh = self.inner.embed(list(missing))
        with self._lock:
            for (text, rows), vec in zip(missing.items(), fresh, strict=True):
                out[rows] = vec
                self._vectors[text] = vec.copy()
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.max_items:
                self._vectors.popitem(last=False)
        return out

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
