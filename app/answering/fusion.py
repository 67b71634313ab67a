"""Fusing the dense and keyword rankings, and choosing which fused chunks become the k passages (`choose`, over
what `Candidates` reads of them from the manifest).

Measured on the RealTime QA calibration half (docs/eval.md, "Retrieval ablation"): reciprocal rank fusion with
k = 60 over 100 candidates from each side, equal weights, then one passage per article and no near-copies. The
per-article cap is the largest single gain (hit@10 0.81 -> 0.94 on calibration): without it, three chunks of one
long article could fill half the k slots, and a second source, the likeliest to hold the answer, fell out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from index.duplicates import DuplicateGroups
from index.manifest import Manifest

RRF_K = 60
POOL = 100  # candidates taken from each ranking
NEAR_COPY = 0.8  # share of a passage's word 5-grams found in a kept passage that makes it a copy
_WORD = re.compile(r"\w+")


def rrf(rankings: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float] | None = None,
        k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: sum over rankings of weight / (k + rank). Scores of different scales never meet."""
    fused: dict[str, float] = {}
    for i, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[i]
        for rank, (cid, _) in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + w / (k + rank + 1)
    return fused


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    """The text's lower-cased word n-grams (a shorter text: its words, as one). Tuples, not joined strings: the
    same sets, built in half the time (~0.9 of the ~3.7 ms retrieval spent past the searches at 10k chunks)."""
    words = _WORD.findall(text.lower())
    if len(words) <= n:
        return {tuple(words)}
    return set(zip(*(words[i:] for i in range(n)), strict=False))


def near_copy(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> bool:
    """Is one passage (mostly) contained in the other? Syndicated copies and re-published updates are."""
    small = min(len(a), len(b))
    return bool(small) and len(a & b) / small >= NEAR_COPY


def choose(order: Iterable[str], article_of: Callable[[str], str | None], text_of: Callable[[str], str | None],
           k: int, per_article: int, own_article: Callable[[str], str | None] | None = None) -> list[str]:
    """The first k chunk ids of `order` keeping at most `per_article` per article (0: no cap) and no near-copy of
    one already kept. `article_of`/`text_of` return None for a chunk to skip (not live, filtered out). When there
    are not k articles to choose from (one article indexed, a filter down to one), the cap yields: the remaining
    slots go to the next chunks of the articles already chosen, in fused order. `article_of` may name a group of
    copies (syndicated versions of one story count as one article for the cap); `own_article` then names the
    chunk's own article, and the remaining slots go to the articles chosen, not to their copies (whose chunks
    would mostly be copies of the chosen ones: each read and compared for nothing).

    A chunk found to be a copy stays one (the kept passages only grow), and a text seen before is judged without
    its 5-grams: an index full of syndicated copies put ~350 candidates a question through `shingles` (85 ms of a
    90 ms retrieval at 10k chunks in the bench's copy-grown index)."""
    order = list(order)
    kept: list[str] = []
    kept_shingles: list[set[tuple[str, ...]]] = []
    per: dict[str, int] = {}
    copies: set[str] = set()  # chunk ids found to be near-copies of a kept passage
    copy_texts: set[str] = set()  # texts kept or found to be copies: the same text again is a copy
    chosen: set[str | None] = set()  # the kept chunks' own articles
    for capped in ((True, False) if per_article else (False,)):
        for cid in order:
            if len(kept) == k:
                return kept
            if cid in copies:
                continue
            article = article_of(cid)
            if article is None or cid in kept or (capped and per.get(article, 0) >= per_article):
                continue
            if not capped and per_article and own_article is not None and own_article(cid) not in chosen:
                continue
            text = text_of(cid)
            if text is None:
                continue
            if text in copy_texts:
                copies.add(cid)
                continue
            grams = shingles(text)
            copy_texts.add(text)
            if any(near_copy(grams, other) for other in kept_shingles):
                copies.add(cid)
                continue
            kept.append(cid)
            kept_shingles.append(grams)
            chosen.add(own_article(cid) if own_article is not None else None)
            per[article] = per.get(article, 0) + 1
    return kept


class Candidates:
    """The fused candidates' chunk rows, articles and near-duplicate groups, read from the manifest a block of
    candidates at a time in fused order: the k passages usually come from the first block, and the rows and
    groups of the hundredth candidate are never read (reading all 200 rows, then the groups of all ~100 articles
    took ~1.2 and ~3.8 ms a question at 100k chunks). Each block is as large as all before it, so an index of
    syndicated copies, where choosing walks most candidates, still takes a few reads. The cap is judged on the rows
    and the group keys, and a text is read when a candidate's passage is compared (one skipped for its article's
    cap, a copy's group among them, reads none); the kept passages' articles are read once, by the retriever. A
    chunk id the manifest does not know has no row: not live."""

    BLOCK = 16

    def __init__(self, manifest: Manifest, groups: DuplicateGroups | None, order: list[str]):
        self.manifest, self.groups, self.order = manifest, groups, order
        self.position = {c: i for i, c in enumerate(order)}
        self.rows: dict[str, Any] = {}  # chunk id -> its manifest row (article_id, start, end)
        self.looked: set[str] = set()  # chunk ids asked of the manifest
        self.texts: dict[str, str | None] = {}
        self.keys: dict[str, str] = {}  # article id -> the key of its group of copies (DuplicateGroups.keys)

    def row(self, cid: str, everything: bool = False) -> Any:
        """`cid`'s row (None: not live), reading its block (`everything`: all candidates) if not read yet."""
        if cid not in self.looked:
            at, size = self.position.get(cid, 0), max(self.BLOCK, len(self.looked))  # blocks double: 16, 16, 32 ...
            block = [c for c in (self.order if everything else self.order[at:at + size]) if c not in self.looked]
            block = block or [cid]
            got = self.manifest.chunks_by_id(block)
            self.rows.update(got)
            self.looked.update(block)
            if self.groups is not None:
                self.keys.update(self.groups.keys({r["article_id"] for r in got.values()}))
        return self.rows.get(cid)

    def group(self, cid: str) -> str | None:
        """What `cid` counts as for the cap: its group of copies (its key), or its own article (None: not live).
        Read from the rows and the group keys: no article."""
        row = self.row(cid)
        return None if row is None else self.keys.get(row["article_id"], row["article_id"])

    def own(self, cid: str) -> str | None:
        """`cid`'s own article (None: not live)."""
        row = self.row(cid)
        return None if row is None else row["article_id"]

    def text(self, cid: str) -> str | None:
        row = self.row(cid)
        if row is None:
            return None
        if row["article_id"] not in self.texts:
            self.texts[row["article_id"]] = self.manifest.text(row["article_id"])
        return self.texts[row["article_id"]]
