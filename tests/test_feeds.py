"""Feeds and URLs in: RSS 2.0, Atom and JSON Feed from a loopback server (never the internet), each item's page
fetched and extracted, the item's own content as the fallback, the guid as identity, conditional GETs, limits, and
a dead or slow feed reported while the others go in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine import Engine
from index.formats.feed import item_id, parse
from tests.feed_server import FeedServer, Route


def page(title: str, sentence: str, date: str | None = None) -> bytes:
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    body = "".join(f"<p>{sentence} This is paragraph {n} of the report, with the details officials gave.</p>"
                   for n in range(1, 7))
    return (f"<html><head><title>{title}</title>{meta}<script>var tracking = 1;</script></head><body>"
            f"<nav>Home | Sports | Weather</nav><article><h1>{title}</h1>{body}</article>"
            "<footer>Copyright</footer></body></html>").encode()


def rss(base: str, items: list[tuple[str, str, str, str]]) -> bytes:
    """items: (guid, path, title, description)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{base}{p}</link><guid isPermaLink=\"false\">{g}</guid>"
        f"<pubDate>Tue, 03 Mar 2026 10:00:00 GMT</pubDate><description>{d}</description></item>"
        for g, p, t, d in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback News</title><link>{base}/</link>'
            f"{entries}</channel></rss>").encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


def news_feed(server: FeedServer) -> None:
    base = server.url("")
    server.routes["/feed.xml"] = Route(rss(base, [
        ("urn:1", "/a/storm", "Storm hits the coast", "short summary of the storm"),
        ("urn:2", "/a/gone", "Council vote", "&lt;p&gt;The council voted 7 to 2 for the new budget.&lt;/p&gt;"),
        ("urn:3", "/a/empty", "Nothing here", ""),
    ]), content_type="application/rss+xml")
    server.routes["/a/storm"] = Route(page("Storm page title", "A storm hit the coast on Monday."))


def test_rss_atom_and_json_feed_parse() -> None:
    atom = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>'
            b'<link href="https://www.atom.example.org/"/><id>urn:x</id><updated>2026-03-04T00:00:00Z</updated>'
            b'<entry><title>Election</title><link href="https://atom.example.org/e/2"/><id>tag:atom,2026:2</id>'
            b'<updated>2026-03-04T09:00:00Z</updated><content type="html">&lt;p&gt;Votes counted.&lt;/p&gt;</content>'
            b"</entry></feed>")
    feed = parse(atom)
    assert feed.site == "atom.example.org" and feed.title == "Atom News"
    [item] = feed.items
    assert (item.identity, item.link, item.date) == ("tag:atom,2026:2", "https://atom.example.org/e/2", "2026-03-04")
    jf = {"version": "https://jsonfeed.org/version/1.1", "title": "JF", "home_page_url": "https://jf.example.net/",
          "items": [{"id": 9, "url": "https://jf.example.net/9", "title": "T", "content_text": "Hello\n\nworld",
                     "date_published": "2026-03-05T23:30:00+01:00"}]}
    [item] = parse(json.dumps(jf).encode()).items
    assert (item.identity, item.date) == ("9", "2026-03-05") and "<p>world</p>" in item.content_html
    [item] = parse(rss("https://r.example.com", [("g", "/x", "X", "d")])).items
    assert item.date == "2026-03-03" and item.link == "https://r.example.com/x"


def test_a_feed_url_becomes_one_article_per_item_from_its_page(engine: Engine, server: FeedServer) -> None:
    news_feed(server)
    report = engine.ingest_urls([server.url("/feed.xml")])
    site = "127.0.0.1"
    storm, vote = item_id(site, "urn:1"), item_id(site, "urn:2")
    assert sorted(report.added) == sorted([storm, vote])
    art = engine.article(storm)
    assert art.title == "Storm hits the coast"  # the feed's title wins over the page's
    assert art.date == "2026-03-03" and art.source == site and art.url == server.url("/a/storm")
    assert "A storm hit the coast on Monday." in art.text and "short summary" not in art.text
    assert "tracking" not in art.text and "Sports" not in art.text
    # the page is gone (404): the item's own content is the text, with a note saying so
    assert engine.article(vote).text == "The council voted 7 to 2 for the new budget."
    assert any(n.path == server.url("/a/gone") and "feed's own text" in n.reason for n in report.notes)
    [failed] = report.failed
    assert failed.path == server.url("/a/empty") and "no article text" in failed.reason
    assert all(h.get("User-Agent", "").startswith("newsrag/") for _, h in server.requests)


def test_rerun_adds_nothing_with_conditional_gets_and_a_changed_page_updates(engine: Engine,
                                                                              server: FeedServer) -> None:
    news_feed(server)
    url = server.url("/feed.xml")
    engine.ingest_urls([url])
    again = engine.ingest_urls([url])
    assert not again.added and not again.updated and server.hits("/a/storm") == 1
    assert "If-None-Match" in server.requests[-1][1]  # the feed answered 304: nothing else was fetched
    assert any("HTTP 304" in n.reason for n in again.notes)
    # the storm page changes and the feed gains an item: the page is updated, the new item added
    server.routes["/a/storm"] = Route(page("Storm page title", "The storm moved north on Tuesday."))
    server.routes["/feed.xml"] = Route(rss(server.url(""), [
        ("urn:1", "/a/storm", "Storm hits the coast", ""), ("urn:4", "/a/new", "Bridge reopens", "")]))
    server.routes["/a/new"] = Route(page("Bridge", "The bridge reopened after repairs."))
    third = engine.ingest_urls([url])
    storm = item_id("127.0.0.1", "urn:1")
    assert third.updated == [storm] and third.added == [item_id("127.0.0.1", "urn:4")]
    assert "moved north" in engine.article(storm).text
    storm_gets = [h for p, h in server.requests if p == "/a/storm"]
    assert "If-None-Match" in storm_gets[-1]
    fourth = engine.ingest_urls([url])  # the new feed is 304 now; nothing changes
    assert not fourth.added and not fourth.updated


def test_a_dead_or_slow_feed_is_reported_and_the_others_go_in(tmp_path: Path, server: FeedServer) -> None:
    from app.engine import build_engine
    from tests.conftest import make_settings

    engine = build_engine(make_settings(tmp_path / "data", fetch_timeout=1.0, max_file_mb=0.02))
    news_feed(server)
    server.routes["/broken.xml"] = Route(b"oops", status=500)
    server.routes["/slow.xml"] = Route(rss(server.url(""), []), delay_s=3)
    server.routes["/drip.xml"] = Route(b"<rss>" + b" " * 8000, drip_s=0.3)
    server.routes["/huge.xml"] = Route(b"<rss>" + b" " * 30_000)
    server.routes["/loop"] = Route(status=302, location="/loop")
    server.routes["/hop"] = Route(status=301, location="/feed.xml")
    urls = [server.url(p) for p in ("/broken.xml", "/slow.xml", "/drip.xml", "/huge.xml", "/loop", "/missing")]
    report = engine.ingest_urls([*urls, "http://127.0.0.1:9/refused.xml", server.url("/hop")])
    reasons = {f.path: f.reason for f in report.failed}
    assert reasons[urls[0]].startswith("HTTP 500")
    assert "timed out" in reasons[urls[1]]
    assert "too slow" in reasons[urls[2]]
    assert "too large" in reasons[urls[3]]
    assert "redirects" in reasons[urls[4]]
    assert reasons[urls[5]].startswith("HTTP 404")
    assert "cannot fetch" in reasons["http://127.0.0.1:9/refused.xml"]
    assert item_id("127.0.0.1", "urn:1") in report.added  # the good feed, reached through one redirect
    assert report.ok


def test_an_article_page_url(engine: Engine, server: FeedServer) -> None:
    server.routes["/story"] = Route(page("Bridge reopens", "The river bridge reopened.", date="2026-02-01"))
    url = server.url("/story")
    report = engine.ingest_urls([url])
    [aid] = report.added
    art = engine.article(aid)
    assert (art.title, art.date, art.url, art.source) == ("Bridge reopens", "2026-02-01", url, "127.0.0.1")
    assert not engine.ingest_urls([url]).added and server.hits("/story") == 2  # the second one a 304


def test_feed_files_are_read_offline_from_item_content(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "news.rss").write_bytes(rss("https://news.example.com", [
        ("g1", "/1", "Storm", "&lt;p&gt;A storm hit.&lt;/p&gt;&lt;p&gt;Roads closed.&lt;/p&gt;"),
        ("g2", "/2", "Empty", "")]))
    (folder / "feed.json").write_text(json.dumps({
        "version": "https://jsonfeed.org/version/1", "title": "J", "home_page_url": "https://j.example.org",
        "items": [{"id": "x", "url": "https://j.example.org/x", "title": "Vote", "content_text": "Votes counted."}]}))
    report = engine.ingest([folder])
    assert sorted(report.added) == sorted([item_id("news.example.com", "g1"), item_id("j.example.org", "x")])
    assert engine.article(item_id("news.example.com", "g1")).text == "A storm hit.\n\nRoads closed."
    assert [f.path for f in report.failed] == [f"{folder / 'news.rss'}[1]"]
