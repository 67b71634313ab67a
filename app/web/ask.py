"""The public routes: ask (JSON or Server-Sent Events) and feedback. Both rate limited per client IP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.types import Answer, Event, payload
from app.web.common import SSE_HEADERS, AskRequest, FeedbackRequest, context, in_answer_thread, open_stream, sse
from app.web.errors import responses
from app.web.security import client_ip

router = APIRouter()  # one tag per route: a router-wide tag would list /api/feedback under both in /docs

ASK_DOC = """Answer a question from the indexed articles, with numbered citations to exact quoted spans.

Send `Accept: text/event-stream` to stream instead: one `event: <type>` / `data: <json>` block per engine event
(`notice`, `token`, `sentence_verified`, `citation`), always ending with `done` (`{"answer": <Answer>}`).
A failure after streaming started arrives as `event: error` with `{"error": message}`."""

ERRORS: dict[int | str, dict[str, Any]] = responses({
    400: "bad input, e.g. an empty question", 403: "origin not allowed", 409: "nothing is indexed yet",
    413: "the body is over NEWSRAG_MAX_REQUEST_MB", 422: "a field is invalid or over its limit (named)",
    429: "rate limited (see Retry-After)", 503: "the server is starting (see Retry-After)"})


@router.post("/api/ask", response_model=Answer, description=ASK_DOC, tags=["ask"], responses={
    **ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "the Answer (or its event stream)"}})
async def ask(body: AskRequest, request: Request) -> object:
    ctx = context(request)
    ctx.asks.check(client_ip(request))
    if "text/event-stream" not in request.headers.get("accept", ""):
        answer = await in_answer_thread(ctx, ctx.engine.ask, body.question, body.history or None, body.answerer,
                                        body.k, body.filter_dict(), body.as_of)
        return JSONResponse(answer.model_dump())
    events = await open_stream(ctx, body)
    return StreamingResponse(_sse(events), media_type="text/event-stream", headers=SSE_HEADERS)


async def _sse(events: AsyncIterator[Event]) -> AsyncIterator[str]:
    try:
        async for event in events:
            yield sse(event.type, payload(event))
    except Exception as exc:  # the status line is sent already: report in-band
        message = str(exc) or type(exc).__name__
        yield sse("error", {"error": f"The answer failed part-way: {message}. Please try again."})


@router.post("/api/feedback", status_code=201, tags=["feedback"], responses={**ERRORS, 201: {
    "content": {"application/json": {"example": {"id": 1}}}, "description": "stored"}})
async def feedback(body: FeedbackRequest, request: Request) -> dict[str, int]:
    """Store a thumbs up/down (and an optional comment) about an answer; export with `newsrag feedback export`."""
    ctx = context(request)
    ctx.feedback_limit.check(client_ip(request))
    record_id = await run_in_threadpool(ctx.feedback.add, body.question, body.answer_text, body.rating,
                                        body.comment, body.answer, body.answer_id)
    return {"id": record_id}
