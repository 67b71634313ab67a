"""The speaker lane: "What did X say (about Y)?" is answered from X's attributed statements (the quotes
index/quotes.py finds at ingest), ranked by relevance to Y. The retriever puts these `quote` passages first."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.types import Passage
from index.embedding.base import Embedder
from index.manifest import Manifest
from index.text import stems
from index.types import Article, Quote

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


def speaker_passages(manifest: Manifest, embedder: Embedder, q: SpeakerQuestion, k: int,
                     keep: Callable[[Article], bool]) -> list[Passage]:
    """The speaker's quotes as `quote` passages, the most relevant to the topic first."""
    surname = q.speaker.split()[-1].strip("’'s?")
    quotes = [x for x in manifest.quotes_by(surname) if name_matches(q.speaker, x.speaker)]
    if not quotes:
        return []
    articles = manifest.articles(x.article_id for x in quotes)
    quotes = [x for x in quotes if keep(articles[x.article_id])]
    if not quotes:
        return []
    if q.topic:
        quotes = most_on_topic(quotes, q.topic, MAX_QUOTES_EMBEDDED)
        vecs = embedder.embed([q.topic] + [x.text for x in quotes])
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


def most_on_topic(quotes: list[Quote], topic: str, limit: int) -> list[Quote]:
    """A prolific speaker has thousands of quotes in a large corpus (Trump: ~2,000 in 3,000 articles), and embedding
    them all took 20 s a question: keep the `limit` sharing the most topic words (ties: corpus order) for the model."""
    if len(quotes) <= limit:
        return quotes
    wanted = stems(topic)
    shared = [len(wanted & stems(x.text)) for x in quotes]
    keep = sorted(sorted(range(len(quotes)), key=lambda i: -shared[i])[:limit])
    return [quotes[i] for i in keep]


def name_matches(asked: str, speaker: str) -> bool:
    asked_parts = [p.lower().strip("’'s") for p in asked.split()]
    return all(p in speaker.lower() for p in asked_parts if p)
