"""One line per request on the `newsrag.access` logger, as plain ASGI middleware (streamed answers are logged when
they end, with their whole duration):

    2026-12-01T11:53:39Z 127.0.0.1 "POST /api/ask" 200 2417 B 152 ms

The path is logged without its query string (Gradio puts session ids there), and never a body or a header, so no
question, token or cookie lands in the log. `newsrag serve` (and each `--workers` process) sends the logger to
stderr unless NEWSRAG_ACCESS_LOG=false; as a library it follows the caller's logging set-up.
"""

from __future__ import annotations

import logging
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("newsrag.access")


class AccessLog:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status, size, logged = 0, 0, False

        def line() -> None:
            nonlocal logged
            if logged or not log.isEnabledFor(logging.INFO):
                return
            logged = True
            client = (scope.get("client") or ("-",))[0]
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            ms = (time.perf_counter() - t0) * 1000
            log.info('%s %s "%s %s" %s %d B %.0f ms', when, client, scope["method"], scope["path"], status or "-",
                     size, ms)

        async def counted(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if not message.get("more_body"):
                    await send(message)
                    line()
                    return
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:  # the client went away mid-stream, or the app raised: still one line
            line()


class Stderr:
    """sys.stderr as it is when a line is written (not when the handler was made)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def enable(on: bool = True) -> None:
    """Send the access log to stderr, one plain line per request (idempotent; `on=False` silences it)."""
    log.propagate = False
    log.setLevel(logging.INFO if on else logging.CRITICAL + 1)
    if on and not any(getattr(h, "newsrag_access", False) for h in log.handlers):
        handler = logging.StreamHandler(Stderr())
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.newsrag_access = True  # type: ignore[attr-defined]
        log.addHandler(handler)
