"""The extractive answerer: verbatim sentences from the retrieved passages, each cited. Faithful by
construction; it refuses rather than quote a sentence that does not answer.

1. "What did X say ...?" is answered from X's quotes (the speaker lane, app/answering/speakers.py); when X is
   quoted but not on the topic, the refusal says what X is quoted as saying.
2. Otherwise every sentence of the passages is a candidate (app/answering/evidence.py: a pronoun's antecedent is
   quoted with it), scored for answering (app/answering/scoring.py), and the best one leads the answer.
3. It refuses when a name of the question is in no passage, a figure of the question (a year, an edition) is not
   in the answering passage, no sentence names an answer of the kind asked (a country, a number ...), no sentence
   mentions what the question is about (Tisza's seats do not answer a question about Fidesz), or the best score
   is under `min_support` (NEWSRAG_MIN_SUPPORT). Sentences are scored before the figure rule drops the passages without
   the question's year: those may not be quoted, but they still agree on an answer (scoring.py's vote).
4. At most `max_sentences` sentences: after the best, only sentences of the same article or ones naming the same
   answer (support from another article), never an unrelated article's sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

import app.answering.extractive.answer_type as answer_type
import app.answering.extractive.scoring as scoring
from app.answering.base import citation, events_for, refusal
from app.answering.extractive.evidence import Candidate, candidates
from app.answering.names import fold, question_names, unmentioned
from app.answering.speakers import SpeakerQuestion, speaker_matches, speaker_question
from app.settings import Settings
from app.types import Answer, Event, Passage, SentenceVerdict
from index.embedding.base import Embedder
from index.lexicon.places import DEMONYMS, REGION_NAMES
from index.quotes import extract_quotes, inside_quotes
from index.text import coverage, stems
from index.types import Article

QUOTE_ON_TOPIC = 0.32  # 0.6 * cosine + 0.4 * overlap with the topic; the speaker lane's threshold (calibrated on
#                        the sample's speaker questions before the sentence scorer existed; unchanged by it)
DIRECT_QUOTE = 0.05  # ranks the speaker's words in quotation marks above a reporter's summary of them
SUPPORT_RATIO = 0.85  # a sentence after the first must score at least this share of the first's score

_FIGURE = re.compile(r"(?<![\w.,-])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,-])\d{2,}(?:\.\d+)?|(?<![\w.,-])\d\.\d+")
_GROUPING = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def figures_in(question: str) -> list[str]:
    """The numbers of the question (years, ordinals, amounts; not single digits, not parts of names like GLP-1):
    an answer about another year or another edition is not an answer."""
    return list(dict.fromkeys(_GROUPING.sub("", m) for m in _FIGURE.findall(question)))


def unmentioned_figures(figures: list[str], text: str) -> list[str]:
    plain = _GROUPING.sub("", text)
    return [f for f in figures if not re.search(rf"(?<![\d.]){re.escape(f)}(?![\d]|\.\d)", plain)]


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, max_sentences: int = 3, min_support: float = 0.625):
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
        if asked:
            quotes = [p for p in passages if p.kind == "quote" and p.speaker and
                      speaker_matches(asked.speaker, p.speaker)]
            if quotes:
                return self._quoted(question, asked, quotes, passages)
        kind = answer_type.expected(question)
        names = required_names(question, kind)
        missing = unmentioned(names, passages)
        if missing:
            return refusal(question, f"no retrieved passage mentions {', '.join(missing)}.", self.name, passages)
        pool = candidates([p for p in passages if p.kind == "chunk"])
        if asked:  # no quotes of X: only sentences about X, never another person's words
            pool = [c for c in pool if _theirs(asked.speaker, c)]
        about = required_names(answer_type.focus(question), kind)  # what the question proper is about
        figures = figures_in(question)
        must_answer = bool(kind and (kind.kind in scoring.STRONG or kind.must_name))

        def dropped(c: Candidate) -> bool:  # what the four filters below discard, whatever the candidate scores
            return bool((figures and unmentioned_figures(figures, c.passage.text))
                        or (kind and c.features["unresolved"] and not c.answers)
                        or (about and c.features["names"] <= 0) or (must_answer and not c.answers))
        scoring.score(question, about, kind, pool, self.embedder, dropped=dropped)
        if figures and pool:
            pool = [c for c in pool if not unmentioned_figures(figures, c.passage.text)]
            if not pool:  # "the 97th Academy Awards" is not answered from an article about the 94th
                return refusal(question, f"no retrieved passage mentions {', '.join(figures)}.", self.name,
                               passages)
        if kind:  # "Who won?" is not answered by "The team won ...": which team? (a yes/no question may be)
            pool = [c for c in pool if not (c.features["unresolved"] and not c.answers)]
        if about:
            pool = [c for c in pool if c.features["names"] > 0]
            if not pool:
                return refusal(question, f"no retrieved sentence is about {', '.join(about)}.", self.name, passages)
        if kind and must_answer:
            pool = [c for c in pool if c.answers]
            if not pool:
                return refusal(question, f"no retrieved sentence names {_what(kind)}.", self.name, passages)
        pool.sort(key=lambda c: -c.score)
        best = pool[0] if pool else None
        if best is None or best.score < self.min_support:
            # the reason in words; the score that decided it goes in `refusal_score` (app/types.py)
            return refusal(question, "no retrieved passage answers it closely enough.", self.name,
                           passages).model_copy(update={"refusal_score": round(best.score, 3) if best else None})
        return self._compose(question, self._choose(best, pool), passages)

    def _choose(self, best: Candidate, pool: list[Candidate]) -> list[Candidate]:
        chosen = [best]
        agreed = {a.lower() for a in best.answers}
        for c in pool[1:]:
            if len(chosen) == self.max_sentences or c.score < max(self.min_support, best.score * SUPPORT_RATIO):
                break
            same_article = c.passage.article_id == best.passage.article_id
            supports = bool(agreed & {a.lower() for a in c.answers})
            if (same_article or supports) and not any(_overlaps(c, o) for o in chosen):
                chosen.append(c)
        return chosen

    def _quoted(self, question: str, asked: SpeakerQuestion, quotes: list[Passage], passages: list[Passage]) -> Answer:
        """An answer from the speaker's quotes, the most relevant to the topic first and the speaker's own words
        (in quotation marks) before what a reporter says they said; a refusal that says what the speaker is quoted
        as saying when none is about the topic. "After the election", "at the summit" say when or where, not what
        about: any quote of the speaker may answer, the most relevant first."""
        pool = candidates(quotes)
        if not pool:
            return refusal(question, f"no usable quote of {asked.speaker} was retrieved.", self.name, passages)
        topical = asked.prep == "about"
        if asked.topic:
            vecs = self.embedder.embed([asked.topic] + [c.text for c in pool])
            wanted = stems(asked.topic)
            for c, d in zip(pool, np.asarray(vecs[1:] @ vecs[0]), strict=True):
                c.features["relevance"] = 0.6 * float(d) + 0.4 * coverage(wanted, c.text, if_empty=0.0)
        for c in pool:
            c.features.setdefault("relevance", 1.0 / (1 + c.passage.rank))
            c.score = c.features["relevance"] + (DIRECT_QUOTE if _direct(c.text) else 0.0)
        pool.sort(key=lambda c: -c.score)
        on_topic = [c for c in pool if not (asked.topic and topical) or c.features["relevance"] >= QUOTE_ON_TOPIC]
        if not on_topic:
            return self._off_topic(question, asked, max(pool, key=lambda c: c.features["relevance"]), passages)
        chosen = [on_topic[0]]
        for c in on_topic[1:]:
            if len(chosen) == self.max_sentences:
                break
            if not any(_overlaps(c, o) for o in chosen):
                chosen.append(c)
        return self._compose(question, chosen, passages)

    def _off_topic(self, question: str, asked: SpeakerQuestion, quote: Candidate, passages: list[Passage]) -> Answer:
        speaker = quote.passage.speaker or asked.speaker
        reason = f"the articles quote {speaker}, but not {asked.about}."
        cite = citation(1, quote.passage, quote.start, quote.end)
        text = (f"I can't answer that from the indexed articles: they quote {speaker}, but not {asked.about}. "
                f"What they quote {speaker} as saying: {quote.text} [1]")
        verdict = SentenceVerdict(text=quote.text, citations=[1], supported=True,
                                  score=round(quote.features["relevance"], 3),
                                  reason=f"a quote of {speaker}, not {asked.about}")
        return Answer(question=question, text=text, refused=True, refusal_reason=reason,
                      refusal_score=round(quote.features["relevance"], 3), citations=[cite], sentences=[verdict],
                      passages=passages, answerer=self.name)

    def _compose(self, question: str, chosen: list[Candidate], passages: list[Passage]) -> Answer:
        citations, parts, verdicts = [], [], []
        for n, c in enumerate(chosen, 1):
            citations.append(citation(n, c.passage, c.start, c.end))
            parts.append(f"{c.text} [{n}]")
            reason = "verbatim from the cited passage"
            if c.passage.speaker:
                reason += f" (a quote of {c.passage.speaker})"
            verdicts.append(SentenceVerdict(text=c.text, citations=[n], supported=True, score=round(c.score, 3),
                                            reason=reason))
        return Answer(question=question, text=" ".join(parts), citations=citations, sentences=verdicts,
                      passages=passages, answerer=self.name)


# Capitalised words of event names that articles vary ("the Winter Games" / "the Winter Olympics"): not names.
EVENT_WORDS = {"games", "awards", "cup", "championship", "championships", "festival", "summit", "open", "series",
               "conference", "convention", "day", "week", "month", "season", "tour", "show", "gala", "ceremony"}


def required_names(question: str, kind: answer_type.AnswerType | None) -> list[str]:
    """The names a passage must mention for the question to be answerable from it: the question's names, without
    the ones that only qualify the answer asked for ("Texas" in "which Texas city?"), demonyms and regions
    ("American", "Middle Eastern", "Midwest": descriptions, not the thing asked about) and event words."""
    skip = {m.lower() for m in (kind.modifiers if kind else ())}
    return [n for n in question_names(question) if n.lower() not in skip and not descriptive(n)]


def descriptive(name: str) -> bool:
    folded = fold(name)
    return (folded in DEMONYMS or folded.removesuffix("s") in DEMONYMS  # American, Americans
            or folded in REGION_NAMES or folded in EVENT_WORDS
            or folded in {"eastern", "western", "northern", "southern", "central", "middle"})


def _what(kind: answer_type.AnswerType) -> str:
    return {"country": "a country", "state": "a state", "person": "a person", "number": "a number",
            "date": "a date", "place": "a place"}.get(kind.kind, "a name" if kind.must_name else "an answer")


def _theirs(speaker: str, c: Candidate) -> bool:
    """May the candidate answer "what did <speaker> say"? It must name the speaker outside quotation marks, and a
    sentence the quote finder attributes to somebody else ('“Orbán has lost,” Jeffries wrote') never may."""
    folded = fold(c.sentence)
    mask = inside_quotes(folded)
    if not any(not mask[m.start()] for m in re.finditer(re.escape(fold(speaker.split()[-1])), folded)):
        return False
    found = extract_quotes(Article(id=c.passage.article_id, title=c.passage.title, text=c.passage.text))
    start, end = c.start - c.passage.start, c.end - c.passage.start
    return not any(q.start < end and start < q.end and not speaker_matches(speaker, q.speaker) for q in found)


def _direct(text: str) -> bool:
    return any(mark in text for mark in ("“", '"'))


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.article_id == b.passage.article_id and a.start < b.end and b.start < a.end
