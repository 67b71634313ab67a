"""The second stage of retrieval: reorder (and cut) the retrieved passages before an answerer reads them.

A reranker takes the question and the retriever's passages and returns the ones to answer from, best first. The
retriever can be asked for a deeper pool than the answerer needs so that a reranker has something to choose from.
Rerankers are registered in app/answering/registry.py (NEWSRAG_RERANKER); `none` keeps the retriever's order.
"""

from __future__ import annotations

from typing import Protocol

from app.settings import Settings
from app.types import Passage
from index.embedding.base import Embedder


class Reranker(Protocol):
    def depth(self, k: int) -> int:
        """How many passages to retrieve for this reranker to choose k from."""
        ...

    def rerank(self, query: str, passages: list[Passage], k: int) -> list[Passage]:
        """The passages to answer from, best first (quote passages of the speaker lane may come on top of k)."""
        ...


class Passthrough:
    """The retriever's order, unchanged."""

    @classmethod
    def build(cls, settings: Settings, embedder: Embedder) -> Passthrough:
        return cls()

    def depth(self, k: int) -> int:
        return k

    def rerank(self, query: str, passages: list[Passage], k: int) -> list[Passage]:
        return passages
