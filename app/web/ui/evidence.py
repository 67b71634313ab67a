"""What the Evaluate tab shows beside each sentence: the passage it cites, with the span marked, and who is speaking
in that span. Pure functions over the stored Answer JSON; no Gradio, no engine.

A rater judges "does this passage support this sentence". Shown only the quote, which for the extractive answerer is
the sentence itself, a sentence that gives Lavrov's words to Kerry looked supported; shown the passage around the
quote and its speaker (index/quotes.py's attribution), the misattribution is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from app.web.ui.views import quote_context
from index.types import Quote


@dataclass
class Evidence:
    n: int
    title: str
    date: str | None
    before: str
    quote: str
    after: str
    speaker: str | None = None
    role: str | None = None


CONTEXT = 500  # characters of the passage shown either side of the cited span


def _trim_before(text: str) -> str:
    if len(text) <= CONTEXT:
        return text
    cut = text[-CONTEXT:]
    return "…" + cut[cut.find(" ") + 1:]


def _trim_after(text: str) -> str:
    if len(text) <= CONTEXT:
        return text
    cut = text[:CONTEXT]
    return cut[:cut.rfind(" ")] + "…"


def _inside(p: dict[str, Any], c: dict[str, Any]) -> bool:
    return p["article_id"] == c["article_id"] and p["start"] <= c["start"] and c["end"] <= p["end"]


def _overlaps(start: int, end: int, c: dict[str, Any]) -> bool:
    return start < c["end"] and c["start"] < end


def evidence(answer: dict[str, Any], n: int, article_text: str | None = None,
             quotes: list[Quote] | None = None) -> Evidence | None:
    """Citation n of the answer as a rater needs it (None when the answer has no citation n)."""
    c = next((x for x in answer.get("citations", []) if x["n"] == n), None)
    if c is None:
        return None
    passages = sorted((p for p in answer.get("passages", []) if _inside(p, c)), key=lambda p: p.get("kind") != "chunk")
    if passages:  # the retrieved passage the quote was taken from
        p = passages[0]
        lo, hi = c["start"] - p["start"], c["end"] - p["start"]
        before, quote, after = _trim_before(p["text"][:lo]), p["text"][lo:hi], _trim_after(p["text"][hi:])
    elif article_text is not None and article_text[c["start"]:c["end"]] == c["quote"]:
        before, quote, after = quote_context(article_text, c["start"], c["end"])
    else:
        before, quote, after = "", c["quote"], ""
    found = Evidence(n, c["title"], c.get("date"), before, quote, after)
    said = next((q for q in quotes or [] if _overlaps(q.start, q.end, c)), None)
    if said is not None:
        found.speaker, found.role = said.speaker, said.role
    else:
        lane = next((p for p in answer.get("passages", []) if p.get("kind") == "quote" and p.get("speaker")
                     and _overlaps(p["start"], p["end"], c)), None)
        found.speaker = lane["speaker"] if lane else None
    return found


def speaker_html(e: Evidence) -> str:
    if not e.speaker:
        return '<div class="nr-eval-speaker">Speaker: <i>not identified</i> (no attributed quote here)</div>'
    role = f", {escape(e.role)}" if e.role else ""
    return f'<div class="nr-eval-speaker">Speaker: <b>{escape(e.speaker)}</b>{role}</div>'


def claim_html(i: int, text: str, found: list[Evidence]) -> str:
    """Sentence i (1-based) and, under it, each passage it cites with its speaker and the cited span marked."""
    parts = [f'<div class="nr-eval-claim"><p class="nr-eval-sentence"><b>{i}.</b> {escape(text)}</p>']
    if not found:
        parts.append('<p class="nr-src-none">(no citation: nothing to check it against)</p>')
    for e in found:
        head = f"[{e.n}] {escape(e.title)}" + (f" · {escape(e.date)}" if e.date else "")
        body = f"{escape(e.before)}<mark>{escape(e.quote)}</mark>{escape(e.after)}".replace("\n", "<br>")
        parts.append(f'<div class="nr-eval-evidence"><div class="nr-eval-src">{head}</div>{speaker_html(e)}'
                     f'<blockquote class="nr-src-context">{body}</blockquote></div>')
    return "".join(parts) + "</div>"
