"""The extractive answerer: verbatim sentences from the retrieved passages, each cited. Faithful by
construction; refuses when no sentence clears the calibrated support threshold."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from app.answering.base import citation, events_for, refusal
from app.answering.names import question_names, unmentioned
from app.answering.retrieve import speaker_question
from app.settings import Settings
from app.types import Answer, Event, Passage, SentenceVerdict
from index.embedding.base import Embedder
from index.text import content_words, coverage, looks_like_injection, sentence_spans, stems


@dataclass
class Candidate:
    passage: Passage
    start: int
    end: int
    text: str
    score: float = 0.0


_FIGURE = re.compile(r"(?<![\w.,-])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,-])\d{2,}(?:\.\d+)?|(?<![\w.,-])\d\.\d+")
_GROUPING = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def figures_in(question: str) -> list[str]:
    """The numbers of the question (years, ordinals, amounts; not single digits, not parts of names like GLP-1):
    an answer about another year or another edition is not an answer."""
    return list(dict.fromkeys(_GROUPING.sub("", m) for m in _FIGURE.findall(question)))


def unmentioned_figures(figures: list[str], text: str) -> list[str]:
    plain = _GROUPING.sub("", text)
    return [f for f in figures if not re.search(rf"(?<![\d.]){re.escape(f)}(?![\d]|\.\d)", plain)]


_WHEN = re.compile(r"\b(1[89]\d\d|20\d\d|January|February|March|April|May|June|July|August|September|October|"
                   r"November|December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|yesterday|"
                   r"today|ago|last (?:week|month|year))\b")
_HOW_MANY = re.compile(r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|"
                       r"thousands?|millions?|billions?)\b", re.I)


def expected_type(question: str) -> re.Pattern[str] | None:
    """What kind of answer the question asks for: a time, or a quantity."""
    q = question.lower()
    if q.startswith(("when ", "what year", "what date", "since when")):
        return _WHEN
    if q.startswith(("how many", "how much", "what number", "what percentage")):
        return _HOW_MANY
    return None


def lexical(query_stems: set[str], text: str) -> float:
    """How much of the question's content a sentence holds (a question with no content words: none)."""
    return coverage(query_stems, text, if_empty=0.0)


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, max_sentences: int = 3, min_support: float = 0.42):
        self.embedder, self.max_sentences, self.min_support = embedder, max_sentences, min_support

    @classmethod
    def build(cls, settings: Settings, embedder: Embedder) -> ExtractiveAnswerer:
        """The registry's factory (app/answering/registry.py)."""
        return cls(embedder, settings.max_sentences, settings.min_support)

    def stream(self, question: str, passages: list[Passage]) -> Iterator[Event]:
        yield from events_for(self.answer(question, passages))

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        if not passages:
            return refusal(question, "nothing relevant was retrieved.", self.name, passages)
        asked = speaker_question(question)
        quotes = [p for p in passages if p.kind == "quote"]
        focus = (asked.topic or question) if asked and quotes else question
        pool = quotes if asked and quotes else [p for p in passages if p.kind == "chunk"]
        missing = unmentioned(question_names(question), passages)
        if missing and not (asked and quotes):
            return refusal(question, f"no retrieved passage mentions {', '.join(missing)}.", self.name, passages)
        candidates = self._candidates(pool)
        figures = figures_in(question)
        if figures and candidates and not (asked and quotes):
            candidates = [c for c in candidates if not unmentioned_figures(figures, c.passage.text)]
            if not candidates:  # "the 97th Academy Awards" is not answered from an article about the 94th
                return refusal(question, f"no retrieved passage mentions {', '.join(figures)}.", self.name,
                               passages)
        self._score(focus, candidates, quote_bonus=bool(asked and quotes))
        candidates.sort(key=lambda c: -c.score)
        best = candidates[0] if candidates else None
        # the reason in words; the score that decided it goes in `refusal_score` (app/types.py), not in the sentence
        score = {"refusal_score": round(best.score, 3) if best else None}
        if best is not None and best.score < self.min_support and asked and quotes and asked.topic:
            topic = asked.topic.rstrip("?")
            return refusal(question, f"the articles quote {quotes[0].speaker}, but not about {topic}.", self.name,
                           passages).model_copy(update=score)
        if best is None or best.score < self.min_support:
            return refusal(question, "no retrieved passage answers it closely enough.", self.name,
                           passages).model_copy(update=score)
        chosen = [best]
        for c in candidates[1:]:
            if len(chosen) == self.max_sentences or c.score < max(self.min_support, best.score * 0.85):
                break
            if not any(_overlaps(c, o) for o in chosen):
                chosen.append(c)
        order = {p.article_id: i for i, p in reversed(list(enumerate(passages)))}
        chosen.sort(key=lambda c: (order[c.passage.article_id], c.start))
        citations, parts, verdicts = [], [], []
        for n, c in enumerate(chosen, 1):
            citations.append(citation(n, c.passage, c.start, c.end))
            parts.append(f"{c.text} [{n}]")
            verdicts.append(SentenceVerdict(text=c.text, citations=[n], supported=True, score=round(c.score, 3),
                                            reason="verbatim from the cited passage"))
        return Answer(question=question, text=" ".join(parts), citations=citations, sentences=verdicts,
                      passages=passages, answerer=self.name)

    def _candidates(self, pool: list[Passage]) -> list[Candidate]:
        out: list[Candidate] = []
        for p in pool:
            spans = [(0, len(p.text))] if p.kind == "quote" else sentence_spans(p.text)
            for s, e in spans:
                text = p.text[s:e]
                if (len(content_words(text)) >= 4 and text.rstrip("”’\"')").endswith((".", "!"))
                        and not looks_like_injection(text)):
                    # (headings, fragments, questions (an article's "Where will the Games be held?" subheading
                    # is never the answer) and text addressed to a model are skipped)
                    out.append(Candidate(p, p.start + s, p.start + e, text))
        return out

    def _score(self, focus: str, candidates: list[Candidate], quote_bonus: bool) -> None:
        if not candidates:
            return
        vecs = self.embedder.embed([focus] + [c.text for c in candidates])
        dense = vecs[1:] @ vecs[0]
        wanted = stems(focus)
        wants = expected_type(focus)
        for c, d in zip(candidates, np.asarray(dense), strict=True):
            c.score = 0.6 * float(d) + 0.4 * lexical(wanted, c.text) + (0.1 if quote_bonus else 0.0)
            if wants and wants.search(c.text):
                c.score += 0.08


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.article_id == b.passage.article_id and a.start < b.end and b.start < a.end
