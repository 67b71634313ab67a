"""HTML pages: the main text and metadata extracted with trafilatura (no scripts, navigation or footers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from index.fields import http_url, iso_date, lenient, text_field
from index.formats.base import LoadError, article
from index.types import Article, Failure


def read(text: str, path: Path, stem: str, origin: str) -> Iterator[Article | Failure]:
    yield extract(text, stem, origin)


def extract(html: str | bytes, stem: str, origin: str) -> Article:
    """The article in a page (bytes: trafilatura finds the encoding from the page itself); LoadError if none."""
    import trafilatura  # ~0.5 s to import: only when an HTML page is read

    extracted = trafilatura.extract(html, output_format="json", with_metadata=True, include_comments=False,
                                    include_tables=False, favor_precision=True)
    if not extracted:
        raise LoadError("no article text found in the HTML page")
    meta = json.loads(extracted)
    text = (meta.get("text") or "").strip()
    if not text:
        raise LoadError("no article text found in the HTML page")
    return article(id=stem, title=lenient(lambda v: text_field(v, "title"), meta.get("title")) or stem, text=text,
                    date=lenient(iso_date, meta.get("date")),
                    url=lenient(http_url, meta.get("source")) or lenient(http_url, meta.get("url")),
                    source=lenient(lambda v: text_field(v, "source"), meta.get("hostname")), path=origin)


