"""An OpenAI-compatible face: `POST /v1/chat/completions` (plain and streamed) and `GET /v1/models`.

The content is the cited answer text followed by a "Sources:" list; the structured Answer rides along in the
extra top-level field `newsrag`, which OpenAI clients ignore and newsrag-aware clients read.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.render import sources
from app.types import Answer, Event, Turn
from app.web.common import SSE_HEADERS, AskRequest, context, in_answer_thread, open_stream
from app.web.security import ApiError, client_ip

router = APIRouter(tags=["openai-compatible"])

MODEL = "newsrag"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


@router.get("/v1/models")
async def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "newsrag"}]}


@router.post("/v1/chat/completions")
async def chat_completions(body: ChatRequest, request: Request) -> object:
    """The last user message is the question, earlier user/assistant messages the history."""
    ctx = context(request)
    ctx.asks.check(client_ip(request))
    if body.model != MODEL:
        raise ApiError(404, f"Unknown model '{body.model}': this server has one model, '{MODEL}' (GET /v1/models).")
    ask = to_ask(body.messages)
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not body.stream:
        answer = await in_answer_thread(ctx, ctx.engine.ask, ask.question, ask.history or None)
        return {"id": cid, "object": "chat.completion", "created": created, "model": MODEL,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content(answer)}}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "newsrag": answer.model_dump()}
    events = await open_stream(ctx, ask)
    return StreamingResponse(_chunks(events, cid, created), media_type="text/event-stream", headers=SSE_HEADERS)


def to_ask(messages: list[ChatMessage]) -> AskRequest:
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise ApiError(400, "Send at least one message with role 'user': the last one is the question.")
    last = users[-1]
    history = [Turn(role=m.role, content=m.text()) for m in messages[:last]  # type: ignore[arg-type]
               if m.role in ("user", "assistant") and m.text().strip()]
    try:
        return AskRequest(question=messages[last].text(), history=history)
    except ValidationError as exc:  # the limits of app/limits.py, said in terms of messages (was a 500)
        what = {"question": "the last user message (the question)", "history": "the earlier messages"}
        parts = [f"{what.get(str(e['loc'][0]), e['loc'][0]) if e['loc'] else 'messages'}: {e['msg']}"
                 for e in exc.errors()]
        raise ApiError(422, "Invalid request: " + "; ".join(parts) + ".") from None


def content(answer: Answer) -> str:
    return answer.text + (f"\n\nSources:\n{sources(answer)}" if answer.citations else "")


async def _chunks(events: AsyncIterator[Event], cid: str, created: int) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        payload = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    streamed = ""
    try:
        async for event in events:
            if event.type == "token":
                streamed += event.text
                yield chunk({"content": event.text})
            elif event.type == "notice" and event.reset:  # what streamed is withdrawn
                yield chunk({"content": f"\n\n({event.text})\n\n"})
                streamed = ""
            elif event.type == "done":
                answer = event.answer
                tail = content(answer)[len(answer.text):]
                if streamed != answer.text:  # the verifier changed what streamed: give the checked answer
                    tail = ("\n\nChecked against the sources:\n" if streamed else "") + answer.text + tail
                if tail:
                    yield chunk({"content": tail})
                yield chunk({}, "stop", newsrag=answer.model_dump())
    except Exception as exc:  # mid-stream: OpenAI clients raise on an `error` chunk
        error = {"message": str(exc) or type(exc).__name__, "type": "server_error", "param": None, "code": None}
        yield f"data: {json.dumps({'error': error})}\n\n"
    yield "data: [DONE]\n\n"
