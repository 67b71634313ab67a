"""One bounded call to an OpenAI-compatible endpoint: a wall-clock deadline, a cap on what is read, and a cap on the
calls in flight.

The `openai` client's timeout is per read: an endpoint that sends an SSE keep-alive comment every 2 s (which the
client swallows without returning) held an answer 90 s, one word every 2 s held it 60 s, and a 20,000-token reply
sent in 0.5 s took 71 s to process (issue 13). So every call is streamed and runs on one event loop thread of its
own, where cancelling it closes the connection at once (a blocking read in a thread cannot be interrupted); the
caller waits on a queue only until the deadline, then cancels.

What is read stops at `max_tokens`. Without a tokenizer for the endpoint's model, each streamed chunk counts as one
token (OpenAI, vLLM, llama.cpp and Ollama stream about one token per chunk), and the text is also cut at
CHARS_PER_TOKEN characters per token, for a server that packs many tokens into one chunk. Reaching the cap ends the
reply as the endpoint's own `finish_reason: length` would.

At most NEWSRAG_LLM_MAX_CONCURRENT calls run at once per process; a call over it fails at once (`Saturated`) and the
caller falls back (quotes, or the rule-based rewrite) instead of holding a thread while it waits.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Generator
from typing import Any

from app.settings import Settings

CHARS_PER_TOKEN = 8  # English averages ~4 characters a token; 8 leaves room for long words and markup
_END = object()  # the reply ended with a finish reason (or reached the cap)


class CutOff(Exception):
    """The stream ended without a finish reason."""


class Deadline(Exception):
    """No complete reply within the deadline."""


class Saturated(Exception):
    """Too many calls in flight already."""


_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def event_loop() -> asyncio.AbstractEventLoop:
    """The process's LLM event loop, running in a daemon thread (started on first use; again after a fork)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="newsrag-llm", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


class Endpoint:
    """An OpenAI-compatible endpoint: its async client, the deadline of each call, and the slots for calls at once.
    Shared by the answerer and the follow-up rewriter of one configuration (see `endpoint`)."""

    def __init__(self, settings: Settings):
        from openai import AsyncOpenAI  # the openai client takes ~1-2 s to import: only when an LLM is configured

        self.timeout = settings.llm_timeout
        self.limit = max(1, settings.llm_max_concurrent)
        self.slots = threading.BoundedSemaphore(self.limit)
        # the client's own (per-read) timeout only backs up the deadline, so the deadline's message is the one seen
        self.client = AsyncOpenAI(base_url=settings.llm_base_url, api_key=settings.llm_api_key or "not-needed",
                                  timeout=settings.llm_timeout + 1.0, max_retries=0)

    def stream(self, max_tokens: int, **request: Any) -> Generator[str, None, None]:
        """The reply's text deltas, until it ends, `max_tokens` is reached or the deadline passes (Deadline).
        Raises Saturated when every slot is taken, CutOff when the stream ends without a finish reason, and whatever
        the client raises. Close the iterator (or exhaust it) to free the slot and the connection."""
        if not self.slots.acquire(blocking=False):
            raise Saturated(f"{self.limit} LLM calls already in progress (NEWSRAG_LLM_MAX_CONCURRENT)")
        deadline = time.monotonic() + self.timeout
        out: queue.SimpleQueue[object] = queue.SimpleQueue()
        call = asyncio.run_coroutine_threadsafe(self._pump(out, max_tokens, request), event_loop())
        received = False
        try:
            while True:
                try:
                    item = out.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise Deadline(f"the reply took longer than {self.timeout:g} s" if received
                                   else f"no reply within {self.timeout:g} s") from None
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                received = True
                yield str(item)
                if time.monotonic() > deadline:  # the caller's own work on the deltas counts too
                    raise Deadline(f"the reply took longer than {self.timeout:g} s")
        finally:
            call.cancel()  # closes the connection if it is still open
            self.slots.release()

    async def _pump(self, out: queue.SimpleQueue[object], max_tokens: int, request: dict[str, Any]) -> None:
        """Read the stream on the event loop, counting what comes (the caps hold however slow the caller is)."""
        try:
            stream = await self.client.chat.completions.create(stream=True, max_tokens=max_tokens, **request)
            finished, chunks, room = False, 0, max_tokens * CHARS_PER_TOKEN
            try:
                async for chunk in stream:
                    choice = chunk.choices[0] if chunk.choices else None
                    if choice is None:
                        continue
                    finished = finished or bool(choice.finish_reason)
                    delta = (choice.delta.content if choice.delta else None) or ""
                    if not delta:
                        continue
                    delta = delta[:room]
                    chunks, room = chunks + 1, room - len(delta)
                    out.put(delta)
                    if chunks >= max_tokens or room <= 0:
                        finished = True  # as the endpoint's own `finish_reason: length`
                        break
            finally:
                await stream.close()
            out.put(_END if finished else CutOff("the reply was cut off"))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            out.put(exc)


_endpoints: dict[tuple[object, ...], Endpoint] = {}
_endpoints_lock = threading.Lock()


def endpoint(settings: Settings) -> Endpoint:
    """The Endpoint for these settings, one per process: the answerer and the rewriter share its slots."""
    key = (os.getpid(), settings.llm_base_url, settings.llm_api_key, settings.llm_timeout,
           settings.llm_max_concurrent)
    with _endpoints_lock:
        if key not in _endpoints:
            _endpoints[key] = Endpoint(settings)
        return _endpoints[key]
