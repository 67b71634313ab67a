"""A cap on request bodies for the JSON routes of the API (NEWSRAG_MAX_REQUEST_MB), as plain ASGI middleware.

Defence in depth under the per-field limits of app/limits.py: before it, `/api/feedback` stored a 5 MB body and a
4 MB history message was parsed whole before anything looked at it. A declared Content-Length over the cap is
refused before a byte is read; a chunked (or lying) body is counted as it arrives and refused once it passes the
cap, so at most the cap is ever held. The refusal is an HTTPException(413) raised from `receive`, which FastAPI
hands to the app's error handlers, so the body is `{"error": ...}` (OpenAI-shaped on /v1/) like every other error.
Uploads (`POST /api/articles`, multipart) have their own limit, NEWSRAG_MAX_FILE_MB, and are not counted here.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.security import API_PREFIXES

MB = 1_000_000  # as NEWSRAG_MAX_FILE_MB counts
UPLOADS = frozenset({"/api/articles"})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_mb: float, exempt: frozenset[str] = UPLOADS):
        self.app, self.max_mb, self.limit, self.exempt = app, max_mb, int(max_mb * MB), exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIXES) or path.rstrip("/") in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        received = 0

        async def counted() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > self.limit:
                raise self._too_large(int(declared))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise self._too_large(None)
            return message

        await self.app(scope, counted, send)

    def _too_large(self, size: int | None) -> HTTPException:
        said = f" ({size / MB:.1f} MB)" if size is not None else ""
        return HTTPException(413, f"The request body is too large{said}: the limit is {self.max_mb:g} MB "
                                  "(NEWSRAG_MAX_REQUEST_MB).")
