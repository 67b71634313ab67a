"""Sentence-level rescoring for the extractive answerer: which candidate sentence answers the question.

Cosine similarity and word overlap find sentences *about* the question; they do not find the one that *answers*
it. So each candidate (app/answering/evidence.py) gets, besides those two,
- `typed`: it holds an answer of the kind asked (a country for "which country", a number for "how many": see
  app/answering/answer_type.py) that the question does not already hold; `strong` for the kinds that can be
  checked well (country, state, person, number, date), `weak` for the rest (a named thing, a place, a company);
- `names`: the share of the names in the question that it mentions (an answer about Tisza does not answer a
  question about Fidesz);
- `vote`: how much the other good candidates agree on its answer (the same team named by several sentences, in
  several articles, is more likely the answer than one named once);
- `unresolved`: it opens with a pronoun or a bare description whose antecedent is not in the passage (unless the
  question names it too: "The clerk pasted ..." answers "What did the clerk paste?");
- `stale`: the question asks about now ("this week", "recently") and the sentence's article is dated well before
  the newest retrieved article (a 2024 "PGA Championship gets underway Thursday" does not answer a 2026 "which
  championship began this week?"). The newest retrieved article stands for "now": the retriever never returns
  an article dated after the day the question is asked as of, and it prefers the question's window. A penalty,
  not a filter: background pieces answer "now" questions too (docs/eval.md, "answer side after the merge").
The weights were chosen on the calibration half of the RealTime QA dev questions (docs/eval.md) and are fixed;
`min_support` (NEWSRAG_MIN_SUPPORT) is the threshold on the same scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np

import app.answering.extractive.answer_type as answer_type
from app.answering.extractive.evidence import Candidate
from app.answering.names import fold, name_in
from app.answering.timeframe import parse
from index.embedding.base import Embedder
from index.text import coverage, stem, stems

WEIGHTS = {"dense": 0.6, "lex": 0.15, "strong": 0.2, "weak": 0.1, "names": 0.15, "vote": 0.3, "unresolved": -0.1,
           "stale": -0.2}
STALE_DAYS = 30  # an article this much older than the question's window is about another edition or event
VOTE_TEMPERATURE = 10.0  # how sharply the agreement vote favours the best-scored candidates
STRONG = {"country", "state", "person", "number", "date", "place"}
VOTED = {"country", "state", "person", "place", "org", "named"}  # (not dates or numbers: 'Wednesday', 'two')


def score(question: str, names: list[str], kind: answer_type.AnswerType | None, candidates: list[Candidate],
          embedder: Embedder, weights: dict[str, float] = WEIGHTS,
          dropped: Callable[[Candidate], bool] | None = None) -> None:
    """Set `features`, `answers` and `score` on every candidate. `dropped`: the candidates the caller discards
    whatever they score (judged on the features other than `dense`); when no vote couples the scores, those are
    not embedded (their `dense` is 0): embedding the sentences is ~85% of a first answer, one text at a time."""
    if not candidates:
        return
    wanted = stems(question)
    since = _now_since(question, candidates)
    for c in candidates:
        c.answers = answer_type.candidates(c.text, question, kind) if kind else []
        context = f"{c.passage.title}\n{c.text}"  # the title says what "the civil war" is
        folded = fold(context)
        typed = _typed(kind, c.answers)
        c.features = {
            "dense": 0.0,
            "lex": coverage(wanted, c.text, if_empty=0.0),
            "strong": typed if kind and kind.kind in STRONG else 0.0,
            "weak": typed if kind and kind.kind not in STRONG else 0.0,
            "names": sum(name_in(n, folded, context) for n in names) / len(names) if names else 1.0,
            "unresolved": float(c.unresolved is not None and stem(c.unresolved.lower()) not in wanted),
            "stale": float(_older(c.passage.date, since)),
            "vote": 0.0,
        }
    voted = bool(weights.get("vote") and kind and kind.kind in VOTED)
    embedded = [c for c in candidates if voted or dropped is None or not dropped(c)]
    if embedded:
        vecs = embedder.embed([question] + [c.text for c in embedded])
        for c, d in zip(embedded, np.asarray(vecs[1:] @ vecs[0]), strict=True):
            c.features["dense"] = float(d)
    for c in candidates:
        c.score = _total(c.features, weights)
    if voted:
        _vote(candidates, weights)


def _now_since(question: str, candidates: list[Candidate]) -> date | None:
    """For a question about now: the day before which an article is stale (the start of the question's window,
    relative to the newest retrieved article, less STALE_DAYS); None for any other question."""
    days = [d for d in (_day(c.passage.date) for c in candidates) if d]
    if not days:
        return None
    newest = max(days)
    frame = parse(question, newest)
    slack = timedelta(days=STALE_DAYS)
    if frame is None or not frame.soft or frame.start is None or frame.end is None or frame.end < newest - slack:
        return None  # no time words, a hard filter, or history the question names ("the record set in 1980")
    return frame.start - slack


def _older(text: str | None, since: date | None) -> bool:
    day = _day(text)
    return since is not None and day is not None and day < since


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


def _typed(kind: answer_type.AnswerType | None, answers: list[str]) -> float:
    """1 for an answer of the asked kind; a date that is only a weekday or 'yesterday' counts half (news says
    'on Wednesday' of everything; "when did the war begin?" wants a year or a month)."""
    if not answers or kind is None:
        return 0.0
    if kind.kind == "date" and not any(answer_type.FULL_DATE.search(a) for a in answers):
        return 0.5
    return 1.0


def _vote(candidates: list[Candidate], weights: dict[str, float]) -> None:
    """Each candidate's answers get the softmax mass of the candidates naming them; a candidate's vote is the
    mass of its best-supported answer."""
    top = max(c.score for c in candidates)
    mass = [math.exp((c.score - top) * VOTE_TEMPERATURE) for c in candidates]
    total = sum(mass)
    votes: dict[str, float] = {}
    for c, m in zip(candidates, mass, strict=True):
        for a in {_key(a) for a in c.answers}:
            votes[a] = votes.get(a, 0.0) + m / total
    for c in candidates:
        c.features["vote"] = max((votes[_key(a)] for a in c.answers), default=0.0)
        c.score = _total(c.features, weights)


def _key(answer: str) -> str:
    return fold(answer).removeprefix("the ").replace(".", "")


def _total(features: dict[str, float], weights: dict[str, float]) -> float:
    return sum(weights.get(k, 0.0) * v for k, v in features.items())
