"""A deterministic bag-of-words embedder for tests and for trying newsrag without loading a model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np


class HashEmbedder:
    """A deterministic bag-of-words embedder: same text, same vector; shared words make vectors close.

    For tests and for trying newsrag without loading a model. Not a semantic model.
    """

    name = "hash"
    backend = "builtin"
    recipe = ""

    def __init__(self, dim: int = 384):
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def tokenizer(self) -> Callable[[str], list]:
        return lambda text: re.findall(r"\w+|[^\w\s]", text)

    def preload(self) -> None:
        """Nothing to load."""

    @classmethod
    def build(cls, batch_size: int, backend: str, cache_dir: object) -> HashEmbedder:
        """The registry's factory (index/embedding/factory.py): no model, so the options do not apply."""
        return cls()
