"""The keyword index: bm25s over chunk texts (title + chunk), persisted beside Chroma.

It is rebuilt from the manifest (cheap next to embedding) and stamped with the manifest generation,
so a stale or half-written index is detected and rebuilt instead of trusted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from index.manifest import Manifest
from index.text import content_words, stem


def tokens(text: str) -> list[str]:
    return [stem(w) for w in content_words(text)]


class KeywordIndex:
    def __init__(self, data_dir: Path, manifest: Manifest):
        self.dir = data_dir / "bm25"
        self.manifest = manifest
        self._bm25 = None
        self._ids: list[str] = []
        self._generation = -1

    def rebuild(self) -> None:
        import bm25s

        generation = self.manifest.generation()
        rows = self.manifest.chunk_rows()
        ids = [r["id"] for r in rows]
        corpus = [tokens(r["title"] + "\n" + r["text"][r["start"]:r["end"]]) for r in rows]
        tmp = self.dir.with_name("bm25.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        bm25 = None
        if ids:
            bm25 = bm25s.BM25()
            bm25.index([c or ["_empty_"] for c in corpus], show_progress=False)
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

    def _ensure(self) -> None:
        import bm25s

        generation = self.manifest.generation()
        if self._generation == generation:
            return
        stamp = self.dir / "newsrag.json"
        if stamp.exists():
            meta = json.loads(stamp.read_text())
            if meta["generation"] == generation:
                self._ids = meta["ids"]
                self._bm25 = bm25s.BM25.load(str(self.dir), show_progress=False) if self._ids else None
                self._generation = generation
                return
        self.rebuild()

    def query(self, text: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) best first; only chunks with a positive score."""
        self._ensure()
        query = tokens(text)
        if self._bm25 is None or not query:
            return []
        k = min(k, len(self._ids))
        docs, scores = self._bm25.retrieve([query], k=k, show_progress=False)
        return [(self._ids[int(d)], float(s)) for d, s in zip(np.ravel(docs), np.ravel(scores), strict=True)
                if s > 0]
