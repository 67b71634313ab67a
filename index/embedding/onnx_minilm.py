"""all-MiniLM-L6-v2 on ONNX Runtime, fp32 or dynamic INT8: no torch in the process once the model is exported.

Each text is tokenised with the model's own `tokenizers` file (truncated at 256 word pieces like
sentence-transformers) and run on its own through the exported graph (which pools and normalises); texts run side
by side, one per usable core, each run on one thread. Why one text per run (profiles in docs/latency.md): a batch
of 8 news chunks made every op of the graph slower per token (its activations, ~8x 256 x 1536 floats, overflow the
core's cache), padding needs a mask whose ops cost ~7% more, and dynamic INT8 scales activations per run, so a
text's vector depended on the texts batched with it. One text per run is ~1.7x less CPU per text than batches of
8 on a VNNI CPU, and the vector of a text is the same at ingest and at query time. One session with ONNX Runtime's
own intra-op threads used more CPU per text than parallel single-thread runs on 2 cores, and a one-text query pays
no thread hand-off at all.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.base import minilm_tokenizer
from index.embedding.cpu import usable_cores
from index.embedding.onnx_export import DISABLED_OPTIMIZERS, RECIPE, exported_model, exported_path, model_dir

MAX_TOKENS = 256


class OnnxMiniLMEmbedder:
    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, cache_dir: Path, quantized: bool = True, threads: int = 0):
        self.cache_dir, self.quantized = Path(cache_dir), quantized
        self.backend = "onnx-int8" if quantized else "onnx"
        self.recipe = RECIPE  # recorded in the manifest: a new recipe makes different vectors
        self.threads = threads  # texts embedded side by side; 0: one per usable core
        self.path = model_dir()
        self._session: Any = None
        self._tokenizer: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Open the model in a background thread (ONNX Runtime releases the GIL while it loads), so it overlaps
        the importing the caller does meanwhile; a no-op until the model has been exported once."""
        if self._session is None and exported_path(self.cache_dir, self.quantized, self.path).exists():
            threading.Thread(target=lambda: self.session, name="newsrag-onnx-load").start()

    @property
    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._open()
        return self._session

    def _open(self) -> Any:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort  # onnxruntime (~0.3 s): when the first text is embedded

        model = exported_model(self.cache_dir, self.quantized, self.path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # parallel across texts instead (see embed)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"],
                                    disabled_optimizers=list(DISABLED_OPTIMIZERS))

    def _encoder(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer  # the tokenizer library loads only when a text is tokenised

            tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            tok.enable_truncation(MAX_TOKENS)
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoder, session = self._encoder(), self.session

        def run(row: int) -> None:
            ids = np.array([encoder.encode(texts[row]).ids], dtype=np.int64)
            out[row] = session.run(None, {"input_ids": ids})[0][0]  # ONNX Runtime releases the GIL while it runs

        if len(texts) == 1 or self.workers() == 1:
            for row in range(len(texts)):
                run(row)
        else:
            # longest first: the last texts to start are the short ones, so the cores finish together
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            list(self._pool().map(run, order))
        return out

    def workers(self) -> int:
        return self.threads or usable_cores()

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers(), thread_name_prefix="newsrag-embed")
            return self._executor

    def tokenizer(self) -> Callable[[str], list]:
        return minilm_tokenizer(self.path)
