"""Hybrid retrieval: dense (Chroma) + keyword (bm25s) fused with reciprocal rank fusion, plus the speaker lane
(app/answering/speakers.py) for "what did X say (about Y)?", whose quote passages go first."""

from __future__ import annotations

from typing import Any, Protocol

from app.answering.speakers import SpeakerIndex, speaker_passages, speaker_question
from app.types import Passage
from index.embedding.base import Embedder
from index.keyword import KeywordStore
from index.manifest import Manifest
from index.store import Store
from index.types import Article

RRF_K = 60


class Retriever(Protocol):
    def retrieve(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Passage]: ...


class HybridRetriever:
    def __init__(self, embedder: Embedder, store: Store, keyword: KeywordStore, manifest: Manifest):
        self.embedder, self.store, self.keyword, self.manifest = embedder, store, keyword, manifest
        self.speakers = SpeakerIndex(manifest)

    def retrieve(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Passage]:
        vector = self.embedder.embed([query])[0]
        pool = max(4 * k, 20) * (4 if filters else 1)
        dense = self.store.query(vector, pool)
        sparse = self.keyword.query(query, pool)
        fused: dict[str, float] = {}
        for ranking in (dense, sparse):
            for rank, (cid, _) in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        rows = self.manifest.chunks_by_id(list(fused))  # only chunks the manifest knows are live
        articles = self.manifest.articles(r["article_id"] for r in rows.values())
        dense_s, sparse_s = dict(dense), dict(sparse)
        passages: list[Passage] = []
        seen: set[str] = set()
        for cid in sorted(rows, key=lambda c: -fused[c]):
            row = rows[cid]
            art = articles[row["article_id"]]
            text = art.text[row["start"]:row["end"]]
            if text in seen or not _keep(art, filters):
                continue
            seen.add(text)
            passages.append(Passage(chunk_id=cid, article_id=art.id, title=art.title, date=art.date, url=art.url,
                                    source=art.source, start=row["start"], end=row["end"], text=text,
                                    rank=len(passages) + 1, dense=dense_s.get(cid), keyword=sparse_s.get(cid),
                                    fused=fused[cid]))
            if len(passages) == k:
                break
        speaker = speaker_question(query)
        if speaker:
            passages = speaker_passages(self.manifest, self.speakers, self.embedder, speaker, k,
                                        lambda article: _keep(article, filters)) + passages
        return passages


def _keep(article: Article, filters: dict[str, Any] | None) -> bool:
    if not filters:
        return True
    if filters.get("source") and article.source != filters["source"]:
        return False
    if filters.get("article_ids") and article.id not in filters["article_ids"]:
        return False
    date = article.date or ""
    if filters.get("date_from") and (not date or date < str(filters["date_from"])):
        return False
    return not (filters.get("date_to") and (not date or date > str(filters["date_to"])))
