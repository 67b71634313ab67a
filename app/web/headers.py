"""Security headers on every response of `newsrag serve`: a Content-Security-Policy, nosniff, a Referrer-Policy and
no framing, as plain ASGI middleware (so streamed responses and the mounted Gradio UI get them too).

HTML pages (the Gradio UI at `/`, the API docs at `/docs`) get PAGE_CSP: everything from this server only, no
plugins, no framing by other sites. Gradio needs inline scripts and styles (its own and ours, app/web/ui/assets.py), and
its HTML component compiles templates with `new Function`, hence 'unsafe-inline' and 'unsafe-eval' (without the
latter they fail with an EvalError); what stops injected markup is the escaping, tested in the browser.
Everything else (the API's JSON and event streams, /widget.js, assets) gets NONE_CSP, which would render nothing
if a response were ever opened as a page. Referrer-Policy: a page only tells the article sites it links to its
origin, never its path or query.

`X-Newsrag-Worker` names the process (its pid) that answered: with `newsrag serve --workers N` or several servers
behind a load balancer it tells which one to look at in the logs. A pid says nothing an attacker can use.
"""

from __future__ import annotations

import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
            "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
NONE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "strict-origin-when-cross-origin",
          "x-frame-options": "DENY"}
WORKER_HEADER = b"x-newsrag-worker"


def security_headers(content_type: str) -> dict[str, str]:
    """The headers for a response of this content type (HTML pages get the policy Gradio and Swagger UI work with)."""
    html = content_type.split(";")[0].strip().lower() == "text/html"
    return {"content-security-policy": PAGE_CSP if html else NONE_CSP, **COMMON}


def add_security_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`raw` (ASGI header pairs) plus each security header the response does not set itself."""
    present = {k.lower() for k, _ in raw}
    content_type = next((v.decode("latin-1") for k, v in raw if k.lower() == b"content-type"), "")
    extra = [(k.encode(), v.encode()) for k, v in security_headers(content_type).items() if k.encode() not in present]
    return [*raw, *extra, (WORKER_HEADER, str(os.getpid()).encode())]


class SecurityHeaders:
    """Adds `security_headers` (and the worker pid) to every HTTP response that passes through it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": add_security_headers(list(message.get("headers", [])))}
            await send(message)

        await self.app(scope, receive, send_with_headers)
