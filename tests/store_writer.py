"""Writes rows to the feedback or ratings SQLite store, printing each number once it is committed; run as
`python -m tests.store_writer feedback|ratings PATH TAG N` by tests/test_store_durability.py (also in threads)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

QUESTION, TEXT = "What did Kerry say about Assad?", "He said the group cannot be defeated."


def open_store(kind: str, path: Path, create: bool = False) -> Any:
    """The store; `create` (once, before any writer starts) also adds the one ratings item that writers rate."""
    if kind == "feedback":
        from app.quality.feedback import FeedbackStore

        return FeedbackStore(path)
    from app.quality.ratings import RatingsStore
    from app.types import Answer

    store = RatingsStore(path)
    if create:
        answer = Answer(question=QUESTION, text=TEXT, answerer="extractive")
        store.add_answer(answer, [{"text": TEXT, "citations": []}], origin="durability test")
    return store


def write(store: Any, kind: str, key: str) -> None:
    """One committed row whose key (feedback: the question; ratings: the rater) is `key`."""
    if kind == "feedback":
        store.add(key, TEXT, "up", comment="durability test")
    else:
        from app.quality.ratings import item_id

        store.rate(item_id(QUESTION, TEXT), key, ["supported"], "yes")


def main(kind: str, path: str, tag: str, n: str) -> None:
    store = open_store(kind, Path(path))
    for i in range(int(n)):
        write(store, kind, f"{tag}-{i}")
        print(i, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
