"""Answer candidates: the spans of the retrieved passages that an extractive answer may quote.

A candidate is one sentence (a quotation running over several sentences stays whole), or a sentence with the one
before it when it opens with a pronoun or a bare description ("He said ...", "The team won ...", "The center,
which took a decade ..."): the name it stands for is in the sentence before, so both are quoted together, still
verbatim and under one citation. When there is no sentence before it in the passage, the candidate is marked
`unresolved`, and the answerer skips it unless it names an answer itself. Headings, fragments, questions, text
addressed to a model and quotations cut off by the passage boundary are never candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.types import Passage
from index.quotes import quote_aware_spans
from index.text import content_words, looks_like_injection

_ANAPHOR = re.compile(r"^[“\"‘(]?(?:(?:He|She|It|They|His|Her|Its|Their|This|These|Those|That|Both|Neither)\b"
                      r"|The\s+(?:[a-z][\w\-]*\s+){0,2}?(?P<noun>[a-z][\w\-]*)\b(?!\s+(?:of|in|on|for|to|at|from|that|"
                      r"who|which|with|by|over|under|about|between|behind|around|across|near)\b))")
_CAPITAL = re.compile(r"(?<!^)(?<![.!?“\"]\s)\b[A-Z][\w\-]+")
_GENERIC_NOUNS = {"first", "last", "same", "other", "next", "new", "latest", "most", "best", "only", "main",
                  "biggest", "largest", "top", "final", "whole", "entire", "vast", "overall", "average", "total",
                  "number", "majority", "rest", "following", "u.s.", "world", "public", "government", "economy",
                  "weather", "market", "war", "pandemic", "virus", "law", "rule", "bill", "report", "study",
                  "data", "survey", "poll", "research", "results", "news", "answer", "question", "problem"}


@dataclass
class Candidate:
    passage: Passage
    start: int  # article offsets of the quoted span
    end: int
    text: str
    lead: int = 0  # where, inside `text`, the sentence itself starts (after the sentence quoted for its antecedent)
    unresolved: str | None = None  # the opening word whose antecedent is not in the passage
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    answers: list[str] = field(default_factory=list)  # what in it could answer the question (answer_type.py)

    @property
    def sentence(self) -> str:
        """The sentence itself, without the sentence before it that was added for a pronoun's antecedent."""
        return self.text[self.lead:]


def anaphor(sentence: str) -> str | None:
    """The word the sentence opens with that stands for something named before it ("He", "team" of "The team
    won ..."), or None."""
    m = _ANAPHOR.match(sentence)
    if not m:
        return None
    noun = m.group("noun")
    if noun is None:
        return sentence.lstrip("“\"‘(").split()[0]
    return None if noun.lower() in _GENERIC_NOUNS else noun


def usable(text: str) -> bool:
    """A sentence worth quoting: 4+ content words, ends like a statement, balanced quotation marks, no
    instructions to a model (an article's "Where will the Games be held?" subheading is never the answer)."""
    return (len(content_words(text)) >= 4 and text.rstrip("”’\"')").endswith((".", "!"))
            and text.count("“") == text.count("”") and text.count('"') % 2 == 0
            and not looks_like_injection(text))


def candidates(passages: list[Passage]) -> list[Candidate]:
    out: list[Candidate] = []
    for p in passages:
        if p.kind == "quote":
            if usable(p.text):
                out.append(Candidate(p, p.start, p.end, p.text))
            continue
        spans = quote_aware_spans(p.text)
        for i, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if not usable(text):
                continue
            if not anaphor(text):
                out.append(Candidate(p, p.start + s, p.start + e, text))
                continue
            before = spans[i - 1] if i else None
            if before and usable(p.text[before[0]:before[1]]) and _CAPITAL.search(p.text[before[0]:before[1]]):
                b0 = before[0]
                out.append(Candidate(p, p.start + b0, p.start + e, p.text[b0:e], lead=s - b0))
            else:
                out.append(Candidate(p, p.start + s, p.start + e, text, unresolved=anaphor(text)))
    return out
