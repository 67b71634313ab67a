"""Who may call the API: browser origins (CORS, deny by default), per-IP rate limits, and the admin rule for writes."""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import threading
import time
from collections import deque
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

API_PREFIXES = ("/api/", "/v1/")
TOO_MANY = "Too many questions: please wait a minute and try again."
ALLOW_HEADERS = "Content-Type, Accept, Authorization"


class ApiError(Exception):
    """An HTTP error with a message a user can act on; rendered as `{"error": message}`."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def same_origin(origin: str, headers: Headers) -> bool:
    """True when the browser's Origin is this server itself (the Gradio UI, the docs page)."""
    host = headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


class OriginPolicy:
    """Deny-by-default CORS for /api/ and /v1/ as plain ASGI middleware (so streamed responses get headers too).

    No Origin (curl, servers) or the server's own origin: passed through, no CORS headers. An allowed origin:
    answered preflights and CORS headers on every response. Any other origin: 403 `{"error": "origin not allowed"}`,
    so a widget pasted on a foreign site is refused by the API and not merely by the browser.
    """

    def __init__(self, app: ASGIApp, allowed: list[str]):
        self.app, self.allowed = app, {o.lower() for o in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        origin = origin.lower() if origin else None
        if origin is None or (origin not in self.allowed and same_origin(origin, headers)):
            await self.app(scope, receive, send)
            return
        if origin not in self.allowed:
            await _json(send, 403, {"error": "origin not allowed"}, {"vary": "Origin"})
            return
        cors = {"access-control-allow-origin": origin, "vary": "Origin",
                "access-control-expose-headers": "Retry-After"}
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await _json(send, 204, None, {**cors, "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
                                          "access-control-allow-headers": ALLOW_HEADERS,
                                          "access-control-max-age": "600"})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"vary"]
                raw += [(k.encode(), v.encode()) for k, v in cors.items()]
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _json(send: Send, status: int, body: object, headers: dict[str, str]) -> None:
    payload = b"" if body is None else json.dumps(body).encode()
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if payload:
        raw += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


class RateLimiter:
    """`limit` requests per client per rolling 60 s, in memory (one process)."""

    def __init__(self, limit: int, window: float = 60.0, message: str = TOO_MANY):
        self.limit, self.window, self.message = limit, window, message
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = max(1, math.ceil(hits[0] + self.window - now))
                raise ApiError(429, self.message, {"Retry-After": str(wait)})
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for idle in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[idle]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_admin(request: Request, settings: Settings) -> None:
    """Writes need the admin token when one is set; otherwise only a local, non-browser-cross-site client."""
    token = settings.admin_token
    if token:
        auth = request.headers.get("authorization", "")
        if not auth:
            raise ApiError(401, "This needs the admin token: send `Authorization: Bearer <NEWSRAG_ADMIN_TOKEN>`.",
                           {"WWW-Authenticate": "Bearer"})
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(403, "The admin token is wrong: send `Authorization: Bearer <NEWSRAG_ADMIN_TOKEN>`.")
        return
    origin = request.headers.get("origin")
    host = urlsplit(f"//{request.headers.get('host', '')}").hostname or ""
    local = is_loopback(client_ip(request)) and is_loopback(host)  # Host check: no DNS-rebinding tricks
    if not local or (origin is not None and not same_origin(origin, request.headers)):
        raise ApiError(403, "Adding or removing articles over the network needs an admin token: set "
                            "NEWSRAG_ADMIN_TOKEN on the server and send `Authorization: Bearer <token>`.")
