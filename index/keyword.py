"""The keyword index: bm25s over chunk texts (title + chunk), persisted beside Chroma.

It is rebuilt from the manifest (cheap next to embedding) and stamped with the manifest generation,
so a stale or half-written index is detected and rebuilt instead of trusted.

Only the holder of the data dir's write lock persists it. A reader (an `ask`, one of `serve --workers N`) that finds it
stale rebuilds it under that lock when the lock is free; when a writer holds it (an ingest between batches), the
reader keeps the index it has, or builds one in memory, until the writer has persisted a fresh one. A stale index is
safe to search: retrieval keeps only chunks the manifest lists.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.lock import IndexBusy, write_lock
from index.manifest import Manifest
from index.text import tokens


class KeywordStore(Protocol):
    """The keyword index the indexer keeps in step with the manifest and the retriever queries."""

    def query(self, text: str, k: int, among: set[str] | None = None) -> list[tuple[str, float]]: ...
    def rebuild(self) -> None: ...
    def stored_ids(self) -> list[str] | None: ...
    def load(self) -> None: ...


class KeywordIndex:
    def __init__(self, data_dir: Path, manifest: Manifest):
        self.dir = data_dir / "bm25"
        self.manifest = manifest
        self._bm25 = None
        self._ids: list[str] = []
        self._generation = -1

    def _build(self) -> tuple[Any, list[str], int]:
        import bm25s  # bm25s pulls scipy (~0.2 s): only when the keyword index is built or loaded

        generation = self.manifest.generation()
        ids, corpus = [], []
        for chunk_id, title, text in self.manifest.chunk_texts():
            ids.append(chunk_id)
            corpus.append(tokens(title + "\n" + text))
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index([c or ["_empty_"] for c in corpus], show_progress=False)
        return bm25, ids, generation

    def rebuild(self) -> None:
        """Build from the manifest and persist; the caller holds the write lock."""
        bm25, ids, generation = self._build()
        tmp = self.dir.with_name("bm25.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if bm25 is not None:
            bm25.save(str(tmp), show_progress=False)
        (tmp / "newsrag.json").write_text(json.dumps({"generation": generation, "ids": ids}))
        old = self.dir.with_name("bm25.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.dir.exists():
            self.dir.rename(old)
        tmp.rename(self.dir)
        shutil.rmtree(old, ignore_errors=True)
        self._bm25, self._ids, self._generation = bm25, ids, generation

    def stored_ids(self) -> list[str] | None:
        """The chunk ids the persisted keyword index covers, if it is current; None when stale or missing."""
        stamp = self.dir / "newsrag.json"
        if not stamp.exists():
            return None
        meta = json.loads(stamp.read_text())
        return meta["ids"] if meta["generation"] == self.manifest.generation() else None

    @property
    def loaded(self) -> bool:
        """Whether the index of the current manifest generation is in memory (a query would not load it)."""
        return self._generation == self.manifest.generation()

    def load(self) -> None:
        """Open the persisted index (or rebuild it when stale): what the first query would otherwise do."""
        self._ensure()

    def _load(self, generation: int | None) -> bool:
        """Load the persisted index if it is stamped with `generation` (None: whichever it is)."""
        import bm25s  # bm25s pulls scipy (~0.2 s): only when the keyword index is built or loaded

        try:
            meta = json.loads((self.dir / "newsrag.json").read_text())
            if generation is not None and meta["generation"] != generation:
                return False
            bm25 = bm25s.BM25.load(str(self.dir), show_progress=False) if meta["ids"] else None
        except (OSError, ValueError):  # missing, or swapped by a writer right now
            return False
        self._bm25, self._ids, self._generation = bm25, meta["ids"], meta["generation"]
        return True

    def _ensure(self) -> None:
        generation = self.manifest.generation()
        if self._generation == generation or self._load(generation):
            return
        try:
            with write_lock(self.dir.parent):
                if not self._load(self.manifest.generation()):
                    self.rebuild()
        except IndexBusy:  # a writer will persist a fresh one; until then the one we have, the stale one on disk,
            if self._generation < 0 and not self._load(None):  # or (none on disk yet) one built in memory
                self._bm25, self._ids, self._generation = self._build()

    def query(self, text: str, k: int, among: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks with a positive score; `among`: only these chunks (a
        filter inside the search: bm25s's weight mask, so that k still come back)."""
        self._ensure()
        query = tokens(text)
        if self._bm25 is None or not query or among == set():
            return []
        k = min(k, len(self._ids))
        mask = None if among is None else np.fromiter((i in among for i in self._ids), bool, len(self._ids))
        docs, scores = self._bm25.retrieve([query], k=k, show_progress=False, weight_mask=mask)
        return [(self._ids[int(d)], float(s)) for d, s in zip(np.ravel(docs), np.ravel(scores), strict=True)
                if s > 0]
