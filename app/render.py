"""Plain-text rendering of an Answer for the terminal (and the OpenAI-compatible endpoint)."""

from __future__ import annotations

import textwrap

from app.types import Answer, Citation


def sources(answer: Answer, width: int = 100) -> str:
    lines = []
    for c in answer.citations:
        head = f"[{c.n}] {c.title}" + (f" ({c.date})" if c.date else "") + (f" - {c.source}" if c.source else "")
        lines.append(head)
        said = f"{c.speaker}: " if c.speaker else ""
        lines.append(textwrap.fill(f"{said}“{c.quote}”", width, initial_indent="    ", subsequent_indent="    "))
        if c.also_in:
            lines.append(textwrap.fill(also_in(c), width, initial_indent="    ", subsequent_indent="      "))
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
