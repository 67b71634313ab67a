"""The Answer every face of newsrag consumes (CLI, UI, API, widget, eval), and its parts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ArticleSpan(BaseModel):
    """Characters [start, end) of one article, with what a reader needs to recognise the article."""

    article_id: str
    title: str
    date: str | None = None
    url: str | None = None
    source: str | None = None
    start: int
    end: int


class ArticleRef(BaseModel):
    """Another article carrying the same story (a syndicated copy): what the citation lists under "also in"."""

    article_id: str
    title: str
    date: str | None = None
    url: str | None = None
    source: str | None = None


class Passage(ArticleSpan):
    """A retrieved span of an article with the scores that ranked it; `also_in`: its near-duplicate copies."""

    chunk_id: str
    text: str
    kind: Literal["chunk", "quote"] = "chunk"
    speaker: str | None = None
    rank: int = 0
    dense: float | None = None
    keyword: float | None = None
    fused: float = 0.0
    also_in: list[ArticleRef] = Field(default_factory=list)


class Citation(ArticleSpan):
    """Citation number n; `quote == article_text[start:end]` exactly; `also_in`: the story's other copies."""

    n: int
    quote: str
    also_in: list[ArticleRef] = Field(default_factory=list)


class SentenceVerdict(BaseModel):
    text: str
    citations: list[int] = Field(default_factory=list)
    supported: bool
    score: float | None = None
    reason: str = ""


class Turn(BaseModel):
    """One message of a conversation: the history format the CLI, API and UI share."""

    role: Literal["user", "assistant"]
    content: str
    rewritten_query: str | None = None


class TimeWindow(BaseModel):
    """The dates a question was searched in: a filter (soft false) or a preference (soft true)."""

    start: str | None = None
    end: str | None = None
    soft: bool
    phrase: str  # the words it came from ("this week"), or "filters"


class Answer(BaseModel):
    question: str
    text: str
    refused: bool = False
    refusal_reason: str | None = None  # why, in words a reader understands
    refusal_score: float | None = None  # the best support reached, when too little support was why (< min_support)
    citations: list[Citation] = Field(default_factory=list)
    sentences: list[SentenceVerdict] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    answerer: str
    rewritten_query: str | None = None
    notices: list[str] = Field(default_factory=list)
    as_of: str | None = None  # the day the question was answered as of (YYYY-MM-DD)
    time_window: TimeWindow | None = None
    prompt_id: str | None = None
    prompt_version: str | None = None
    settings_hash: str = ""
    timings_ms: dict[str, float] = Field(default_factory=dict)


class TokenEvent(BaseModel):
    """A piece of answer text as it is written."""

    type: Literal["token"] = "token"
    text: str


class NoticeEvent(BaseModel):
    """Something the user should know now; `reset`: the text streamed so far is withdrawn (a fallback follows)."""

    type: Literal["notice"] = "notice"
    text: str
    reset: bool = False
    rewritten_query: str | None = None


class SentenceEvent(BaseModel):
    """One answer sentence checked against the passages it cites, while the answer streams."""

    type: Literal["sentence_verified"] = "sentence_verified"
    index: int
    verdict: SentenceVerdict


class CitationEvent(BaseModel):
    type: Literal["citation"] = "citation"
    citation: Citation


class DoneEvent(BaseModel):
    """Always the last event of a stream: the final Answer."""

    type: Literal["done"] = "done"
    answer: Answer


Event = TokenEvent | NoticeEvent | SentenceEvent | CitationEvent | DoneEvent


def payload(event: Event) -> dict[str, Any]:
    """An event's JSON on the wire (the SSE `data:` line the widget and API clients read)."""
    if isinstance(event, SentenceEvent):
        return {"index": event.index, **event.verdict.model_dump()}
    if isinstance(event, CitationEvent):
        return event.citation.model_dump()
    if isinstance(event, DoneEvent):
        return {"answer": event.answer.model_dump()}
    return event.model_dump(exclude={"type"}, exclude_none=True)
