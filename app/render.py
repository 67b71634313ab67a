"""Plain-text rendering of an Answer for the terminal (and the OpenAI-compatible endpoint's content).

Sources are grouped by article: one entry per article (title, date, source, link), its quoted spans under it,
each span once (two citations of one span share a line: `[1, 3]`). A span the answer already shows word for word
(the extractive answerer's sentences are verbatim) is shortened to its opening words, enough to find it in the
article; a span the answer does not contain (an LLM's paraphrase cites it) is printed whole.
"""

from __future__ import annotations

import textwrap

from app.types import Answer, Citation

OPENING_WORDS = 10
QUOTE_MARKS = "“”\"'‘’«»„"


CLOSING = {"“": "”", "‘": "’", "«": "»", "„": "“"}


def quoted(quote: str) -> str:
    """The span in curly quotes, unless it starts with a quote mark of its own (no doubled marks); a shortened
    span that opens with its own mark gets the matching closing one."""
    quote = " ".join(quote.split())
    if quote[:1] not in QUOTE_MARKS:
        return f"“{quote}”"
    closing = CLOSING.get(quote[0], quote[0])
    return quote + closing if quote.endswith("…") else quote


def shortened(quote: str, answer_text: str) -> str:
    """The quote's opening words when the answer repeats it verbatim, else the whole quote."""
    words = quote.split()
    if " ".join(words) in " ".join(answer_text.split()) and len(words) > OPENING_WORDS + 2:
        return " ".join(words[:OPENING_WORDS]) + " …"
    return " ".join(words)


def by_article(citations: list[Citation]) -> list[list[Citation]]:
    """The citations grouped by article, in the order the articles are first cited."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.article_id, []).append(c)
    return list(groups.values())


def sources(answer: Answer, width: int = 100) -> str:
    lines = []
    for group in by_article(answer.citations):
        first = group[0]
        spans: dict[tuple[int, int], list[int]] = {}
        for c in group:
            spans.setdefault((c.start, c.end), []).append(c.n)
        numbers = ", ".join(str(c.n) for c in group)
        meta = " · ".join(x for x in (first.date, first.source) if x)
        head = f"[{numbers}] {first.title}" + (f" ({meta})" if meta else "")
        lines.append(textwrap.fill(head, width, subsequent_indent="    "))
        if first.url:
            lines.append(f"    {first.url}")
        quotes = {(c.start, c.end): c.quote for c in group}
        for span, ns in spans.items():
            label = "[" + ", ".join(map(str, ns)) + "] " if len(spans) > 1 or len(group) > 1 else ""
            text = label + quoted(shortened(quotes[span], answer.text))
            lines.append(textwrap.fill(text, width, initial_indent="    ", subsequent_indent="    "))
        copies = list({r.article_id: r for c in group for r in c.also_in}.values())
        if copies:  # the story's syndicated copies, once for the article
            merged = first.model_copy(update={"also_in": copies})
            lines.append(textwrap.fill(also_in(merged), width, initial_indent="    ", subsequent_indent="      "))
    return "\n".join(lines)


def also_in(c: Citation) -> str:
    """"also in: usatoday.com, "Where to watch the Oscars" (2025-02-26)": another outlet by its name, a copy from the
    same outlet by its title."""
    names = [r.source if r.source and r.source != c.source else f"“{r.title}”" + (f" ({r.date})" if r.date else "")
             for r in c.also_in]
    return "also in: " + ", ".join(dict.fromkeys(names))


def notes(answer: Answer) -> str:
    return "\n".join(f"note: {n}" for n in answer.notices)


def render(answer: Answer, width: int = 100) -> str:
    parts = []
    if answer.rewritten_query:
        parts.append(f"(searching for: {answer.rewritten_query})")
    if answer.notices:
        parts.append(notes(answer))
    parts.append(textwrap.fill(answer.text, width))
    if answer.citations:
        parts += ["", f"Sources: (as of {answer.as_of})" if answer.as_of else "Sources:", sources(answer, width)]
    return "\n".join(parts)
