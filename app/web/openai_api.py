"""An OpenAI-compatible face: `POST /v1/chat/completions` (plain and streamed) and `GET /v1/models`.

The content is the cited answer text followed by a "Sources:" list. Each `[n]` of the answer is also an annotation
of type `url_citation` in `message.annotations` (where OpenAI-style clients look for citations): `content[start_index:
end_index]` is the marker, `url` the article's own link or, without one, `/api/articles/{id}` on this server. The
structured Answer (citations with exact spans) rides along in the extra top-level field `newsrag`.

Parameters: `max_tokens` / `max_completion_tokens` cut the content at that many tokens (finish_reason `length`);
`n` must be 1; `stream_options.include_usage` adds the final usage chunk; `stream_options` without `stream` is
refused, as OpenAI refuses it. Other sampling parameters (temperature, top_p, seed, stop, ...) are accepted and
have no effect: the answer does not depend on them. `usage` counts tokens (app/web/tokens.py) of what was read (the
messages and the retrieved passages the answer was drawn from) and of the content written.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from app.render import sources
from app.types import Answer, Event, Turn
from app.web.common import SSE_HEADERS, AskRequest, context, in_answer_thread, open_stream
from app.web.errors import responses
from app.web.openai_models import (
    MODEL,
    AssistantMessage,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    Choice,
    ModelCard,
    ModelList,
    Reply,
)
from app.web.security import ApiError, client_ip

router = APIRouter(tags=["openai-compatible"])

ERRORS = responses({400: "a parameter newsrag cannot honour (named in `param`)", 403: "origin not allowed",
                    404: "unknown model", 409: "nothing is indexed yet", 413: "the body is over NEWSRAG_MAX_REQUEST_MB",
                    422: "a field is invalid or over its limit", 429: "rate limited (see Retry-After)",
                    503: "the server is starting (see Retry-After)"}, openai=True)


@router.get("/v1/models", response_model=ModelList)
async def models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL)])


@router.post("/v1/chat/completions", response_model=ChatCompletion, responses={
    **ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "the reply (or its chunks, streamed)"}})
async def chat_completions(body: ChatRequest, request: Request) -> object:
    """The last user message is the question, earlier user/assistant messages the history."""
    ctx = context(request)
    ctx.asks.check(client_ip(request))
    check_parameters(body)
    ask = to_ask(body.messages)
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    reply = Reply(body, str(request.base_url), ctx.settings.fingerprint())
    if not body.stream:
        answer = await in_answer_thread(ctx, ctx.engine.ask, ask.question, ask.history or None)
        text = reply.cut(content(answer))
        completion = ChatCompletion(
            id=cid, created=created, system_fingerprint=reply.fingerprint, usage=reply.usage(answer, text),
            choices=[Choice(finish_reason=reply.finish, message=AssistantMessage(
                content=text, annotations=reply.annotations(answer, text, 0)))], newsrag=answer)
        return JSONResponse(completion.model_dump())
    events = await open_stream(ctx, ask)
    return StreamingResponse(_chunks(events, cid, created, reply), media_type="text/event-stream",
                             headers=SSE_HEADERS)


def check_parameters(body: ChatRequest) -> None:
    """Refuse what newsrag cannot honour, by name, rather than ignore it."""
    if body.model != MODEL:
        raise ApiError(404, f"Unknown model '{body.model}': this server has one model, '{MODEL}' (GET /v1/models).",
                       param="model")
    if body.n != 1:
        raise ApiError(400, f"n={body.n} is not supported: newsrag gives one answer per question (the same answer "
                            "every time), so send n=1 or leave it out.", param="n")
    if body.stream_options is not None and not body.stream:
        raise ApiError(400, "stream_options is only allowed when stream is true.", param="stream_options")


def to_ask(messages: list[ChatMessage]) -> AskRequest:
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise ApiError(400, "Send at least one message with role 'user': the last one is the question.",
                       param="messages")
    last = users[-1]
    history = [Turn(role=m.role, content=m.text()) for m in messages[:last]  # type: ignore[arg-type]
               if m.role in ("user", "assistant") and m.text().strip()]
    try:
        return AskRequest(question=messages[last].text(), history=history)
    except ValidationError as exc:  # the limits of app/limits.py, said in terms of messages (was a 500)
        what = {"question": "the last user message (the question)", "history": "the earlier messages"}
        parts = [f"{what.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'messages'}: {e['msg']}"
                 for e in exc.errors()]
        raise ApiError(422, "Invalid request: " + "; ".join(parts) + ".", param="messages") from None


def content(answer: Answer) -> str:
    return answer.text + (f"\n\nSources:\n{sources(answer)}" if answer.citations else "")


async def _chunks(events: AsyncIterator[Event], cid: str, created: int, reply: Reply) -> AsyncIterator[str]:
    include_usage = bool(reply.body.stream_options and reply.body.stream_options.include_usage)

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                   "system_fingerprint": reply.fingerprint,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        if include_usage:
            payload.setdefault("usage", None)  # as OpenAI: null on every chunk but the last
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    streamed = ""
    try:
        async for event in events:
            piece = ""
            if event.type == "token":
                streamed += event.text
                piece = event.text
            elif event.type == "notice" and event.reset:  # what streamed is withdrawn
                piece = f"\n\n({event.text})\n\n"
                streamed = ""
            elif event.type == "done":
                answer = event.answer
                tail = content(answer)[len(answer.text):]
                answer_at = len(reply.sent) - len(streamed)
                if streamed != answer.text:  # the verifier changed what streamed: give the checked answer
                    head = "\n\nChecked against the sources:\n" if streamed else ""
                    answer_at = len(reply.sent) + len(head)
                    tail = head + answer.text + tail
                if sent := reply.add(tail):
                    yield chunk({"content": sent})
                notes = reply.annotations(answer, reply.sent, answer_at)
                delta = {"annotations": [a.model_dump() for a in notes]} if notes else {}
                yield chunk(delta, reply.finish, newsrag=answer.model_dump())
                if include_usage:
                    usage = reply.usage(answer, reply.sent).model_dump()
                    payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                               "system_fingerprint": reply.fingerprint, "choices": [], "usage": usage}
                    yield f"data: {json.dumps(payload)}\n\n"
                continue
            if piece and (sent := reply.add(piece)):
                yield chunk({"content": sent})
    except Exception as exc:  # mid-stream: OpenAI clients raise on an `error` chunk
        error = {"message": str(exc) or type(exc).__name__, "type": "server_error", "param": None, "code": None}
        yield f"data: {json.dumps({'error': error})}\n\n"
    yield "data: [DONE]\n\n"
