"""URLs in: a feed URL becomes one article per item, a page URL one article.

For a feed, each item's linked page is fetched and its main text extracted with trafilatura (as for an .html file);
when the page cannot be fetched or has no text, the item's own content is used, with a note saying so. The feed
gives the title and date (the page's when the feed has none), the item's link is the url, the feed's site the
source, and the item's guid the identity (index/formats/feed.py:item_id): re-reading a feed adds nothing new and a
changed page updates its article.

Everything is fetched before the ingest takes the index's write lock, so a slow site never holds up other writers.
Each URL's validators (ETag, Last-Modified) are kept in the manifest (`fetches`) and sent back next time: an
unchanged feed or page costs a 304. They are saved only after the articles they produced are committed (`commit`),
so a failed or interrupted ingest fetches everything again rather than trusting a 304 for something never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from index.formats.base import LoadError
from index.formats.feed import Feed, FeedItem, NotAFeed, host, html_text, item_article, item_id, parse
from index.formats.html import extract
from index.manifest import Manifest
from index.remote.fetch import Fetched, Fetcher, FetchError, Validators
from index.types import Article, Failure


@dataclass
class Pending:
    """Validators to save once the articles fetched with them are committed."""

    url: str
    kind: str  # "feed" or "page"
    validators: Validators
    article_ids: list[str]  # a page's one article; a feed's items
    title: str | None = None


@dataclass
class Gathered:
    items: list[Article | Failure] = field(default_factory=list)
    notes: list[Failure] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # article ids whose page answered 304
    pending: list[Pending] = field(default_factory=list)


class Gatherer:
    """Fetches what a list of URLs holds now, with the validators the manifest kept from last time."""

    def __init__(self, manifest: Manifest, fetcher: Fetcher, log: Callable[[str], None] | None = None):
        self.manifest, self.fetcher, self.log = manifest, fetcher, log or (lambda _: None)

    def gather(self, urls: list[str]) -> Gathered:
        out = Gathered()
        for url in urls:
            try:
                fetched = self._get(url)
            except FetchError as exc:
                out.items.append(Failure(url, str(exc)))
                continue
            if fetched.not_modified:
                state = self.manifest.fetch_state(url)
                out.notes.append(Failure(url, "unchanged since the last fetch (HTTP 304)"))
                if state and state["kind"] == "page" and state["article_id"]:
                    out.unchanged.append(state["article_id"])
                continue
            try:
                feed = parse(fetched.body, fetched.url)
            except NotAFeed:
                self._page(url, fetched, out)
                continue
            self._feed(url, feed, fetched, out)
        return out

    def _get(self, url: str) -> Fetched:
        """A conditional GET when we kept validators for `url` and still have what it produced."""
        state = self.manifest.fetch_state(url)
        known = None
        if state and (state["kind"] == "feed" or self.manifest.article(state["article_id"] or "") is not None):
            known = Validators(state["etag"], state["last_modified"])
        self.log(f"fetching {url}")
        return self.fetcher.get(url, known)

    def _page(self, url: str, fetched: Fetched, out: Gathered) -> None:
        article_id = item_id(host(url), url)
        try:
            page = extract(fetched.body, article_id, url)
        except LoadError as exc:
            out.items.append(Failure(url, f"not a feed, and {exc}"))
            return
        art = page.model_copy(update={"id": article_id, "url": page.url or url, "source": host(url),
                                      "path": url})
        out.items.append(art)
        out.pending.append(Pending(url, "page", fetched.validators, [article_id], art.title))

    def _feed(self, url: str, feed: Feed, fetched: Fetched, out: Gathered) -> None:
        ids = []
        for item in feed.items:
            article_id = item_id(feed.site, item.identity)
            ids.append(article_id)
            got = self._item(item, feed, article_id, out)
            if isinstance(got, Article | Failure):
                out.items.append(got)
        out.pending.append(Pending(url, "feed", fetched.validators, ids, feed.title))

    def _item(self, item: FeedItem, feed: Feed, article_id: str, out: Gathered) -> Article | Failure | None:
        """The item's article from its page, else from its own content; None when its page answered 304."""
        problem = "the item has no link"
        if item.link:
            try:
                fetched = self._get(item.link)
                if fetched.not_modified:
                    out.unchanged.append(article_id)
                    return None
                page = extract(fetched.body, article_id, item.link)
                out.pending.append(Pending(item.link, "page", fetched.validators, [article_id]))
                return item_article(item, feed, page.text, page.title, page.date)
            except (FetchError, LoadError) as exc:
                problem = f"its page: {exc}"
        body = html_text(item.content_html)
        where = item.link or item.identity
        if not body:
            return Failure(where, f"no article text ({problem}; the feed item has no content either)")
        out.notes.append(Failure(where, f"used the feed's own text ({problem})"))
        return item_article(item, feed, body)


def commit(manifest: Manifest, pending: list[Pending], accepted: set[str]) -> None:
    """Keep the validators of each page whose article made it into the index, and of each feed (its items that
    failed were reported; they are tried again when the feed changes)."""
    for p in pending:
        if p.kind == "feed" or all(a in accepted for a in p.article_ids):
            manifest.save_fetch(p.url, p.kind, p.validators.etag, p.validators.last_modified, p.title,
                                p.article_ids[0] if p.kind == "page" and p.article_ids else None)
