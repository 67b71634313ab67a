"""The objects of /v1 (app/web/openai_api.py serves them): the request, OpenAI's response objects (the schema /docs
shows), and `Reply`, which applies a request's token cap and computes its usage and url_citation annotations."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from app.types import Answer
from app.web import tokens

MODEL = "newsrag"
MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include_usage: bool = False
    include_obfuscation: bool | None = Field(default=None, description="accepted; nothing is obfuscated")


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, description="cut the content at this many tokens")
    max_completion_tokens: int | None = Field(default=None, ge=1, description="the same as max_tokens")
    n: int = Field(default=1, description="must be 1: one answer per question")

    def token_cap(self) -> int | None:
        caps = [c for c in (self.max_tokens, self.max_completion_tokens) if c is not None]
        return min(caps) if caps else None


class UrlCitation(BaseModel):
    url: str
    title: str
    start_index: int = Field(description="content[start_index:end_index] is the citation's [n] marker")
    end_index: int


class Annotation(BaseModel):
    type: Literal["url_citation"] = "url_citation"
    url_citation: UrlCitation


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None
    annotations: list[Annotation] = Field(default_factory=list)


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class Usage(BaseModel):
    """Tokens (cl100k_base, or ~4 characters a token without it): read = the messages and the passages."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """The reply; streamed, it is a series of `chat.completion.chunk` objects (`choices[0].delta` carries the
    content, the last one `finish_reason`, `annotations` in its delta and `newsrag`), then `data: [DONE]`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL
    system_fingerprint: str = Field(description="newsrag's settings hash: equal fingerprints, equal answers")
    choices: list[Choice]
    usage: Usage
    newsrag: Answer = Field(description="the structured Answer (see the Answer JSON in the README)")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "newsrag"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Reply:
    """What one request asked of its reply: the token cap, usage, annotations, and where the content was cut."""

    def __init__(self, body: ChatRequest, base_url: str, fingerprint: str):
        self.body, self.base_url, self.fingerprint = body, base_url, fingerprint
        self.cap = body.token_cap()
        self.sent = ""
        self.finish: Literal["stop", "length"] = "stop"

    def cut(self, text: str) -> str:
        """`text` within the token cap (finish_reason becomes `length` when anything was cut)."""
        if self.cap is None:
            return text
        kept = tokens.truncate(text, self.cap)
        if len(kept) < len(text):
            self.finish = "length"
        return kept

    def add(self, piece: str) -> str:
        """Streaming: the part of `piece` to send now, given what was sent before it."""
        if self.finish == "length":
            return ""
        kept = self.cut(self.sent + piece)
        new = kept[len(self.sent):] if len(kept) > len(self.sent) else ""
        self.sent += new
        return new

    def usage(self, answer: Answer, written: str) -> Usage:
        read = "\n".join(m.text() for m in self.body.messages) + "".join("\n" + p.text for p in answer.passages)
        prompt, completion = tokens.count(read), tokens.count(written)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)

    def annotations(self, answer: Answer, text: str, start: int) -> list[Annotation]:
        """One url_citation per cited number of each [n] marker of the answer, which starts at `start` in `text`
        (the Sources list's numbers are not markers)."""
        by_n = {c.n: c for c in answer.citations}
        end = min(len(text), start + len(answer.text))
        out = []
        for m in MARKERS.finditer(text, start, end):
            for n in (int(x) for x in re.split(r"\s*,\s*", m.group(1))):
                c = by_n.get(n)
                if c is None:
                    continue
                own = c.url if c.url and c.url.lower().startswith(("http://", "https://")) else None
                url = own or f"{self.base_url}api/articles/{quote(c.article_id, safe='')}"
                out.append(Annotation(url_citation=UrlCitation(url=url, title=c.title, start_index=m.start(),
                                                               end_index=m.end())))
        return out
