"""The speaker lane: "What did X say (about/after/at/on ... Y)?" is answered from X's attributed statements.

`speaker_question` recognises the question in any of its usual phrasings and splits it into the speaker, the
preposition and the topic; `speaker_passages` finds the speaker's quotes (index/quotes.py found them at ingest),
ranks them by relevance to the topic and returns them as `quote` passages, which the retriever puts first.
A speaker is matched by name, accent-folded ("Orban" finds "Viktor Orbán"), on the last name when one word is
asked and on every word otherwise, never on a first name ("Kerry" is John Kerry, not Kerry Washington).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.types import Passage
from index.embedding.base import Embedder
from index.manifest import Manifest
from index.text import fold, stems
from index.types import Article, Quote

MAX_QUOTES_EMBEDDED = 32
_TITLES = {"mr", "mrs", "ms", "dr", "the", "president", "governor", "gov", "senator", "sen", "rep", "secretary",
           "minister", "prime", "foreign", "former", "vice", "chancellor", "mayor", "general", "gen", "judge",
           "prof", "professor", "pope", "king", "queen", "prince", "princess", "sir", "dame", "lord", "lady",
           "chairman", "ceo", "speaker", "leader", "us", "u.s.", "russian", "french", "german", "british"}
_VERBS = (r"say|said|tell|told|think|thought|claim|claimed|argue|argued|warn|warned|comment|commented|reiterate|"
          r"reiterated|announce|announced|write|wrote|tweet|tweeted|post|posted|mean|meant|respond|responded|react|"
          r"reacted|reply|replied|promise|promised|predict|predicted|suggest|suggested|admit|admitted|"
          r"acknowledge|acknowledged|describe|described|call|called")
_PREPS = (r"about|on|of|regarding|concerning|to|after|at|when|in|during|before|following|over|as|while|upon|"
          r"in\s+response\s+to|with\s+regard\s+to|for|against|since|once|if")
_SPEAKER_Q = re.compile(
    rf"^\s*(?:and\s+)?(?:so\s+)?(?:what|how)\s+(?:did|does|has|have|do|had|is|was|will|would)\s+(?P<who>.+?)\s+"
    rf"(?:(?:have|has|had|been|be|just|actually|ever|really|publicly|recently|first|then|later|also)\s+)*"
    rf"(?:{_VERBS})(?:ing)?\b(?P<rest>.*?)\s*\??\s*$", re.I)
_ABOUT = re.compile(rf"^\s*(?:(?:reporters|journalists|the\s+press|the\s+media|the\s+crowd|supporters|"
                    rf"the\s+audience|the\s+court|congress|lawmakers|[A-Z]\w+)\s+)?(?P<prep>{_PREPS})\s+(?P<topic>.+)$",
                    re.I)
_TOPIC_PREPS = {"about", "on", "of", "regarding", "concerning", "over", "with regard to", "for", "against"}


@dataclass
class SpeakerQuestion:
    speaker: str
    topic: str | None
    prep: str = "about"  # how the topic was asked: "about Assad", "after the election"

    @property
    def about(self) -> str:
        """The topic as the answer states it: "about Assad", "after the election"."""
        return f"{self.prep} {self.topic.rstrip('?')}" if self.topic else ""


def speaker_question(question: str) -> SpeakerQuestion | None:
    m = _SPEAKER_Q.match(question)
    if not m:
        return None
    words = m.group("who").strip().split()
    while words and fold(words[0]).strip(".") in _TITLES:  # "President Trump", "the Russian foreign minister"
        words = words[1:]
    who = " ".join(words).removesuffix("’s").removesuffix("'s")
    if not who or not who[0].isupper() or len(words) > 5:
        return None
    rest = m.group("rest").strip(" ,")
    if not rest:
        return SpeakerQuestion(who, None)
    about = _ABOUT.match(rest)
    if not about:
        return SpeakerQuestion(who, rest)
    prep = re.sub(r"\s+", " ", about.group("prep").lower())
    return SpeakerQuestion(who, about.group("topic").strip(), "about" if prep in _TOPIC_PREPS else prep)


def speaker_matches(asked: str, speaker: str) -> bool:
    """Does the quote's speaker (maybe 'Chuck Schumer and Hakeem Jeffries') include the person asked about?"""
    want = [fold(w).strip(".’'") for w in asked.split()]
    for person in re.split(r"\s+and\s+", speaker):
        have = [fold(w).strip(".’'") for w in person.split()]
        if not have:
            continue
        if len(want) == 1 and want[0] == have[-1]:
            return True
        if len(want) > 1 and want[-1] == have[-1] and all(w in have for w in want):
            return True
    return False


class SpeakerIndex:
    """Which stored speaker names match a name: the distinct speakers are read once per manifest generation and
    quote finder version (a
    few thousand names) and compared in Python, accent-folded, instead of scanning every quote per question."""

    def __init__(self, manifest: Manifest):
        self.manifest = manifest
        self._stamp: tuple[int, str | None] | None = None
        self._by_last: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def speakers(self, asked: str) -> list[str]:
        with self._lock:
            stamp = (self.manifest.generation(), self.manifest.meta("quotes_version"))
            if self._stamp != stamp:
                self._stamp = stamp
                self._by_last = {}
                for name in self.manifest.quote_speakers():
                    for person in re.split(r"\s+and\s+", name):
                        if person.split():
                            self._by_last.setdefault(fold(person.split()[-1]), []).append(name)
        last = fold(asked.split()[-1]).strip(".’'")
        return sorted({s for s in self._by_last.get(last, []) if speaker_matches(asked, s)})


def speaker_passages(manifest: Manifest, index: SpeakerIndex, embedder: Embedder, q: SpeakerQuestion, k: int,
                     keep: Callable[[Article], bool]) -> list[Passage]:
    """The speaker's quotes as `quote` passages, the most relevant to the topic first (corpus order without one)."""
    names = index.speakers(q.speaker)
    quotes = manifest.quotes_of(names) if names else []
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
