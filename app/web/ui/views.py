"""Pure HTML formatting for the chat UI: answers, refusals, errors, the sources panel. No Gradio, no engine.

Every piece of article or model text goes through `html.escape` before it is placed in markup: articles may
contain hostile HTML, and both the chat and the sources panel render HTML. `[n]` markers become links to
`#src-<turn>-<n>`, the id of the matching source card; the click handler in `app/web/ui/assets.py` selects it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from pathlib import PurePath

from app.limits import recent
from app.render import also_in
from app.types import Answer, Citation, Turn

CONTEXT_CHARS = 600  # at most this much paragraph text either side of a quoted span
_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def src_id(turn: int, n: int) -> str:
    return f"src-{turn}-{n}"


def linkify_markers(escaped: str, turn: int, known: set[int] | None = None) -> str:
    """Turn `[n]` (and `[n, m]`) in already-escaped text into links to source cards; unknown numbers stay text."""

    def link(n: int) -> str:
        return f'<a class="nr-cite" href="#{src_id(turn, n)}" title="Show source {n}">{n}</a>'

    def repl(m: re.Match[str]) -> str:
        numbers = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
        if known is not None and not all(n in known for n in numbers):
            return m.group(0)
        return "[" + ", ".join(link(n) for n in numbers) + "]"

    return _MARKERS.sub(repl, escaped)


def paragraphs(text: str) -> str:
    """Escaped text as paragraphs: blank lines split paragraphs, single newlines become <br>."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in parts)


def searching_html(rewritten: str | None) -> str:
    if not rewritten:
        return ""
    return f'<div class="nr-searching">Searching for: <q>{escape(rewritten)}</q></div>'


def pending_html(rewritten: str | None = None) -> str:
    return searching_html(rewritten) + '<div class="nr-pending">Searching the articles…</div>'


def streaming_html(text: str, turn: int, rewritten: str | None = None) -> str:
    """The assistant message while tokens arrive."""
    if not text:
        return pending_html(rewritten)
    body = linkify_markers(escape(text), turn)
    return f'{searching_html(rewritten)}<div class="nr-answer nr-streaming">{body}</div>'


def refusal_html(reason: str) -> str:
    """A notice to read: what happened (no answer) and why, the reason as a sentence."""
    reason = reason[:1].upper() + reason[1:]
    return ('<div class="nr-refusal" role="note"><div class="nr-refusal-title">No answer in the indexed articles'
            f'</div><div class="nr-refusal-reason">{escape(reason)}</div></div>')


def error_html(message: str) -> str:
    return (f'<div class="nr-error" role="alert"><div class="nr-error-title">Could not answer</div>'
            f'<div class="nr-error-text">{escape(message)}</div></div>')


def answer_html(answer: Answer, turn: int) -> str:
    """The final assistant message: the rewritten question, notices, then the answer or a refusal box."""
    parts = [searching_html(answer.rewritten_query)]
    parts += [f'<div class="nr-notice">{escape(note)}</div>' for note in answer.notices]
    if answer.refused:
        parts.append(refusal_html(answer.refusal_reason or answer.text))
    else:
        known = {c.n for c in answer.citations}
        parts.append(f'<div class="nr-answer">{linkify_markers(escape(answer.text), turn, known)}</div>')
    return "".join(parts)


def user_html(question: str) -> str:
    return f'<div class="nr-question">{escape(question)}</div>'


def quote_context(text: str, start: int, end: int, limit: int = CONTEXT_CHARS,
                  min_context: int = 80) -> tuple[str, str, str]:
    """(before, quote, after): the paragraph around text[start:end], trimmed to `limit` chars either side.

    News paragraphs are often one sentence: when a side of the quote has less than `min_context` characters of
    its own paragraph, the neighbouring paragraph on that side is included too (blank lines kept as one).
    """
    lo = text.rfind("\n", 0, start) + 1
    if len(text[lo:start].strip()) < min_context and text[:lo].strip():
        lo = text.rfind("\n", 0, len(text[:lo].rstrip())) + 1
    hi = text.find("\n", end)
    hi = len(text) if hi == -1 else hi
    if len(text[end:hi].strip()) < min_context and text[hi:].strip():
        rest = len(text) - len(text[hi:].lstrip())
        hi = text.find("\n", rest)
        hi = len(text) if hi == -1 else hi
    before, after = _blank_lines(text[lo:start]), _blank_lines(text[end:hi])
    if len(before) > limit:
        cut = before[-limit:]
        before = "…" + cut[cut.find(" ") + 1:] if " " in cut else "…" + cut
    if len(after) > limit:
        cut = after[:limit]
        after = (cut[:cut.rfind(" ")] if " " in cut else cut) + "…"
    return before, text[start:end], after


def _blank_lines(s: str) -> str:
    return re.sub(r"[ \t\r]*\n\s*\n\s*", "\n\n", s)


def _meta(c: Citation) -> str:
    bits = [escape(x) for x in (c.date, c.source) if x]
    if c.url and c.url.lower().startswith(("http://", "https://")):
        bits.append(f'<a href="{escape(c.url, quote=True)}" target="_blank" rel="noopener noreferrer">link</a>')
    bits.append(f"<code>{escape(c.article_id)}</code>")
    if c.also_in:  # the story's syndicated copies (index/duplicates.py)
        bits.append(escape(also_in(c)))
    return " · ".join(bits)


def source_card_html(c: Citation, turn: int, article_text: str | None) -> str:
    """One cited article: title, date, source and the quote highlighted inside its paragraph.

    The span comes from the article text when it is available and still matches the citation; otherwise
    the citation's own quote is shown alone (the article changed or was removed since the answer).
    """
    if article_text is not None and article_text[c.start:c.end] == c.quote:
        before, quote, after = quote_context(article_text, c.start, c.end)
    else:
        before, quote, after = "", c.quote, ""
    body = (f"{escape(before)}<mark>{escape(quote)}</mark>{escape(after)}").replace("\n", "<br>")
    return (f'<article class="nr-src" id="{src_id(turn, c.n)}">'
            f'<div class="nr-src-head"><span class="nr-src-n">[{c.n}]</span> '
            f'<span class="nr-src-title">{escape(c.title)}</span></div>'
            f'<div class="nr-src-meta">{_meta(c)}</div>'
            f'<blockquote class="nr-src-context">{body}</blockquote></article>')


@dataclass
class ChatTurn:
    """One question and what came back: the Answer (None after an error) and its source cards' HTML."""

    question: str
    answer: Answer | None = None
    sources: str = ""


def turn_sources_html(answer: Answer, turn: int, texts: dict[str, str | None]) -> str:
    if answer.refused or not answer.citations:
        return '<p class="nr-src-none">No sources: the articles do not answer this question.</p>'
    return "".join(source_card_html(c, turn, texts.get(c.article_id)) for c in answer.citations)


EMPTY_SOURCES = ('<div class="nr-sources"><p class="nr-src-none">Sources appear here. Click a citation such as '
                 "[1] in an answer to jump to its quote.</p></div>")


def sources_panel_html(turns: list[ChatTurn]) -> str:
    """Newest answer's sources first and open; earlier answers' sources folded underneath."""
    blocks: list[str] = []
    for i in range(len(turns) - 1, -1, -1):
        t = turns[i]
        if t.answer is None:
            continue
        head = f'Sources for: <q>{escape(t.question)}</q>'
        if not blocks:
            blocks.append(f'<section class="nr-turn"><div class="nr-turn-q">{head}</div>{t.sources}</section>')
        else:
            blocks.append(f'<details class="nr-turn"><summary>{head}</summary>{t.sources}</details>')
    return f'<div class="nr-sources">{"".join(blocks)}</div>' if blocks else EMPTY_SOURCES


def history(turns: list[ChatTurn]) -> list[Turn]:
    """The recent conversation in the engine's history format, within the history limits (app/limits.py), so a
    long chat never gets "the conversation is too long"; turns that failed are left out."""
    out: list[Turn] = []
    for t in turns:
        if t.answer is not None:
            out += [Turn(role="user", content=t.question, rewritten_query=t.answer.rewritten_query),
                    Turn(role="assistant", content=t.answer.text)]
    return recent(out)


def upload_summary(summary: str, uploads: list[str]) -> str:
    """The ingest summary with Gradio's per-upload temporary folders cut from the file paths it names."""
    for folder in sorted({str(PurePath(u).parent) for u in uploads}, key=len, reverse=True):
        summary = summary.replace(folder + "/", "")
    return summary


ARTICLE_COLUMNS = ["id", "date", "source", "chunks", "title"]


def article_rows(listing: list[dict]) -> list[list[object]]:
    """`engine.articles()` as rows for the Articles table (plain values: the table escapes them itself)."""
    return [[r.get("id", ""), r.get("date") or "", r.get("source") or "", r.get("chunks", 0), r.get("title", "")]
            for r in listing]
