"""The server's start: requests that need the engine wait for the warm-up instead of racing it.

`newsrag serve` loads the model and opens the stores in a warm-up thread while uvicorn already answers, so that
/healthz is up at once. Chroma's client is not safe to open from two threads at the same moment: a /readyz or
/api/ask arriving during the warm-up used to open it a second time and fail with `'RustBindingsAPI' object has no
attribute 'bindings'` (503) or `Could not connect to tenant default_tenant` (500). Until the warm-up has finished
(well or not), `StartupGate` answers the engine's routes with 503 and `Retry-After`; the UI's handlers ask
`Startup.done` themselves (app/web/ui/access.py).
"""

from __future__ import annotations

import threading

from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.errors import error_body
from app.web.security import API_PREFIXES, send_json

STARTING = "newsrag is starting (loading the model and opening the index): try again in a few seconds."
RETRY_AFTER_S = 2
GATED = (*API_PREFIXES, "/readyz")  # /healthz, the pages, /docs and /widget.js never wait


class Startup:
    """Set once the warm-up is over; a server built without one (tests, `--workers` processes, which warm up before
    they accept a connection) is ready from the start."""

    def __init__(self) -> None:
        self._done = threading.Event()

    def finish(self) -> None:
        self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()


class StartupGate:
    """503 `{"error": STARTING}` with `Retry-After` for the engine's routes until `startup.done`."""

    def __init__(self, app: ASGIApp, startup: Startup):
        self.app, self.startup = app, startup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.startup.done and scope["path"].startswith(GATED):
            await send_json(send, 503, error_body(scope["path"], 503, STARTING), {"retry-after": str(RETRY_AFTER_S)})
            return
        await self.app(scope, receive, send)
