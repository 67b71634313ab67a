"""When a question is about: every question is answered "as of" a date, and the dates it names become a window.

Phrases relative to the asking day ("this week", "last month", "recently", "last year") become a *soft* preference:
passages from the window rank higher (app/answering/retrieve.py), nothing is cut. News questions are like that, and
their answers are often in older background pieces or in reports published after the period (a hard 30-day window
dropped RealTime QA Hit@5 to 0.54; "the most popular baby name last year" is in this year's article). Dates the
asker names ("in March", "in March 2025", "since 2024", "before 2020", "between 2019 and 2021") become a *hard*
window, applied inside the store queries, unless it holds no dated article (then it is a preference, and the
notice says so) or ended more than two years before `as_of` (a historical mention: "won gold in 1980"). Articles
dated after `as_of` are never used: the answer is what was known then. Explicit filters (CLI --since/--until, the
API's date_from/date_to) win over the question's words.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from app.types import TimeWindow

_MONTH = (r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr"
          r"|jun|jul|aug|sept|sep|oct|nov|dec)")
_YEAR = r"((?:19|20)\d\d)"
HISTORY_DAYS = 731  # a named month or year that ended longer ago is history the question mentions: soft
RECENT = r"\b(recent|recently|latest|currently|current|now|newly|upcoming|soon|ongoing|next (?:week|month))\b"


@dataclass(frozen=True)
class TimeFrame:
    """A window [start, end] (either end open) and whether it is a preference (soft) or a filter (hard)."""

    start: date | None
    end: date | None
    soft: bool
    phrase: str

    def describe(self) -> str:
        span = (f"from {self.start.isoformat() if self.start else 'the earliest'} to "
                f"{self.end.isoformat() if self.end else 'the latest'}")
        return f"{'Preferring' if self.soft else 'Searching'} articles {span} ({self.phrase})"


def _month_no(name: str) -> int:
    return next(i for i in range(1, 13) if calendar.month_name[i].lower().startswith(name[:3]))


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _relative(q: str, as_of: date) -> TimeFrame | None:
    """Phrases relative to the asking day, first match wins: soft."""
    prev = as_of.replace(day=1) - timedelta(days=1)
    rules: list[tuple[str, str, Callable[[re.Match[str]], tuple[date, date]]]] = [
        (r"\b(today|tonight)\b", "today", lambda m: (as_of, as_of)),
        (r"\byesterday\b", "yesterday", lambda m: (as_of - timedelta(days=1), as_of - timedelta(days=1))),
        (r"\b(?:past|last) (\d+|two|three|four|few) (day|week|month)s\b", "", lambda m: (
            as_of - timedelta(days=_count(m.group(1)) * {"day": 1, "week": 7, "month": 30}[m.group(2)]), as_of)),
        (r"\bthis (?:week|weekend)\b", "this week", lambda m: (as_of - timedelta(days=6), as_of)),
        (r"\blast week\b", "last week", lambda m: (as_of - timedelta(days=13), as_of - timedelta(days=7))),
        (r"\bthis month\b", "this month", lambda m: (as_of.replace(day=1), as_of)),
        (r"\blast month\b", "last month", lambda m: _month(prev.year, prev.month)),
        (r"\bthis year\b", "this year", lambda m: (date(as_of.year, 1, 1), as_of)),
        (r"\blast year\b", "last year", lambda m: (date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31))),
        (RECENT, "recent", lambda m: (as_of - timedelta(days=13), as_of)),
    ]
    for pattern, phrase, window in rules:
        if m := re.search(pattern, q):
            start, end = window(m)
            return TimeFrame(start, min(end, as_of), soft=True, phrase=phrase or m.group(0))
    return None


def _count(word: str) -> int:
    return {"two": 2, "three": 3, "four": 4, "few": 3}.get(word) or int(word)


def _absolute(q: str, as_of: date) -> TimeFrame | None:
    """Dates the asker named: hard. Two different years named (a history question) give none."""
    if m := re.search(rf"\bbetween {_YEAR} and {_YEAR}\b", q):
        return TimeFrame(date(int(m.group(1)), 1, 1), date(int(m.group(2)), 12, 31), False, m.group(0))
    if len(set(re.findall(rf"\b{_YEAR}\b", q))) > 1:
        return None
    if m := re.search(rf"\b(?:since|after) (?:{_MONTH} )?{_YEAR}\b", q):
        return TimeFrame(date(int(m.group(2)), _month_no(m.group(1)) if m.group(1) else 1, 1), None, False,
                         m.group(0))
    if m := re.search(rf"\bbefore (?:{_MONTH} )?{_YEAR}\b", q):
        first = date(int(m.group(2)), _month_no(m.group(1)) if m.group(1) else 1, 1)
        return TimeFrame(None, first - timedelta(days=1), False, m.group(0))
    if m := re.search(rf"\b(?:since|after) {_MONTH}\b(?! \d)", q):
        month = _month_no(m.group(1))
        return TimeFrame(date(as_of.year if month <= as_of.month else as_of.year - 1, month, 1), None, False,
                         m.group(0))
    if m := re.search(rf"\b(?:in|during) {_MONTH}(?:,? {_YEAR})?\b(?! \d)", q):
        month = _month_no(m.group(1))
        year = int(m.group(2)) if m.group(2) else as_of.year if month <= as_of.month else as_of.year - 1
        start, end = _month(year, month)
    elif m := re.search(rf"\b(?:in|during) {_YEAR}\b", q):
        start, end = date(int(m.group(1)), 1, 1), date(int(m.group(1)), 12, 31)
    else:
        return None
    historical = end < as_of - timedelta(days=HISTORY_DAYS)  # "set the record in 1980": when it happened
    return TimeFrame(start, end, soft=historical, phrase=m.group(0))


def parse(question: str, as_of: date) -> TimeFrame | None:
    """The time frame a question names, relative to `as_of`; None when it names none."""
    q = question.lower()
    return _absolute(q, as_of) or _relative(q, as_of)


@dataclass(frozen=True)
class Scope:
    as_of: date
    frame: TimeFrame | None
    filters: dict[str, Any]  # for the retriever: date_from/date_to (hard), as_of, prefer_from/prefer_to (soft)
    notice: str | None


def scope(question: str, as_of: date, filters: dict[str, Any] | None,
          dated_in: Callable[[str | None, str | None], int]) -> Scope:
    """The retrieval filters for `question` asked on `as_of`. `dated_in(start, end)`: how many articles are dated in
    a window (ISO days, either end open)."""
    out: dict[str, Any] = {**(filters or {}), "as_of": as_of.isoformat()}
    if out.get("date_from") or out.get("date_to"):  # explicit filters win
        frame = TimeFrame(_day(out.get("date_from")), _day(out.get("date_to")), False, "filters")
        return Scope(as_of, frame, out, frame.describe())
    found = parse(question, as_of)
    if found is None:
        return Scope(as_of, None, out, None)
    frame = found
    notice = frame.describe()
    if not frame.soft and not dated_in(_iso(frame.start), _iso(frame.end)):
        frame = TimeFrame(frame.start, frame.end, True, frame.phrase)
        notice = f"No articles are dated {frame.phrase}: searching every date. {frame.describe()}"
    keys = ("prefer_from", "prefer_to") if frame.soft else ("date_from", "date_to")
    out.update({k: d.isoformat() for k, d in zip(keys, (frame.start, frame.end), strict=True) if d})
    return Scope(as_of, frame, out, notice)


def window(s: Scope) -> TimeWindow | None:
    """The Answer's `time_window`: what the question's time words (or the filters) made of the search."""
    f = s.frame
    return TimeWindow(start=_iso(f.start), end=_iso(f.end), soft=f.soft, phrase=f.phrase) if f else None


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
