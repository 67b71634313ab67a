"""What every embedder is (`Embedder`), and MiniLM's own word pieces, which chunks are sized in.

`name` + `backend` + `recipe` identify the vectors: an index built with one triple refuses another
(index/manifest.py). The embedders themselves: minilm.py (torch), onnx_minilm.py (ONNX Runtime), hashing.py (a
deterministic fake for tests); factory.py picks one by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

BACKENDS = ("torch", "onnx", "onnx-int8")  # and "auto": index/embedding/cpu.py chooses one


class Embedder(Protocol):
    name: str
    backend: str
    recipe: str  # how the model was exported ("" when not exported): recorded in the manifest
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def tokenizer(self) -> Callable[[str], list]:
        """The tokenizer the model counts its input limit in (used to size chunks)."""
        ...

    def preload(self) -> None:
        """Start loading the model in the background (a no-op where there is nothing to load)."""
        ...


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
        from tokenizers import Tokenizer  # the tokenizer library loads only when a text is tokenised

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


