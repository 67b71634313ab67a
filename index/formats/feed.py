"""News feeds: RSS 2.0, Atom and JSON Feed, as files (.rss .atom .xml; a .json file that is a JSON Feed) or fetched
from a URL (index/remote/urls.py, which also fetches each item's page).

RSS and Atom go through feedparser (well kept, tolerant of the malformed XML real feeds serve; it never fetches
anything itself). JSON Feed (jsonfeed.org, versions 1 and 1.1) is plain JSON and is read here. An item's identity
is its guid / id, else its link, and its article id is derived from it (`item_id`): the same item in the next poll
is the same article, so re-reading a feed adds nothing new and a changed item updates its article.

A feed file is read offline: each item's own content (or summary) is its text. Only a feed fetched from a URL has
its items' pages fetched.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from index.fields import CONTROL, http_url, iso_date, lenient
from index.formats.base import LoadError, article
from index.types import Article, Failure

JSON_FEED = "https://jsonfeed.org/version/"


class NotAFeed(LoadError):
    """The bytes are not a feed; the message says what they looked like."""


@dataclass(frozen=True)
class FeedItem:
    identity: str
    link: str | None
    title: str
    date: str | None  # YYYY-MM-DD
    content_html: str  # the item's own content (or summary): the text when its page has none


@dataclass(frozen=True)
class Feed:
    title: str
    site: str | None  # the host of the feed's site ("example.com"): its articles' source
    items: list[FeedItem]


def host(url: str | None) -> str | None:
    try:
        name = urlsplit(url or "").hostname
    except ValueError:
        return None
    return name.removeprefix("www.") if name else None


def item_id(site: str | None, identity: str) -> str:
    """A stable article id for a feed item or a page: its site, then a short hash of its guid or URL."""
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9.-]+', '-', site or 'feed').strip('.-')[:80] or 'feed'}-{digest}"


def is_json_feed(data: object) -> bool:
    return isinstance(data, dict) and str(data.get("version", "")).startswith(JSON_FEED)


def parse(raw: bytes | str, base_url: str | None = None) -> Feed:
    """The feed in `raw`; NotAFeed when it is none of RSS, Atom or JSON Feed."""
    head = raw[:2048].lstrip()
    if head[:1] in (b"{", "{"):
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise NotAFeed("JSON that does not parse") from None
        if not is_json_feed(data):
            raise NotAFeed("JSON, but not a JSON Feed (no jsonfeed.org version)")
        return _json_feed(data, base_url)
    import feedparser  # ~0.1 s: only when a feed is read

    parsed = feedparser.parse(raw, response_headers={"content-location": base_url} if base_url else None)
    if not parsed.get("version") or not (parsed.entries or parsed.feed.get("title")):
        raise NotAFeed("not RSS, Atom or JSON Feed")
    meta = parsed.feed
    site = host(meta.get("link")) or host(base_url)
    items = []
    for entry in parsed.entries:
        link = lenient(http_url, entry.get("link"))
        identity = entry.get("id") or link
        if not identity:
            continue
        content = entry.get("content") or []
        body = content[0].get("value", "") if content else entry.get("summary", "")
        items.append(FeedItem(str(identity), link, _clean(entry.get("title")),
                              _day(entry.get("published_parsed") or entry.get("updated_parsed")), body))
    return Feed(_clean(meta.get("title")) or site or "feed", site, items)


def _json_feed(data: dict, base_url: str | None) -> Feed:
    site = host(data.get("home_page_url")) or host(data.get("feed_url")) or host(base_url)
    items = []
    for raw in data.get("items") or []:
        if not isinstance(raw, dict):
            continue
        link = lenient(http_url, raw.get("url")) or lenient(http_url, raw.get("external_url"))
        identity = raw.get("id") or link
        if not identity or not isinstance(identity, str | int):
            continue
        text = raw.get("content_text") or raw.get("summary") or ""
        body = raw.get("content_html") or "".join(f"<p>{html.escape(p)}</p>" for p in str(text).split("\n\n"))
        items.append(FeedItem(str(identity), link, _clean(raw.get("title")),
                              lenient(iso_date, raw.get("date_published") or raw.get("date_modified")), str(body)))
    return Feed(_clean(data.get("title")) or site or "feed", site, items)


def _clean(value: object) -> str:
    return CONTROL.sub("", value).strip() if isinstance(value, str) else ""


def _day(value: time.struct_time | None) -> str | None:
    try:
        return date(value.tm_year, value.tm_mon, value.tm_mday).isoformat() if value else None
    except ValueError:
        return None


def html_text(fragment: str) -> str:
    """The text of an item's content HTML: paragraphs (and line breaks) kept, tags and scripts dropped."""
    if "<" not in fragment:
        return CONTROL.sub("", html.unescape(fragment)).strip()
    import lxml.html  # (trafilatura's dependency, ~0.05 s): only for a feed item's HTML

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return ""
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for block in root.xpath("//p|//br|//div|//li|//h1|//h2|//h3|//h4|//blockquote"):
        block.tail = "\n\n" + (block.tail or "")
    text = re.sub(r"[ \t\xa0]+", " ", root.text_content())
    return CONTROL.sub("", re.sub(r"\s*\n\s*\n\s*", "\n\n", text)).strip()


def item_article(item: FeedItem, feed: Feed, text: str, title: str | None = None, page_date: str | None = None,
                 origin: str | None = None) -> Article:
    """The article of a feed item: the feed's title and date win (the page's when the feed has none)."""
    return article(id=item_id(feed.site, item.identity), title=item.title or title or item.link or item.identity,
                   text=text, date=item.date or page_date, url=item.link, source=feed.site,
                   path=origin or item.link or item.identity)


def read(text: str, path: Path, stem: str, origin: str) -> Iterator[Article | Failure]:
    """A feed file: one article per item, its text the item's own content (no network)."""
    feed = parse(text)
    if not feed.items:
        raise LoadError("a feed with no items")
    for i, item in enumerate(feed.items):
        body = html_text(item.content_html)
        if not body:
            yield Failure(f"{path}[{i}]", f"item {item.link or item.identity!r} has no content in the feed "
                                          "(ingest the feed's URL to fetch its pages)")
            continue
        yield item_article(item, feed, body).model_copy(update={"path": origin, "record": f"[{i}]"})
