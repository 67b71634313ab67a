"""The Answerer protocol and what every answerer shares: citations, refusals, streaming a finished answer.

Answerers are registered by name in app/answering/registry.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from app.types import Answer, Citation, CitationEvent, DoneEvent, Event, Passage, TokenEvent


class Answerer(Protocol):
    name: str

    def answer(self, question: str, passages: list[Passage]) -> Answer: ...

    def stream(self, question: str, passages: list[Passage]) -> Iterator[Event]:
        """Events ending with `done` carrying the final Answer."""
        ...


def citation(n: int, passage: Passage, start: int, end: int) -> Citation:
    """A citation of article chars [start, end), which must lie inside the passage."""
    rel0, rel1 = start - passage.start, end - passage.start
    if not (0 <= rel0 < rel1 <= len(passage.text)):
        raise ValueError(f"span {start}-{end} is outside passage {passage.chunk_id}")
    return Citation(n=n, article_id=passage.article_id, title=passage.title, date=passage.date, url=passage.url,
                    source=passage.source, start=start, end=end, quote=passage.text[rel0:rel1],
                    also_in=passage.also_in)


def refusal(question: str, reason: str, answerer: str, passages: list[Passage]) -> Answer:
    return Answer(question=question, text=f"I can't answer that from the indexed articles: {reason}",
                  refused=True, refusal_reason=reason, answerer=answerer, passages=passages)


def events_for(answer: Answer) -> Iterator[Event]:
    """Stream a finished answer: its text in word-sized tokens, its citations, then `done`."""
    for i, word in enumerate(answer.text.split(" ")):
        yield TokenEvent(text=word if i == 0 else " " + word)
    for c in answer.citations:
        yield CitationEvent(citation=c)
    yield DoneEvent(answer=answer)
