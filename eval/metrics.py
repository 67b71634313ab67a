"""Metric functions, pure and small: retrieval ranks, answer strings, percentiles, and aggregation with `n`.

Every formula is written out in docs/eval.md. An aggregate is a `Stat`: its value is None (JSON null, never NaN
or 0) when nothing was measured, and it always carries `n`, the number of items the value is over.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from app.answering.timeframe import parse

HIT_KS = (1, 3, 5, 10)
DEPTH = 10  # retrieval depth for hit@k and mrr@10
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKERS = re.compile(r"\[(?:\d+|unverified)\]")
_PUNCT = set(string.punctuation) | set("“”‘’«»–—…")


# -- answers -----------------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """SQuAD-style: citation markers out, accents folded, lower case, punctuation and a/an/the removed,
    whitespace collapsed."""
    text = _MARKERS.sub(" ", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    text = "".join(" " if c in _PUNCT else c for c in text)
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_contains(answer: str, golds: Sequence[str]) -> bool:
    """A normalised gold answer occurs in the normalised answer as whole words."""
    have = f" {normalise(answer)} "
    return any(g and f" {g} " in have for g in map(normalise, golds))


def token_f1(answer: str, golds: Sequence[str]) -> float:
    """SQuAD token F1 against the best-matching gold answer (0.0 when the answer or the golds are empty)."""
    pred = normalise(answer).split()
    best = 0.0
    for gold in golds:
        ref = normalise(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


# -- retrieval ---------------------------------------------------------------------------------------------
def first_gold_rank(ranked: Sequence[str], gold: Iterable[str], depth: int = DEPTH) -> int | None:
    """1-based rank of the first passage from a gold article within `depth` passages, else None."""
    want = set(gold)
    return next((i for i, a in enumerate(ranked[:depth], 1) if a in want), None)


def hit_at(ranked: Sequence[str], gold: Iterable[str], k: int) -> bool:
    return first_gold_rank(ranked, gold, k) is not None


def mrr_at(ranked: Sequence[str], gold: Iterable[str], k: int = DEPTH) -> float:
    rank = first_gold_rank(ranked, gold, k)
    return 1.0 / rank if rank else 0.0


def recall_at(ranked: Sequence[str], gold: Iterable[str], k: int) -> float:
    """Share of the gold articles that have at least one passage in the top k."""
    want = set(gold)
    return len(want & set(ranked[:k])) / len(want) if want else 0.0


# -- aggregation -------------------------------------------------------------------------------------------
@dataclass
class Stat:
    value: float | None
    n: int
    judge_failures: int = 0  # items the judge could not score: not in n, reported beside it
    lower: float | None = None  # bounds when judge failures are counted as failing / passing
    upper: float | None = None
    ci95: list[float] | None = None  # bootstrap 95% interval over the questions (eval/summary.py)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.judge_failures and self.lower is None:
            out = {"value": self.value, "n": self.n}
        if self.ci95 is None:
            out.pop("ci95", None)
        else:
            out["ci95"] = self.ci95
        return out

    def show(self, digits: int = 3) -> str:
        value = "n/a" if self.value is None else f"{self.value:.{digits}f}"
        ci = f" [{self.ci95[0]:.{digits}f}-{self.ci95[1]:.{digits}f}]" if self.ci95 else ""
        text = f"{value}{ci} (n={self.n})"
        if self.judge_failures:
            text += f", {self.judge_failures} judge failures"
            if self.lower is not None and self.upper is not None:
                text += f", bounds {self.lower:.{digits}f}-{self.upper:.{digits}f}"
        return text


def mean(values: Iterable[float | bool]) -> Stat:
    vals = [float(v) for v in values]
    return Stat(round(sum(vals) / len(vals), 6) if vals else None, len(vals))


def judged_mean(values: Iterable[float | bool | None]) -> Stat:
    """The mean over judged items; None marks a judge failure, counted in `judge_failures`, with the bounds
    the mean would take if every failure had scored 0 or 1."""
    vals = list(values)
    ok = [float(v) for v in vals if v is not None]
    fails = len(vals) - len(ok)
    stat = Stat(round(sum(ok) / len(ok), 6) if ok else None, len(ok), fails)
    if fails:
        stat.lower, stat.upper = round(sum(ok) / len(vals), 6), round((sum(ok) + fails) / len(vals), 6)
    return stat


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least q% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# -- time ----------------------------------------------------------------------------------------------------
STALE_DAYS = 14  # a "this week" answer citing an article older than this before the asking day cites an old event
RECENT_DAYS = 14  # a question is about now when its soft window ends at most this long before the asking day


def question_day(q: Any) -> date | None:
    """The day a question was asked (its `date`: RealTime QA's week), if it has a readable one."""
    try:
        return date.fromisoformat(str(q.extra.get("date"))[:10])
    except ValueError:
        return None


def stale_answer(question: str, day: date, answer: Any) -> bool | None:
    """For a question about now ("this week", "recently", "today"): does the answer's first citation come from an
    article dated more than STALE_DAYS before the asking day? None when the question is not about now, or the
    answer cites nothing dated."""
    frame = parse(question, day)
    if frame is None or not frame.soft or not frame.end or frame.end < day - timedelta(days=RECENT_DAYS):
        return None
    cited = (answer.citations[0].date or "") if answer and not answer.refused and answer.citations else ""
    try:
        return date.fromisoformat(cited[:10]) < day - timedelta(days=STALE_DAYS)
    except ValueError:
        return None
