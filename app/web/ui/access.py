"""Who may do what in the web UI: the HTTP API's rules, applied inside each Gradio event handler.

Gradio makes every event handler an endpoint of its own (`/gradio_api/queue/join` with its fn_index,
`/gradio_api/call/<name>`, gradio_client), whatever the page shows and whatever `api_visibility` says, so the checks
live in the handlers, not in the page. Writes to the index (Add, Remove) pass app/web/security.py:require_admin, the
rule `/api/articles` uses. Answers (the chat, the Evaluate tab's Ask) pass the very RateLimiter `/api/ask` and `/v1`
use, so a client's budget is shared by every face; thumbs and human ratings are feedback, not writes to the index,
and pass the `/api/feedback` limiter. Gradio's upload routes take files before any handler runs: `UploadGuard`
applies the write rule there (only the Articles tab uploads).

A browser gets write access either from the server's own machine (no token set) or by entering the token in the
Articles tab: `TOKEN_COOKIE_JS` keeps it in a SameSite=Strict session cookie, which require_admin accepts (so the
file upload, which the page cannot add a header to, carries it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import NewsragError
from app.settings import Settings
from app.web.errors import error_body
from app.web.security import TOKEN_COOKIE, ApiError, Caller, RateLimiter, client_ip, require_admin, send_json
from app.web.startup import STARTING, Startup

UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/process_recording")
NEED_TOKEN = ("**Read-only:** adding or removing articles needs the admin token. Enter the server's "
              "`NEWSRAG_ADMIN_TOKEN` below and press Unlock.")
WRONG_TOKEN = ("**Read-only:** that admin token is wrong. Enter the server's `NEWSRAG_ADMIN_TOKEN` below and press "
               "Unlock.")
LOCAL_ONLY = ("**Read-only:** articles can be added or removed only from the server's own machine (open this page "
              "there, at 127.0.0.1), or set `NEWSRAG_ADMIN_TOKEN` on the server and enter it on this tab.")
# Runs in the browser before the Unlock handler: the token rides in a cookie from then on (cleared with the session).
TOKEN_COOKIE_JS = f"""(token) => {{
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = '{TOKEN_COOKIE}=' + encodeURIComponent((token || '').trim()) + '; path=/; SameSite=Strict' + secure;
  return token;
}}"""


class Refused(NewsragError):
    status = 403


class Starting(NewsragError):
    status = 503


@dataclass
class UIAccess:
    settings: Settings
    asks: RateLimiter
    feedback: RateLimiter
    startup: Startup | None = None

    @classmethod
    def standalone(cls, settings: Settings) -> UIAccess:
        """For a UI served on its own (`demo.launch()`), with limiters of its own."""
        per_minute = settings.rate_limit_per_minute
        return cls(settings, RateLimiter(per_minute),
                   RateLimiter(per_minute, message="Too much feedback: please wait a minute and try again."))

    def ask(self, request: Caller | None) -> None:
        """Before an answer: the server has started and the client is within its questions per minute."""
        self._started()
        self._limit(self.asks, request)

    def rate(self, request: Caller | None) -> None:
        self._limit(self.feedback, request)

    def write(self, request: Caller | None) -> None:
        """Before adding or removing articles: the same rule as `/api/articles`."""
        self._started()
        reason = self.read_only_reason(request)
        if reason:
            raise Refused(reason.replace("**", "").replace("`", ""))

    def read_only_reason(self, request: Caller | None) -> str | None:
        """None when this request may write; else the one line the Articles tab shows instead of its controls."""
        if request is None:  # a handler called without Gradio's request: nothing to vouch for the caller
            return LOCAL_ONLY if not self.settings.admin_token else NEED_TOKEN
        try:
            require_admin(request, self.settings)
        except ApiError as exc:
            if not self.settings.admin_token:
                return LOCAL_ONLY
            return WRONG_TOKEN if exc.status == 403 else NEED_TOKEN
        return None

    def articles_view(self, request: Caller | None) -> tuple[Any, ...]:
        """Updates for (note, token row, upload controls, remove controls): writable, or read-only with why."""
        import gradio as gr  # gradio takes seconds to import: only the process that serves the UI pays for it

        reason = self.read_only_reason(request)
        writable = reason is None
        return (gr.update(value=reason or "", visible=not writable),
                gr.update(visible=not writable and bool(self.settings.admin_token)),
                gr.update(visible=writable), gr.update(visible=writable))

    def _started(self) -> None:
        if self.startup is not None and not self.startup.done:
            raise Starting(STARTING)

    @staticmethod
    def _limit(limiter: RateLimiter, request: Caller | None) -> None:
        try:
            limiter.check(client_ip(request) if request is not None else "unknown")
        except ApiError as exc:  # the API's 429 message, word for word
            raise Refused(exc.message) from None


class UploadGuard:
    """Gradio's upload routes, for clients that may write only: they write the files to Gradio's temp folder before
    any event handler (and so any check of ours) runs. The size limit is Gradio's `max_file_size`
    (NEWSRAG_MAX_FILE_MB, set in app/web/server.py)."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") in UPLOAD_PATHS:
            try:
                require_admin(Request(scope), self.settings)
            except ApiError as exc:
                await send_json(send, exc.status, error_body(scope["path"], exc.status, exc.message), exc.headers)
                return
        await self.app(scope, receive, send)
