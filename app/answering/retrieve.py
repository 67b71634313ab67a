"""Hybrid retrieval: dense (Chroma) + keyword (bm25s) fused with reciprocal rank fusion, plus a speaker
lane for "what did X say (about Y)?" that puts X's attributed statements first, ranked by relevance to Y."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from app.types import ArticleRef, Passage
from index.duplicates import DuplicateGroups
from index.embedding.base import Embedder
from index.keyword import KeywordStore
from index.manifest import Manifest
from index.store import Store
from index.text import stems
from index.types import Article, Quote

RRF_K = 60
RECENCY_WEIGHT = 2.0  # NEWSRAG_RECENCY_WEIGHT's default: calibration Hit@5 0.708 -> 0.750 (flat from 2 to 10)
RECENCY_DAYS = 14.0
FILTER_KEYS = ("source", "article_ids", "date_from", "date_to", "as_of")
MAX_QUOTES_EMBEDDED = 32
_SPEAKER_Q = re.compile(
    r"^\s*(?:and\s+)?(?:what|how)\s+(?:did|does|has|have|do)\s+(?P<who>.+?)\s+"
    r"(?:say|said|tell|told|think|thought|claim|claimed|argue|argued|warn|warned|comment|reiterate|announce)"
    r"(?:\s+(?:about|on|of|regarding|to)\s+(?P<topic>.+?))?\s*\??\s*$", re.I)


@dataclass
class SpeakerQuestion:
    speaker: str
    topic: str | None


def speaker_question(question: str) -> SpeakerQuestion | None:
    m = _SPEAKER_Q.match(question)
    if not m:
        return None
    who = re.sub(r"^(?:the\s+)?(?:mr|mrs|ms|dr)\.?\s+", "", m.group("who").strip(), flags=re.I)
    if not who or not who[0].isupper():
        return None
    return SpeakerQuestion(who, m.group("topic"))


class Retriever(Protocol):
    def retrieve(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Passage]: ...


class HybridRetriever:
    def __init__(self, embedder: Embedder, store: Store, keyword: KeywordStore, manifest: Manifest,
                 groups: DuplicateGroups | None = None, recency_weight: float = RECENCY_WEIGHT):
        self.embedder, self.store, self.keyword, self.manifest = embedder, store, keyword, manifest
        self.groups = groups  # near-duplicate articles: one passage per group (index/duplicates.py)
        self.recency_weight = recency_weight

    def retrieve(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Passage]:
        """`filters`: source, article_ids, date_from/date_to, as_of (applied inside both searches) and
        prefer_from/prefer_to (a soft window: app/answering/timeframe.py)."""
        vector = self.embedder.embed([query])[0]
        pool = max(4 * k, 20)
        dense, sparse = self._search(query, vector, pool, filters or {})
        fused: dict[str, float] = {}
        for ranking in (dense, sparse):
            for rank, (cid, _) in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        rows = self.manifest.chunks_by_id(list(fused))  # only chunks the manifest knows are live
        articles = self.manifest.articles(r["article_id"] for r in rows.values())
        if filters and filters.get("prefer_from") and self.recency_weight:
            for cid, row in rows.items():
                fused[cid] *= recency(articles[row["article_id"]].date, filters, self.recency_weight)
        dense_s, sparse_s = dict(dense), dict(sparse)
        groups = self.groups.of(articles) if self.groups else {}
        passages: list[Passage] = []
        seen: set[str] = set()
        for cid in sorted(rows, key=lambda c: -fused[c]):
            row = rows[cid]
            art = articles[row["article_id"]]
            text = art.text[row["start"]:row["end"]]
            copies = groups.get(art.id, [])
            if text in seen or not _keep(art, filters) or (copies and copies[0] in seen):
                continue
            seen.update([text, *copies[:1]])
            passages.append(Passage(chunk_id=cid, article_id=art.id, title=art.title, date=art.date, url=art.url,
                                    source=art.source, start=row["start"], end=row["end"], text=text,
                                    rank=len(passages) + 1, dense=dense_s.get(cid), keyword=sparse_s.get(cid),
                                    fused=fused[cid], also_in=self._also_in(copies, art.id)))
            if len(passages) == k:
                break
        speaker = speaker_question(query)
        if speaker:
            passages = self._speaker_passages(speaker, k, filters) + passages
        return passages

    def _search(self, query: str, vector: np.ndarray, pool: int,
                filters: dict[str, Any]) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Dense and keyword candidates, filtered inside each search so that `pool` of each still come back."""
        if not any(filters.get(key) for key in FILTER_KEYS):
            return self.store.query(vector, pool), self.keyword.query(query, pool)
        among, total = self.manifest.chunks_matching(filters)
        if len(among) == total:
            return self.store.query(vector, pool), self.keyword.query(query, pool)
        dense = None
        if 2 * len(among) >= total:  # most chunks pass: a wider plain search is cheaper than a list of 30k ids
            dense = [hit for hit in self.store.query(vector, pool * 3) if hit[0] in among][:pool]
        if dense is None or len(dense) < pool:
            dense = self.store.query(vector, pool, sorted(among))
        return dense, self.keyword.query(query, pool, among)

    def _also_in(self, copies: list[str], article_id: str) -> list[ArticleRef]:
        others = self.manifest.articles(c for c in copies if c != article_id)
        return [ArticleRef(article_id=a.id, title=a.title, date=a.date, url=a.url, source=a.source)
                for a in sorted(others.values(), key=lambda a: (a.date or "", a.id))]

    def _speaker_passages(self, q: SpeakerQuestion, k: int, filters: dict[str, Any] | None) -> list[Passage]:
        surname = q.speaker.split()[-1].strip("’'s?")
        quotes = [x for x in self.manifest.quotes_by(surname) if _name_matches(q.speaker, x.speaker)]
        if not quotes:
            return []
        articles = self.manifest.articles(x.article_id for x in quotes)
        quotes = [x for x in quotes if _keep(articles[x.article_id], filters)]
        if not quotes:
            return []
        if q.topic:
            quotes = _most_on_topic(quotes, q.topic, MAX_QUOTES_EMBEDDED)
            vecs = self.embedder.embed([q.topic] + [x.text for x in quotes])
            relevance = vecs[1:] @ vecs[0]
        else:
            relevance = np.zeros(len(quotes))
        order = sorted(range(len(quotes)), key=lambda i: -float(relevance[i]))[:k]
        out = []
        for rank, i in enumerate(order, 1):
            x, art = quotes[i], articles[quotes[i].article_id]
            out.append(Passage(chunk_id=f"{x.article_id}:quote:{x.start}", article_id=x.article_id, title=art.title,
                               date=art.date, url=art.url, source=art.source, start=x.start, end=x.end, text=x.text,
                               kind="quote", speaker=x.speaker, rank=rank, dense=float(relevance[i]),
                               fused=float(relevance[i])))
        return out


def _most_on_topic(quotes: list[Quote], topic: str, limit: int) -> list[Quote]:
    """A prolific speaker has thousands of quotes in a large corpus (Trump: ~2,000 in 3,000 articles), and embedding
    them all took 20 s a question: keep the `limit` sharing the most topic words (ties: corpus order) for the model."""
    if len(quotes) <= limit:
        return quotes
    wanted = stems(topic)
    shared = [len(wanted & stems(x.text)) for x in quotes]
    keep = sorted(sorted(range(len(quotes)), key=lambda i: -shared[i])[:limit])
    return [quotes[i] for i in keep]


def _name_matches(asked: str, speaker: str) -> bool:
    asked_parts = [p.lower().strip("’'s") for p in asked.split()]
    return all(p in speaker.lower() for p in asked_parts if p)


def recency(day: str | None, filters: dict[str, Any], weight: float) -> float:
    """The soft-window prior: x(1 + weight) inside [prefer_from, prefer_to], the lift fading with the days outside
    it (halved ~10 days out: RECENCY_DAYS is its e-folding time); an undated article gets no lift. Tuned on the
    calibration half (docs/eval.md)."""
    if not day:
        return 1.0
    lo, hi = str(filters["prefer_from"]), str(filters.get("prefer_to") or "9999-12-31")
    try:
        d = date.fromisoformat(day[:10])
        gap = (date.fromisoformat(lo) - d).days if day[:10] < lo else max(0, (d - date.fromisoformat(hi)).days)
    except ValueError:
        return 1.0
    return 1.0 + weight * math.exp(-gap / RECENCY_DAYS)


def _keep(article: Article, filters: dict[str, Any] | None) -> bool:
    if not filters:
        return True
    if filters.get("as_of") and article.date and article.date > str(filters["as_of"]):
        return False
    if filters.get("source") and article.source != filters["source"]:
        return False
    if filters.get("article_ids") and article.id not in filters["article_ids"]:
        return False
    date = article.date or ""
    if filters.get("date_from") and (not date or date < str(filters["date_from"])):
        return False
    return not (filters.get("date_to") and (not date or date > str(filters["date_to"])))
