"""What the API routes share: the per-app context, request models, the threads answers run in, and starting an
engine stream safely."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.answering.registry import ANSWERERS
from app.engine import Engine
from app.limits import MAX_FEEDBACK_ANSWER_CHARS, MAX_QUESTION_CHARS, history_problem
from app.quality.feedback import FeedbackStore
from app.settings import Settings
from app.types import Event, Turn
from app.web.security import RateLimiter

T = TypeVar("T")
# Answers run in threads of their own, at most this many at once (the rest wait for one, holding no thread), so that
# answers waiting on a slow LLM never take the 40 threads of the default pool that every other route (the article
# list, feedback, /readyz, the UI) runs in: with 45 slow LLM questions in flight /api/articles took 20-91 s.
ANSWER_THREADS = 32


@dataclass
class ApiContext:
    engine: Engine
    settings: Settings
    feedback: FeedbackStore
    asks: RateLimiter
    feedback_limit: RateLimiter
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    answering: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(ANSWER_THREADS))


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.newsrag
    return ctx


async def in_answer_thread(ctx: ApiContext, fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking part of answering in one of the ANSWER_THREADS, not in the default thread pool."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=ctx.answering)


def too_large(problem: str | None) -> None:
    if problem:
        raise PydanticCustomError("too_large", problem)


class Filters(BaseModel):
    """Restrict retrieval to some articles (all optional; dates compare as ISO strings)."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = None
    article_ids: list[str] | None = None
    date_from: str | None = Field(default=None, examples=["2015-09-01"])
    date_to: str | None = None


class AskRequest(BaseModel):
    """Limits (app/limits.py): the question, the history's messages, each message and all of them together."""

    question: str = Field(max_length=MAX_QUESTION_CHARS, examples=["What did Kerry say about Assad?"])
    history: list[Turn] = Field(default_factory=list,
                                description="earlier turns, oldest first; follow-ups are rewritten with them")
    answerer: Annotated[str, AfterValidator(ANSWERERS.check)] | None = Field(
        default=None, json_schema_extra={"enum": list(ANSWERERS.names())},
        description="; ".join(f"{e}: {ANSWERERS.entry(e).summary}" for e in ANSWERERS.names()))
    k: int | None = Field(default=None, ge=1, le=50, description="passages to retrieve")
    filters: Filters | None = None
    as_of: date | None = Field(default=None, examples=["2026-03-06"], description="answer as of that day: later "
                               "articles are not used, and \"this week\" means its week (default: the newest "
                               "article's date, at most today)")

    @field_validator("history")
    @classmethod
    def _history_fits(cls, history: list[Turn]) -> list[Turn]:
        too_large(history_problem(history))
        return history

    def filter_dict(self) -> dict[str, Any] | None:
        return self.filters.model_dump(exclude_none=True) if self.filters else None


class FeedbackRequest(BaseModel):
    answer_id: str | None = Field(default=None, max_length=200)
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer_text: str = Field(max_length=50_000)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=5_000)
    answer: dict[str, Any] | None = Field(default=None, description="optional: the Answer JSON being rated (at "
                                          f"most {MAX_FEEDBACK_ANSWER_CHARS:,} characters of JSON)")

    @field_validator("answer")
    @classmethod
    def _answer_fits(cls, answer: dict[str, Any] | None) -> dict[str, Any] | None:
        size = len(json.dumps(answer, ensure_ascii=False)) if answer else 0
        too_large(f"the answer is {size:,} characters of JSON; the limit is {MAX_FEEDBACK_ANSWER_CHARS:,}"
                  if size > MAX_FEEDBACK_ANSWER_CHARS else None)
        return answer


def sse(event: str, data: object) -> str:
    """One Server-Sent Event (json.dumps never emits a raw newline, so one data line suffices)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def open_stream(ctx: ApiContext, body: AskRequest) -> AsyncIterator[Event]:
    """Start `engine.ask_stream` and pull its first event before returning, so bad input (empty question,
    nothing indexed, a misconfigured answerer) raises here, while a normal JSON error can still be sent.

    The rest of the stream runs in one worker thread that hands events to the event loop. (One thread-pool hop
    per event, as `iterate_in_threadpool` does, queues each word of the answer behind every other request: under
    50 concurrent clients a streamed answer took 5 s at p95 against 0.8 s for the same answer as JSON.)"""
    events = ctx.engine.ask_stream(body.question, body.history or None, body.answerer, body.k, body.filter_dict(),
                                   body.as_of)
    first: Event | None = await in_answer_thread(ctx, next, events, None)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event | Exception | None] = asyncio.Queue()  # None: the end
    stop = threading.Event()  # the client went away

    def put(item: Event | Exception | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone (the server is shutting down)
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def produce() -> None:
        try:
            for event in events:
                put(event)
                if stop.is_set():
                    break
        except Exception as exc:
            put(exc)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()
            put(None)

    async def rest() -> AsyncIterator[Event]:
        producer = asyncio.ensure_future(in_answer_thread(ctx, produce))
        try:
            if first is not None:
                yield first
            while (item := await queue.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
            await producer
        finally:
            stop.set()

    return rest()
