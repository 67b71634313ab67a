"""A scripted OpenAI-compatible chat-completions server on a real loopback socket, for tests.

    with FakeOpenAI([Reply("Hello [1].")]) as fake:
        client = openai.OpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
        ...
        assert fake.requests[0]["messages"][-1]["content"] == "..."

Each POST /v1/chat/completions consumes one scripted `Reply` (queue order); once the queue is empty the
server answers with DEFAULT_CONTENT. Both `"stream": false` and `"stream": true` (SSE) are spoken.
Slow and flooding endpoints for the deadline tests: `keepalive`/`keepalive_for` (an SSE comment, or in a plain
reply a space, every few seconds before the content: no per-read timeout ever fires), `every` with `by_words`
(one word every N s) and `flood` (that many one-word chunks as fast as the socket takes them). `fake.hangups`
counts the streams the client closed before their end.

Also a pytest plugin: `pytest_plugins = ["tests.fake_openai"]` provides the `fake_llm` fixture.
(PYTEST_DONT_REWRITE: test modules import this before pytest loads it as a plugin; no asserts here.)
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DEFAULT_CONTENT = "No scripted reply."
MODEL = "fake-model"
_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error", 429: "rate_limit_error"}


@dataclass
class Reply:
    content: str = ""  # assistant message text
    status: int = 200  # non-2xx -> OpenAI-style JSON error body
    hang: float = 0.0  # seconds to sleep before answering (to trigger client timeouts)
    malformed: bool = False  # 200 with a body that is not JSON (streaming: a broken SSE data line)
    chunk_size: int = 8  # characters per streamed delta
    truncate: bool = False  # streaming: close the connection after half the content, with no finish/[DONE]
    keepalive: float = 0.0  # an SSE comment (": keep-alive"; plain: a space) every this many s, before the content
    keepalive_for: float = 0.0  # ... for this long
    every: float = 0.0  # streaming: seconds before each content chunk
    by_words: bool = False  # streaming: one word per chunk instead of chunk_size characters
    flood: int = 0  # streaming: this many " word" chunks after the content, as fast as they can be written


class _Stopping(Exception):
    """The fake is being stopped: a slow handler drops its stream."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not join handler threads (a hanging one) on close

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client hanging up is not an error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, fake: FakeOpenAI, **kwargs: Any) -> None:
        self.fake = fake
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, obj: object) -> None:
        self._send(status, json.dumps(obj).encode())

    def _error(self, status: int, message: str) -> None:
        kind = _ERROR_TYPES.get(status, "server_error")
        self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            model = {"id": MODEL, "object": "model", "created": 0, "owned_by": "fake"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            self._error(404, f"Unknown path {self.path}")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"Unknown path {self.path}")
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._error(400, "Request body is not valid JSON")
            return
        reply = self.fake._record(body)
        if reply.hang and self.fake._stopping.wait(reply.hang):
            self.close_connection = True  # server stopping: drop the request unanswered
            return
        try:
            if reply.status >= 400:
                self._error(reply.status, f"Scripted error {reply.status}")
            elif body.get("stream"):
                self._stream(body, reply)
            elif reply.malformed:
                self._send(reply.status, b'{"id": "chatcmpl-fake", "choices": [')
            elif reply.keepalive:
                self._trickle(_completion(body, reply.content), reply)
            else:
                self._send_json(reply.status, _completion(body, reply.content))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True
            with self.fake._lock:
                self.fake.hangups += 1
        except _Stopping:
            self.close_connection = True

    def _trickle(self, obj: object, reply: Reply) -> None:
        """A plain reply whose body starts with a space every `keepalive` s (JSON allows leading whitespace)."""
        body = json.dumps(obj).encode()
        spaces = int(reply.keepalive_for / reply.keepalive)
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(spaces + len(body)))
        self.end_headers()
        for _ in range(spaces):
            if self.fake._stopping.wait(reply.keepalive):
                raise _Stopping
            self.wfile.write(b" ")
            self.wfile.flush()
        self.wfile.write(body)

    def _stream(self, body: dict[str, Any], reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(data: str) -> None:
            payload = f"data: {data}\n\n".encode()
            self.wfile.write(b"%X\r\n%s\r\n" % (len(payload), payload))
            self.wfile.flush()

        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model") or MODEL,
            "system_fingerprint": None,
        }

        def chunk(delta: dict[str, str], finish: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            event(json.dumps({**base, "choices": [choice]}))

        def wait(seconds: float) -> None:
            if self.fake._stopping.wait(seconds):
                raise _Stopping

        chunk({"role": "assistant", "content": ""})
        until = time.monotonic() + reply.keepalive_for
        while reply.keepalive and time.monotonic() < until:
            wait(reply.keepalive)
            payload = b": keep-alive\n\n"
            self.wfile.write(b"%X\r\n%s\r\n" % (len(payload), payload))
            self.wfile.flush()
        size = max(1, reply.chunk_size)
        content = reply.content[: len(reply.content) // 2] if reply.truncate else reply.content
        pieces = (re.findall(r"\s*\S+", content) if reply.by_words
                  else [content[i : i + size] for i in range(0, len(content), size)])
        for piece in pieces:
            if reply.every:
                wait(reply.every)
            chunk({"content": piece})
        for _ in range(reply.flood):
            chunk({"content": " word"})
        if reply.truncate:
            self.close_connection = True
            self.wfile.write(b"0\r\n\r\n")
            return
        if reply.malformed:
            event('{"id": "chatcmpl-fake", "choices": [{"delta": ')
        chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            event(json.dumps({**base, "choices": [], "usage": _usage(body, reply.content)}))
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")


def _usage(body: dict[str, Any], content: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion = len(content.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": _usage(body, content),
    }


class FakeOpenAI:
    """Scripted OpenAI chat-completions server; a context manager (start on enter, stop on exit)."""

    def __init__(self, replies: list[Reply] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.hangups = 0  # streams the client closed before their end
        self._replies: deque[Reply] = deque(replies or [])
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def _record(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            return self._replies.popleft() if self._replies else Reply(DEFAULT_CONTENT)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), partial(_Handler, fake=self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wake hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    """A started FakeOpenAI (empty script); `fake_llm.push(Reply(...))` to script it."""
    with FakeOpenAI() as fake:
        yield fake
