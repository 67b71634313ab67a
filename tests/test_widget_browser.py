"""The embeddable widget in a real browser (Debian chromium via Playwright) against the real server.

The newsrag server (build_server: API + UI, uvicorn in a thread) and two host pages on other loopback ports: one
origin listed in NEWSRAG_WIDGET_ORIGINS, one not. The host page carries hostile CSS to prove the Shadow DOM holds.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.datastructures import Headers

from tests.browser import ARGS, ARTEFACTS, CHROMIUM, KERRY
from tests.conftest import SAMPLE_DIR, make_settings
from tests.live_server import bound_socket, static_server, uvicorn_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_ARTICLE = (f'Minutes <img src=y onerror="window.__pwned=2">\n\nThe clerk pasted {IMG} into the council minutes '
                   f"on Tuesday, the mayor said. A second line read {SCRIPT} according to the clerk.\n")
HOST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>A news site</title>
<style>* { color: red !important; display: block !important; font-family: "Comic Sans MS", cursive !important;
  text-transform: uppercase !important; } button { display: none !important; } div { opacity: .2 !important; }
</style></head><body><h1>Local news</h1><p>An article page that embeds the newsrag widget.</p>
<div id="ask"></div>
<script src="{api}/widget.js" data-title="Ask our archive" {mode} async></script></body></html>"""
COUNT_ANSWERS = ("window.__answers = []; "
                 "document.addEventListener('newsrag:answer', e => window.__answers.push(e.detail));")


class Recorder:
    """Pass-through ASGI middleware noting each response the API gave: (method, path, origin, status, cors)."""

    def __init__(self, app: Any):
        self.app, self.seen = app, []  # type: ignore[var-annotated]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        origin = Headers(scope=scope).get("origin")

        async def spy(message: Any) -> None:
            if message["type"] == "http.response.start":
                cors = "access-control-allow-origin" in Headers(raw=message["headers"])
                self.seen.append((scope["method"], scope["path"], origin, message["status"], cors))
            await send(message)

        await self.app(scope, receive, spy)


@dataclass
class Site:
    api: str
    allowed: str
    foreign: str
    recorder: Recorder
    browser: Any
    timings: dict[str, Any] = field(default_factory=dict)


def _require_chromium() -> None:
    try:
        import playwright.sync_api  # noqa: F401
        missing = None if CHROMIUM.exists() else f"{CHROMIUM} is missing (apt-get install chromium)"
    except ImportError:
        missing = "playwright is not installed (bash setup.sh --dev)"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    from app.engine import build_engine
    from app.web.server import build_server

    tmp = tmp_path_factory.mktemp("widget")
    (tmp / "hostile.txt").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    api_sock, allowed_sock, foreign_sock = bound_socket(), bound_socket(), bound_socket()
    api, allowed, foreign = (f"http://127.0.0.1:{s.getsockname()[1]}" for s in (api_sock, allowed_sock, foreign_sock))
    settings = make_settings(tmp / "data", widget_origins=allowed)
    engine = build_engine(settings)
    assert len(engine.ingest([SAMPLE_DIR, tmp / "hostile.txt"]).added) == 2
    pages = tmp / "pages"
    pages.mkdir()
    for name, mode in [("index.html", ""), ("inline.html", 'data-mode="inline" data-target="#ask"')]:
        (pages / name).write_text(HOST_PAGE.replace("{api}", api).replace("{mode}", mode), encoding="utf-8")
    recorder = Recorder(build_server(settings, engine))
    with uvicorn_server(recorder, api_sock), static_server(pages, allowed_sock), \
            static_server(pages, foreign_sock), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        s = Site(api, allowed, foreign, recorder, browser)
        yield s
        browser.close()
        ARTEFACTS.mkdir(exist_ok=True)
        (ARTEFACTS / "widget-timings.json").write_text(json.dumps(s.timings, indent=2))


def _open_and_ask(page: Any, question: str) -> float:
    """Open the widget if it is closed, send a question; returns ms from the click to the first visible text."""
    if page.locator(".nr .panel").is_hidden():
        page.locator(".launcher").click()
    page.locator(".nr input").fill(question)
    t0 = time.perf_counter()
    page.locator(".nr button.send").click()
    page.wait_for_function("""() => { const root = document.querySelector('[data-newsrag-widget]').shadowRoot;
        const bots = root.querySelectorAll('.msg.bot .text'); const last = bots[bots.length - 1];
        return last && last.textContent.length > 0; }""", polling="raf")
    return (time.perf_counter() - t0) * 1000


def _last_answer(page: Any) -> Any:
    bot = page.locator(".msg.bot").last
    bot.locator(".rate").wait_for()  # present once the final answer is rendered
    return bot


def test_ask_cite_reload(site: Site) -> None:
    assert httpx.get(site.api + "/").headers["content-type"].startswith("text/html")  # the UI (or its placeholder)
    context = site.browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.add_init_script(COUNT_ANSWERS)
    page.goto(site.allowed + "/index.html")
    observed = _open_and_ask(page, KERRY)
    bot = _last_answer(page)
    site.timings["hash_ttft_ms"] = {"observed_by_playwright": round(observed, 1),
                                    "widget_send_to_first_token": int(bot.get_attribute("data-ttft-ms"))}
    text = bot.locator(".text")
    assert "Kerry" in text.inner_text() and "cannot be defeated" in text.inner_text()
    bot.locator(".cite").first.click()
    quote = bot.locator(".quote")
    assert "cannot be defeated as long as Bashar al-Assad" in quote.inner_text()
    assert "Claims Russian airstrikes in Syria not targeting IS" in quote.locator(".src").inner_text()
    style = text.evaluate("e => { const s = getComputedStyle(e); return [s.color, s.textTransform]; }")
    assert style == ["rgb(27, 27, 27)", "none"], "the host page's CSS leaked into the widget"
    assert page.evaluate("window.__answers") == [{"question": KERRY, "refused": False, "citations": 1}]
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "widget.png"))
    page.set_viewport_size({"width": 375, "height": 700})  # a phone: the panel takes the screen
    assert page.locator(".nr .panel").bounding_box()["width"] == 375
    page.screenshot(path=str(ARTEFACTS / "widget-phone.png"))
    page.set_viewport_size({"width": 1100, "height": 800})

    page.reload()
    assert page.locator(".msg.user").first.inner_text() == KERRY
    restored = page.locator(".msg.bot").first
    restored.locator(".cite").first.click()
    assert "cannot be defeated" in restored.locator(".quote").inner_text()
    page.locator(".nr input").fill("And Lavrov?")  # the restored conversation is the follow-up's history
    page.locator(".nr button.send").click()
    assert "Searching for:" in _last_answer(page).locator(".note").inner_text()
    context.close()


def test_refused_on_a_site_not_allowed(site: Site) -> None:
    context = site.browser.new_context()
    page = context.new_page()
    page.goto(site.foreign + "/index.html")
    _open_and_ask(page, KERRY)
    error = page.locator(".msg.bot.error .text")
    error.wait_for()
    assert error.inner_text() == "This chat is not available on this site."
    refusals = [s for s in site.recorder.seen if s[1] == "/api/ask" and s[2] == site.foreign]
    assert refusals and all(status == 403 and not cors for *_, status, cors in refusals)
    context.close()


def test_markup_in_articles_and_questions_stays_text(site: Site) -> None:
    context = site.browser.new_context()
    page = context.new_page()
    page.goto(site.allowed + "/inline.html")  # inline mode: rendered into #ask, no launcher
    assert page.locator(".launcher").count() == 0 and page.locator("#ask .nr .panel").is_visible()
    question = f"What did the clerk paste: {IMG} or {SCRIPT}?"
    _open_and_ask(page, question)
    bot = _last_answer(page)
    for cite in bot.locator(".cite").all():
        cite.click()
    assert page.locator(".msg.user").last.inner_text() == question
    assert IMG in bot.locator(".text").inner_text() and SCRIPT in bot.locator(".text").inner_text()
    assert 'Minutes <img src=y onerror="window.__pwned=2">' in bot.locator(".quote").first.inner_text()
    page.wait_for_timeout(200)  # give any injected onerror handler its chance to run
    assert page.evaluate("typeof window.__pwned") == "undefined"
    shadow_markup = "document.querySelector('[data-newsrag-widget]').shadowRoot.querySelectorAll('img, script').length"
    assert page.evaluate(shadow_markup) == 0
    context.close()


def test_the_open_panel_hides_the_launcher_and_shows_an_opened_quote(site: Site) -> None:
    """The launcher used to stay visible under the open panel; a quote opened under the last answer landed below the
    fold of the panel's log. And HEAD /widget.js (what link checkers and CDNs send) is 200 like GET."""
    head = httpx.head(site.api + "/widget.js")
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/javascript")
    context = site.browser.new_context(viewport={"width": 1100, "height": 520})
    page = context.new_page()
    page.goto(site.allowed + "/index.html")
    launcher, panel = page.locator(".launcher"), page.locator(".nr .panel")
    assert launcher.is_visible() and panel.is_hidden()
    launcher.click()
    assert panel.is_visible() and launcher.is_hidden()
    page.locator("header button.close").click()
    assert panel.is_hidden() and launcher.is_visible()
    _open_and_ask(page, "What did Putin say?")
    bot = _last_answer(page)
    log = page.locator(".nr .log")
    assert log.evaluate("e => e.scrollHeight > e.clientHeight"), "the answer fills the log"
    bot.locator(".cite").first.click()
    quote = bot.locator(".quote").first
    quote.wait_for()
    page.wait_for_timeout(100)
    box, view = quote.bounding_box(), log.bounding_box()
    assert view["y"] - 1 <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"] + 1, (box, view)
    assert page.evaluate("window.scrollY") == 0, "the host page did not move"
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "widget-quote.png"))
    _open_and_ask(page, "What is the recipe for banana bread?")  # a refusal reads as a notice, not greyed out
    refused = page.locator(".msg.bot.refused").last
    refused.locator(".rate").wait_for()
    look = refused.evaluate("""e => { const s = getComputedStyle(e), t = getComputedStyle(e.querySelector('.text'));
        return [s.borderLeftStyle, s.backgroundColor, t.color]; }""")
    assert look == ["solid", "rgb(255, 251, 235)", "rgb(31, 41, 55)"], look
    context.close()
