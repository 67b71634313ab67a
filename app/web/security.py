"""Who may call the API: browser origins (CORS, deny by default), per-IP rate limits, and the admin rule for writes."""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ConfigError
from app.settings import Settings
from app.web.errors import error_body

API_PREFIXES = ("/api/", "/v1/")
TOO_MANY = "Too many questions: please wait a minute and try again."
ORIGIN_REFUSED = "origin not allowed"
ALLOW_HEADERS = "Content-Type, Accept, Authorization"
TOKEN_COOKIE = "newsrag_admin_token"  # set by the web UI's admin-token field (app/web/ui/access.py), SameSite=Strict


class ApiError(Exception):
    """An HTTP error with a message a user can act on; rendered by app/web/errors.py (`param`: the request field at
    fault, which OpenAI-shaped errors name)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.headers, self.param = status, message, headers or {}, param


def same_origin(origin: str, headers: Mapping[str, str]) -> bool:
    """True when the browser's Origin is this server itself (the Gradio UI, the docs page)."""
    host = headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


class OriginPolicy:
    """Deny-by-default CORS for /api/ and /v1/ as plain ASGI middleware (so streamed responses get headers too).

    No Origin (curl, servers) or the server's own origin: passed through, no CORS headers. An allowed origin:
    answered preflights and CORS headers on every response. Any other origin: 403 `{"error": "origin not allowed"}`
    (OpenAI-shaped under /v1/),
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
            await send_json(send, 403, error_body(scope["path"], 403, ORIGIN_REFUSED), {"vary": "Origin"})
            return
        cors = {"access-control-allow-origin": origin, "vary": "Origin",
                "access-control-expose-headers": "Retry-After"}
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await send_json(send, 204, None, {**cors, "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
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


async def send_json(send: Send, status: int, body: object, headers: dict[str, str]) -> None:
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


class Caller(Protocol):
    """What the admin rule and the rate limits read from a request: both a Starlette/FastAPI `Request` and the
    `gr.Request` Gradio hands an event handler have these. `client` is the address uvicorn resolved (the peer, or
    the X-Forwarded-For client when the peer is one of NEWSRAG_TRUSTED_PROXIES), so every face and every check
    sees the same client."""

    @property
    def headers(self) -> Any: ...

    @property
    def client(self) -> Any: ...


def client_ip(request: Caller) -> str:
    return getattr(request.client, "host", None) or "unknown"


def header_map(request: Caller) -> dict[str, str]:
    """The headers as a plain dict with lower-case names (Gradio may hand them over as a dict-like of its own)."""
    return {str(k).lower(): str(v) for k, v in dict(request.headers or {}).items()}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def trusted_proxies(settings: Settings) -> list[str]:
    """NEWSRAG_TRUSTED_PROXIES as a list of IPs/CIDRs, each checked (a typo must not silently trust nobody)."""
    items = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(f"NEWSRAG_TRUSTED_PROXIES: {item!r} is not an IP address or a CIDR range "
                              "(e.g. 127.0.0.1,10.0.0.0/8).") from None
    return items


def is_trusted_proxy(host: str, settings: Settings) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(p, strict=False) for p in trusted_proxies(settings))


def require_admin(request: Caller, settings: Settings) -> None:
    """The one rule for every write (the API's uploads and deletes, the UI's Add and Remove, Gradio's upload route).

    With NEWSRAG_ADMIN_TOKEN set: `Authorization: Bearer <token>`, or the token cookie the web UI's token field
    sets (SameSite=Strict, and accepted only without a cross-site Origin). Without a token: only a client on this
    machine (loopback address, loopback Host: no DNS-rebinding tricks, no cross-site Origin); a named trusted
    proxy is never "this machine", since it speaks for its clients."""
    headers = header_map(request)
    origin = headers.get("origin")
    cross_site = origin is not None and not same_origin(origin, headers)
    token = settings.admin_token
    if token:
        auth = headers.get("authorization", "")
        cookie = cookie_parser(headers.get("cookie", "")).get(TOKEN_COOKIE)
        if not auth and not cookie:
            raise ApiError(401, "This needs the admin token: send `Authorization: Bearer <NEWSRAG_ADMIN_TOKEN>`.",
                           {"WWW-Authenticate": "Bearer"})
        scheme, _, given = auth.partition(" ") if auth else ("bearer", "", unquote(cookie or ""))
        if (scheme.lower() != "bearer" or (not auth and cross_site)
                or not hmac.compare_digest(given.strip().encode(), token.encode())):
            raise ApiError(403, "The admin token is wrong: send `Authorization: Bearer <NEWSRAG_ADMIN_TOKEN>`.")
        return
    ip = client_ip(request)
    host = urlsplit(f"//{headers.get('host', '')}").hostname or ""
    local = is_loopback(ip) and not is_trusted_proxy(ip, settings) and is_loopback(host)
    if not local or cross_site:
        raise ApiError(403, "Adding or removing articles over the network needs an admin token: set "
                            "NEWSRAG_ADMIN_TOKEN on the server and send `Authorization: Bearer <token>`.")
