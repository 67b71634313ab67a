"""Fetch a feed or a page over HTTP(S), politely and within bounds.

One GET per URL with: a User-Agent that names newsrag, conditional headers (If-None-Match / If-Modified-Since) from
the last fetch so an unchanged feed costs a 304 and no parsing, a connect/read timeout plus an overall deadline (a
server that drips one byte a second does not hold the batch), a size limit enforced while streaming (the body is
never read past it), at most a few redirects, and http/https only. Every failure is a FetchError with a one-line
reason; the caller reports it and goes on with the other URLs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

USER_AGENT = "newsrag/0.1 (+https://github.com/newsrag; a question-answering index of news you chose to follow)"
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
          "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5")


class FetchError(Exception):
    """A URL that could not be fetched; the message says why in one line."""


@dataclass(frozen=True)
class Validators:
    """What the server said identifies this version (sent back next time as conditional headers)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when the server says nothing changed
    body: bytes
    content_type: str
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class FetchLimits:
    timeout_s: float = 10.0  # connect and each read
    deadline_s: float = 30.0  # the whole response
    max_bytes: int = 10_000_000
    max_redirects: int = 5


def is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")


class Fetcher:
    """One httpx client for a batch (connection reuse); close it when done (a context manager)."""

    def __init__(self, limits: FetchLimits | None = None):
        self.limits = limits or FetchLimits()
        self.client = httpx.Client(follow_redirects=True, max_redirects=self.limits.max_redirects,
                                   timeout=httpx.Timeout(self.limits.timeout_s),
                                   headers={"User-Agent": USER_AGENT, "Accept": ACCEPT}, trust_env=False)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, url: str, known: Validators | None = None) -> Fetched:
        if not is_url(url):
            raise FetchError(f"not an http(s) URL: {url}")
        headers = {}
        if known and known.etag:
            headers["If-None-Match"] = known.etag
        if known and known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        started = time.monotonic()
        try:
            with self.client.stream("GET", url, headers=headers) as resp:
                if resp.status_code == 304:
                    return Fetched(str(resp.url), 304, b"", "", known or Validators())
                if resp.status_code >= 400:
                    raise FetchError(f"HTTP {resp.status_code} {resp.reason_phrase}".strip())
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
                    raise FetchError(f"too large ({int(declared) / 1e6:.1f} MB > {self.limits.max_bytes / 1e6:g} MB)")
                body = bytearray()
                for part in resp.iter_bytes():
                    body += part
                    if len(body) > self.limits.max_bytes:
                        raise FetchError(f"too large (over {self.limits.max_bytes / 1e6:g} MB)")
                    if time.monotonic() - started > self.limits.deadline_s:
                        raise FetchError(f"too slow (no complete response in {self.limits.deadline_s:g} s)")
                return Fetched(str(resp.url), resp.status_code, bytes(body),
                               resp.headers.get("Content-Type", ""),
                               Validators(resp.headers.get("ETag"), resp.headers.get("Last-Modified")))
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {self.limits.max_redirects} redirects") from None
        except httpx.TimeoutException:
            raise FetchError(f"timed out (no answer in {self.limits.timeout_s:g} s)") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch: {exc.__class__.__name__}: {exc}".rstrip(": ")) from None
