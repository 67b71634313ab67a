"""Hybrid retrieval: dense (Chroma) + keyword (BM25) fused with reciprocal rank fusion (app/answering/fusion.py),
one passage per article, plus the speaker lane (app/answering/speakers.py) for "what did X say (about Y)?", whose
quote passages go first."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from itertools import chain
from typing import Any, Protocol

import numpy as np

from app.answering.fusion import POOL, Candidates, choose, rrf
from app.answering.speakers import SpeakerIndex, speaker_passages, speaker_question
from app.types import Passage
from index.duplicates import DuplicateGroups
from index.embedding.base import Embedder
from index.keyword import KeywordStore
from index.manifest import Manifest
from index.store import Store
from index.types import Article

RECENCY_WEIGHT = 2.0  # NEWSRAG_RECENCY_WEIGHT's default: calibration Hit@5 0.708 -> 0.750 (flat from 2 to 10)
RECENCY_DAYS = 14.0
FILTER_KEYS = ("source", "article_ids", "date_from", "date_to", "as_of")
MATCHING_CACHED = 8  # filters whose chunk ids are remembered (~1.5 MB each at 30k chunks)
Prior = Callable[[str, list[str]], dict[str, float]]  # (query, article ids best first) -> {article id: factor}


def search_depth(k: int) -> int:
    """How many candidates each search (dense, BM25) is asked for, for k passages."""
    return max(POOL, 4 * k)


class Retriever(Protocol):
    def retrieve(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Passage]: ...


class HybridRetriever:
    """Dense + BM25, fused (app/answering/fusion.py), at most `per_article` passages per article (a group of
    near-duplicate articles counts as one) and no near-copies of a passage.

    `prior`, when set, multiplies each candidate's fused score by a factor for its article: it gets the query and
    the candidates' article ids, best first, and returns {article id: factor}; articles it leaves out keep their
    score. The soft date window of a question (`prefer_from`/`prefer_to`, see `recency`) is applied the same way."""

    def __init__(self, embedder: Embedder, store: Store, keyword: KeywordStore, manifest: Manifest,
                 groups: DuplicateGroups | None = None, recency_weight: float = RECENCY_WEIGHT,
                 per_article: int = 1, prior: Prior | None = None):
        self.embedder, self.store, self.keyword, self.manifest = embedder, store, keyword, manifest
        self.groups = groups  # near-duplicate articles: one passage per group (index/duplicates.py)
        self.recency_weight, self.per_article, self.prior = recency_weight, per_article, prior
        self.speakers = SpeakerIndex(manifest)
        self._matching: OrderedDict[str, tuple[frozenset[str], int]] = OrderedDict()  # of generation _generation
        self._matching_lock = threading.Lock()
        self._generation = -1
        self._articles: list[tuple[str, str | None, str | None]] = []  # (id, date, source)
        self._chunks_of: dict[str, list[str]] = {}  # article id -> its chunk ids
        self._total = 0  # chunks in all

    def retrieve(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Passage]:
        """`filters`: source, article_ids, date_from/date_to, as_of (applied inside both searches) and
        prefer_from/prefer_to (a soft window: app/answering/timeframe.py)."""
        vector = self.embedder.embed([query])[0]
        dense, sparse = self._search(query, vector, search_depth(k), filters or {})
        fused = rrf([dense, sparse])
        order = sorted(fused, key=lambda c: (-fused[c], c))  # ties by id: the order the manifest's rows came in
        found = Candidates(self.manifest, self.groups, order)
        wants_dates = bool(filters and filters.get("prefer_from") and self.recency_weight)
        if wants_dates or self.prior is not None:  # a factor may lift any candidate: every row is needed
            live = [c for c in order if found.row(c, everything=True) is not None]
            ids = list(dict.fromkeys(found.rows[c]["article_id"] for c in live))
            factors: dict[str, float] = {}
            if wants_dates:
                dated = self.manifest.headers(ids)
                factors = {a: recency(dated[a]["date"], filters or {}, self.recency_weight) for a in ids if a in dated}
            if self.prior is not None:
                for a, f in self.prior(query, ids).items():
                    factors[a] = factors.get(a, 1.0) * f
            if factors:
                fused = {c: f * factors.get(found.rows[c]["article_id"], 1.0) if c in found.rows else f
                         for c, f in fused.items()}
                order = found.order = sorted(live, key=lambda c: (-fused[c], c))
                found.position = {c: i for i, c in enumerate(order)}  # blocks of rows read in the new order

        def text_of(cid: str) -> str | None:
            text, row = found.text(cid), found.rows.get(cid)
            return text[row["start"]:row["end"]] if text is not None and row is not None else None

        # Every candidate passed `filters` inside both searches (`_search`): the cap needs only rows and groups.
        chosen = choose(order, found.group, text_of, k, self.per_article, found.own)
        own = [found.rows[cid]["article_id"] for cid in chosen]
        copies = self.groups.of(own) if self.groups is not None else {}
        headers = self.manifest.headers(set(own).union(*copies.values()))  # one read for all passages
        dense_s, sparse_s = dict(dense), dict(sparse)
        passages: list[Passage] = []
        for cid, article_id in zip(chosen, own, strict=True):
            row = found.rows[cid]
            passages.append(Passage(chunk_id=cid, **headers[article_id], start=row["start"], end=row["end"],
                                    text=text_of(cid) or "", rank=len(passages) + 1,
                                    dense=dense_s.get(cid), keyword=sparse_s.get(cid), fused=fused[cid],
                                    also_in=_also_in(article_id, copies.get(article_id, []), headers)))
        speaker = speaker_question(query)
        if speaker:
            passages = speaker_passages(self.manifest, self.speakers, self.embedder, speaker, k,
                                        lambda article: _keep(article, filters)) + passages
        return passages

    def _search(self, query: str, vector: np.ndarray, pool: int,
                filters: dict[str, Any]) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Dense and keyword candidates, filtered inside each search so that `pool` of each still come back."""
        if not any(filters.get(key) for key in FILTER_KEYS):
            return self.store.query(vector, pool), self.keyword.query(query, pool)
        among, total = self._chunks_matching(filters)
        if len(among) == total:
            return self.store.query(vector, pool), self.keyword.query(query, pool)
        dense = None
        if 2 * len(among) >= total:  # most chunks pass: a wider plain search is cheaper than a list of 30k ids
            dense = [hit for hit in self.store.query(vector, pool * 3) if hit[0] in among][:pool]
        if dense is None or len(dense) < pool:
            dense = self.store.query(vector, pool, sorted(among))
        return dense, self.keyword.query(query, pool, among)

    def _chunks_matching(self, filters: dict[str, Any]) -> tuple[frozenset[str], int]:
        """The chunks whose article passes `filters` (the rules of `_passes`) and how many chunks there are,
        remembered per
        manifest generation (a few filters at a time): a server asks every question as of the newest article, the
        same filter each time. A new filter is judged on the articles (3k) from a table read once per commit: the
        SQL join over ~28k chunk ids took ~65-70 ms a question at 33.7k chunks."""
        key = repr(sorted((name, sorted(value) if isinstance(value, list | set | tuple) else str(value))
                          for name, value in filters.items() if name in FILTER_KEYS and value))
        with self._matching_lock:
            generation = self.manifest.generation()  # read before the tables: a later commit is seen next time
            if generation != self._generation:
                self._matching.clear()
                self._articles, self._chunks_of = self.manifest.filter_table()
                self._total = sum(map(len, self._chunks_of.values()))
                self._generation = generation
            if key not in self._matching:
                passing = [a for a, day, source in self._articles if _passes(day, source, a, filters)]
                among = frozenset(chain.from_iterable(self._chunks_of.get(a, ()) for a in passing))
                self._matching[key] = among, self._total
                while len(self._matching) > MATCHING_CACHED:
                    self._matching.popitem(last=False)
            self._matching.move_to_end(key)
            return self._matching[key]



def _also_in(article_id: str, members: list[str], headers: dict[str, dict[str, Any]]) -> list[Any]:
    """The other members of the article's group of copies, oldest first, as header dicts (Passage validates them
    into ArticleRefs)."""
    others = [headers[m] for m in members if m != article_id and m in headers]
    return sorted(others, key=lambda h: (h["date"] or "", h["article_id"]))


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


def _passes(day: str | None, source: str | None, article_id: str, filters: dict[str, Any]) -> bool:
    """Does an article pass the filters applied inside both searches? An undated article fails date_from/date_to
    and passes as_of."""
    if filters.get("source") and source != str(filters["source"]):
        return False
    if filters.get("date_from") and (day is None or day < str(filters["date_from"])):
        return False
    if filters.get("date_to") and (day is None or day > str(filters["date_to"])):
        return False
    if filters.get("as_of") and day is not None and day > str(filters["as_of"]):
        return False
    return not (filters.get("article_ids") and article_id not in filters["article_ids"])


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
