"""Split articles into sentence-aware chunks sized in the embedder's own tokens, with exact char offsets.

`Chunker.spec` names how an article was chunked (splitter, size, overlap, tokenizer); the manifest records it per
article, so that an ingest under other chunk settings re-chunks an article instead of calling it unchanged, and
it is part of every chunk id (a re-chunked article's vectors never overwrite the live ones before the manifest
switches to them: index/ingest.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from index.types import Article, Chunk

# Bump when the splitter's behaviour changes (its class, separators, offsets): every article is then re-chunked.
SPLITTER = "llama-index SentenceSplitter v1"


class Chunker:
    def __init__(self, tokenizer: Callable[[str], list], chunk_tokens: int = 200, overlap: int = 30,
                 tokenizer_name: str = ""):
        self.tokenizer, self.chunk_tokens, self.overlap = tokenizer, chunk_tokens, overlap
        self._splitter: Any = None
        # the tokenizer chunks are counted in: the embedder's (its model's name says which)
        self.spec = json.dumps({"splitter": SPLITTER, "size": chunk_tokens, "overlap": overlap,
                                "tokenizer": tokenizer_name}, sort_keys=True)
        self._key = hashlib.sha256(self.spec.encode()).hexdigest()

    @property
    def splitter(self) -> Any:
        """Built on first use: importing llama-index costs ~1 s that `newsrag ask` does not need."""
        if self._splitter is None:
            import_nltk()
            # llama-index (~1 s): only when chunking, never for `ask`
            from llama_index.core.node_parser import SentenceSplitter

            self._splitter = SentenceSplitter(chunk_size=self.chunk_tokens, chunk_overlap=self.overlap,
                                              tokenizer=self.tokenizer, paragraph_separator="\n\n",
                                              include_metadata=False, include_prev_next_rel=False)
        return self._splitter

    def chunk(self, article: Article) -> list[Chunk]:
        from llama_index.core import Document  # llama-index (~1 s): only when chunking, never for `ask`

        doc = Document(text=article.text, id_=article.id)
        nodes = self.splitter.get_nodes_from_documents([doc])
        chunks: list[Chunk] = []
        cursor = 0
        # the text and the chunking (article.sha256 hashes the whole article: once per article, not once per chunk)
        digest = hashlib.sha256(f"{article.sha256}:{self._key}".encode()).hexdigest()[:10]
        for node in nodes:
            piece = node.get_content()
            start, end = locate(article.text, piece, cursor)
            chunks.append(Chunk(id=f"{article.id}:{digest}:{len(chunks)}", article_id=article.id,
                                ordinal=len(chunks), start=start, end=end, text=article.text[start:end]))
            cursor = start + 1
        return chunks


# What nltk's package init imports for tools the sentence tokenizer never uses: scipy.stats for one collocation
# statistic (`fisher_exact`, with its own fallback) and scikit-learn for `nltk.classify.scikitlearn` (guarded by
# `except ImportError`). ~1.3 s of every fresh `newsrag ingest`.
NLTK_EXTRAS = ("scipy.stats", "sklearn")


def import_nltk() -> None:
    """Import nltk (the SentenceSplitter's Punkt sentence tokenizer) without NLTK_EXTRAS: nltk's import 1.8-2.0 s ->
    ~0.5 s. The hidden entries are removed at once, so a later `import scipy.stats` or `import sklearn` works as
    ever. An extra that is already imported is left alone; when nltk is, this does nothing."""
    import sys

    if "nltk" in sys.modules:
        return
    hidden = [name for name in NLTK_EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None in sys.modules: that import fails
    try:
        import nltk  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]


def locate(text: str, piece: str, cursor: int) -> tuple[int, int]:
    """Offsets of `piece` in `text`, searching from `cursor` first; tolerant of changed whitespace."""
    for begin in (cursor, 0):
        at = text.find(piece, begin)
        if at >= 0:
            return at, at + len(piece)
    pattern = re.compile(r"\s+".join(re.escape(tok) for tok in piece.split()))
    found = pattern.search(text, cursor) or pattern.search(text)
    if not found:
        raise ValueError(f"chunk text not found in article: {piece[:60]!r}")
    return found.start(), found.end()
