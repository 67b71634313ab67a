"""all-MiniLM-L6-v2 on ONNX Runtime, fp32 or dynamic INT8: no torch in the process once the model is exported.

Texts are tokenised with the model's own `tokenizers` file (truncated at 256 word pieces like sentence-transformers),
sorted by length so each batch pads little, run through the exported graph (which pools and normalises), and put
back in their original order. Each batch runs on one thread and batches run side by side, one per core: on 2 cores
that used 10-30% less CPU per text than ONNX Runtime's own intra-op threads, and a one-text query pays no thread
hand-off at all.
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
from index.embedding.onnx_export import EXPORT_VERSION, exported_model, exported_path, model_dir

MAX_TOKENS = 256


class OnnxMiniLMEmbedder:
    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, cache_dir: Path, quantized: bool = True, batch_size: int = 8, threads: int = 0):
        self.cache_dir, self.quantized = Path(cache_dir), quantized
        self.backend = "onnx-int8" if quantized else "onnx"
        self.recipe = f"export v{EXPORT_VERSION}"  # recorded in the manifest: a new recipe makes different vectors
        self.batch_size, self.threads = max(1, batch_size), threads
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
        options.intra_op_num_threads = 1  # parallel across batches instead (see embed)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])

    def _encoder(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer  # the tokenizer library loads only when a text is tokenised

            tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            tok.enable_truncation(MAX_TOKENS)
            tok.enable_padding(pad_id=0, pad_token="[PAD]")
            self._tokenizer = tok
        return self._tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoder, session = self._encoder(), self.session
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [order[at:at + self.batch_size] for at in range(0, len(order), self.batch_size)]

        def run(rows: list[int]) -> None:
            encoded = encoder.encode_batch([texts[i] for i in rows])
            feed = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}
            out[rows] = session.run(None, feed)[0]  # ONNX Runtime releases the GIL while it runs

        if len(batches) == 1 or self._workers() == 1:
            for rows in batches:
                run(rows)
        else:
            list(self._pool().map(run, batches))
        return out

    def _workers(self) -> int:
        return self.threads or os.cpu_count() or 1

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers(), thread_name_prefix="newsrag-embed")
            return self._executor

    def tokenizer(self) -> Callable[[str], list]:
        return minilm_tokenizer(self.path)
