"""The Gradio UI in a real browser (Debian chromium driven by Playwright) against a real engine (hash embedder,
real Chroma) and the real FeedbackStore. Screenshots go to test-artefacts/ (docs/screenshot-chat.png is a copy).

Skipped when chromium or Playwright is missing, except under CI=true, where that is a failure."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, ARTEFACTS, CHROMIUM, KERRY
from tests.conftest import SAMPLE_DIR, make_settings

pytestmark = [pytest.mark.slow, pytest.mark.browser,  # gradio's own Dataframe code trips pandas deprecations:
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated")]

HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE = (f"Bridge {HOSTILE_IMG} news\n\nThe mayor of Exampletown said the bridge {HOSTILE_IMG} will reopen in May "
           f"{HOSTILE_SCRIPT} after the repairs.\n")
TIMINGS: dict[str, list[float]] = {}
WAIT_MS = 20_000


def _require_browser() -> Any:
    problem = None
    if not os.access(CHROMIUM, os.X_OK):
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem = "playwright is not installed (pip install -e '.[dev]')"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI: {problem}")
        pytest.skip(problem)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[dict[str, Any]]:
    from app.engine import build_engine
    from app.quality.feedback import FeedbackStore
    from app.quality.ratings import RatingsStore
    from app.web.ui.blocks import build_ui

    tmp = tmp_path_factory.mktemp("ui")
    engine = build_engine(make_settings(tmp / "data", embedder="hash"))
    (tmp / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    assert engine.ingest([SAMPLE_DIR, tmp / "hostile.txt"]).added
    store = FeedbackStore(tmp / "feedback.sqlite")
    ratings = RatingsStore(tmp / "ratings.sqlite")
    demo = build_ui(engine, store, ratings)
    port = _free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield {"url": f"http://127.0.0.1:{port}/", "store": store, "tmp": tmp, "engine": engine, "ratings": ratings}
    finally:
        demo.close()
        if TIMINGS:
            ARTEFACTS.mkdir(exist_ok=True)
            (ARTEFACTS / "ui-timings.json").write_text(json.dumps(TIMINGS, indent=2))


def open_page(browser: Any, ui: dict[str, Any], width: int = 1280, height: int = 900, url: str | None = None,
              **extra: Any) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height}, **extra)
    page.set_default_timeout(WAIT_MS)
    page.goto(url or ui["url"])
    page.wait_for_selector("#nr-question textarea")
    return page


# Resolves with [ms to the first answer text, ms to the finished answer] after clicking Ask.
ASK_JS = """async (before) => {
  const chat = document.querySelector('#nr-chat');
  const t0 = performance.now();
  let first = null;
  const reply = () => [...chat.querySelectorAll('.nr-answer, .nr-refusal, .nr-error')].slice(before);
  return await new Promise((resolve) => {
    const check = () => {
      const els = reply();
      if (first === null && els.some(e => e.textContent.trim())) first = performance.now() - t0;
      if (els.some(e => !e.classList.contains('nr-streaming'))) {
        obs.disconnect();
        resolve([first, performance.now() - t0]);
      }
    };
    const obs = new MutationObserver(check);
    obs.observe(chat, {subtree: true, childList: true, characterData: true});
    document.querySelector('#nr-send').click();
  });
}"""


def ask(page: Any, question: str) -> str:
    """Type, click Ask, wait for the finished reply; returns its HTML. Records time to first text / to done."""
    page.fill("#nr-question textarea", question)
    before = page.locator("#nr-chat .nr-answer:not(.nr-streaming), #nr-chat .nr-refusal, #nr-chat .nr-error").count()
    first, done = page.evaluate(ASK_JS, before)
    TIMINGS.setdefault("first_text_ms", []).append(round(first, 1))
    TIMINGS.setdefault("done_ms", []).append(round(done, 1))
    return str(page.locator("#nr-chat .bot-row").last.inner_html())


def test_cited_answer_follow_up_and_refusal(browser: Any, ui: dict[str, Any]) -> None:
    page = open_page(browser, ui)
    reply = ask(page, KERRY)
    assert "cannot be defeated" in reply and "nr-refusal" not in reply
    link = page.locator('#nr-chat a.nr-cite[href="#src-0-1"]')
    assert link.inner_text() == "1"
    link.click()
    card = page.locator("#src-0-1")
    page.wait_for_selector("#src-0-1.nr-selected")
    assert "cannot be defeated" in card.locator("mark").inner_text()
    assert card.locator("mark").count() == 1
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "chat.png"))
    # docs/screenshot-chat.png is a checked-in copy of this file: tests never rewrite tracked files.

    reply = ask(page, "And Lavrov?")
    searching = page.locator("#nr-chat .bot-row").last.locator(".nr-searching")
    assert searching.inner_text().startswith("Searching for:") and "Lavrov" in searching.inner_text()
    assert "And Lavrov?" not in searching.inner_text()

    reply = ask(page, "What is the recipe for banana bread?")
    refusal = page.locator("#nr-chat .bot-row").last.locator(".nr-refusal")
    assert refusal.count() == 1 and "No answer in the indexed articles" in refusal.inner_text()
    assert "nr-answer" not in reply and "nr-cite" not in reply
    assert refusal.locator(".nr-refusal-reason").inner_text() == "No retrieved passage answers it closely enough."
    # a notice to read, not a greyed-out box that looks disabled: solid, coloured, its text in strong contrast
    look = refusal.evaluate(CONTRAST_JS)
    assert look["border"] == "solid" and look["background"] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert min(look["contrast"]) >= 7 and look["opacity"] == "1" and "italic" not in look["fontStyle"], look
    page.screenshot(path=str(ARTEFACTS / "refusal.png"))
    # an earlier answer's [1] still finds its card, folded under the newer answers
    page.locator('#nr-chat a.nr-cite[href="#src-0-1"]').click()
    page.wait_for_selector("#src-0-1.nr-selected")
    assert page.locator("#src-0-1").is_visible()


# The refusal box's look: its border, background, and the contrast (WCAG) of its title and reason on the background.
CONTRAST_JS = """e => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126*r + 0.7152*g + 0.0722*b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const s = getComputedStyle(e), bg = s.backgroundColor;
  const parts = [...e.querySelectorAll('.nr-refusal-title, .nr-refusal-reason')];
  return {border: s.borderStyle, background: bg, opacity: s.opacity,
          fontStyle: parts.map(p => getComputedStyle(p).fontStyle).join(' '),
          contrast: parts.map(p => ratio(getComputedStyle(p).color, bg))};
}"""


def test_errors_are_friendly_and_the_answerer_control_works(browser: Any, ui: dict[str, Any]) -> None:
    page = open_page(browser, ui)
    ask(page, "   ")
    error = page.locator("#nr-chat .nr-error").last
    assert "The question is empty" in error.inner_text()
    page.click("#nr-options")
    page.get_by_label("llm").check()
    ask(page, KERRY)
    assert "NEWSRAG_LLM_BASE_URL" in page.locator("#nr-chat .nr-error").last.inner_text()
    assert "Traceback" not in page.inner_text("body")


def test_hostile_article_text_stays_text(browser: Any, ui: dict[str, Any]) -> None:
    page = open_page(browser, ui)
    reply = ask(page, "When will the bridge in Exampletown reopen?")
    assert "Exampletown" in reply
    page.locator("#nr-chat a.nr-cite").last.click()
    page.wait_for_selector("#nr-sources .nr-src.nr-selected")
    chat_text, panel_text = page.inner_text("#nr-chat"), page.inner_text("#nr-sources")
    for needle in (HOSTILE_IMG, HOSTILE_SCRIPT):
        assert needle in chat_text and needle in panel_text
    assert f"Bridge {HOSTILE_IMG} news" in panel_text
    page.get_by_role("tab", name="Articles").click()
    page.wait_for_selector("#nr-table span.text:text('hostile')")
    assert f"Bridge {HOSTILE_IMG} news" in page.inner_text("#nr-table")
    page.wait_for_timeout(300)  # give any injected handler a chance to fire
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#nr-chat .message img, #nr-sources img, #nr-table img").count() == 0


def test_thumbs_with_a_comment_are_stored(browser: Any, ui: dict[str, Any]) -> None:
    page = open_page(browser, ui)
    ask(page, KERRY)
    page.fill("#nr-comment textarea", "exact quote, thanks")
    page.locator("#nr-chat button[aria-label=Dislike]").last.click()
    page.wait_for_function("document.querySelector('#nr-rated').innerText.includes('saved')")
    assert page.input_value("#nr-comment textarea") == ""
    record = ui["store"].export()[-1]
    assert (record["rating"], record["comment"], record["question"]) == ("down", "exact quote, thanks", KERRY)
    assert record["answer"]["citations"][0]["quote"] in record["answer_text"]


def test_evaluate_tab_rater_marks_each_sentence_and_the_answer(browser: Any, ui: dict[str, Any]) -> None:
    page = open_page(browser, ui)
    page.get_by_role("tab", name="Evaluate").click()
    page.fill("#nr-eval-rater textarea", "dana")
    page.fill("#nr-eval-question textarea", KERRY)
    page.click("#nr-eval-ask")
    page.wait_for_selector("#nr-eval-claim1 .nr-eval-claim blockquote mark")
    assert "Kerry" in page.inner_text("#nr-eval-claims")
    item = ui["ratings"].items()[-1]
    # beside each sentence: the passage it cites, the cited words marked, and who says them; the rating next to it
    claim, rating = page.locator("#nr-eval-claim1"), page.locator("#nr-eval-s1")
    assert "Speaker: John Kerry, US secretary" in claim.inner_text()
    quote = item["answer"]["citations"][0]["quote"]
    assert " ".join(claim.locator("mark").inner_text().split()) == " ".join(quote.split())
    passage = claim.locator("blockquote").inner_text()
    assert len(passage) > len(claim.locator("mark").inner_text()) + 100, "the passage around the quote is shown"
    left, right = claim.bounding_box(), rating.bounding_box()
    assert right["x"] >= left["x"] + left["width"] - 1, "the rating control sits to the right of its sentence"
    assert right["y"] < left["y"] + left["height"] and left["y"] < right["y"] + right["height"]
    assert page.locator("#nr-eval-row2").is_hidden() or len(item["claims"]) > 1
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "evaluate.png"), full_page=True)
    for i in range(len(item["claims"])):
        page.locator(f"#nr-eval-s{i + 1}").get_by_label("supported", exact=True).check()
    page.click("#nr-eval-save")  # the answer verdict is missing: nothing is saved, the rater is told
    page.wait_for_function("document.querySelector('#nr-eval-status').innerText.includes('Please rate whether')")
    assert ui["ratings"].answer_ratings() == []
    page.locator("#nr-eval-correct").get_by_label("yes", exact=True).check()
    page.click("#nr-eval-save")
    page.wait_for_function("document.querySelector('#nr-eval-status').innerText.includes('Saved.')")
    [verdict] = ui["ratings"].answer_ratings()
    assert (verdict["rater"], verdict["correct"], verdict["item_id"]) == ("dana", "yes", item["id"])
    labels = [r["label"] for r in ui["ratings"].sentence_ratings() if r["item_id"] == item["id"]]
    assert labels == ["supported"] * len(item["claims"])


def test_articles_tab_upload_list_and_remove(browser: Any, ui: dict[str, Any]) -> None:
    upload = ui["tmp"] / "upload"
    upload.mkdir()
    (upload / "harbour.txt").write_text("Harbour news\n\nThe harbour master said the new pier opens on Friday.\n")
    (upload / "broken.bin").write_bytes(b"\x00\x01\xff")
    page = open_page(browser, ui)
    page.get_by_role("tab", name="Articles").click()
    page.wait_for_selector("#nr-table span.text:text('russian-airstrikes-in-syria')")
    total = len(ui["engine"].articles())
    page.wait_for_function(f"document.querySelector('#nr-count').innerText.includes('{total} articles indexed')")
    # no header wraps: each fits its column on one line ("chunks" used to take two)
    heads = page.evaluate("""() => [...document.querySelectorAll('#nr-table th')].map(th =>
        [th.innerText.trim(), th.getBoundingClientRect().height, th.scrollWidth <= th.clientWidth])""")
    assert [h[0] for h in heads] == ["id", "date", "source", "chunks", "title"]
    assert len({round(h[1]) for h in heads}) == 1 and all(h[2] for h in heads), heads
    page.locator("#nr-table span.text", has_text="russian-airstrikes-in-syria").first.click()
    page.wait_for_function("document.querySelector('#nr-preview').innerText.includes('Amateur videos posted')")
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "articles.png"))
    page.set_input_files("#nr-files input[type=file]", [str(upload / "harbour.txt"), str(upload / "broken.bin")])
    page.wait_for_selector('#nr-files td.filename[aria-label="broken.bin"]')
    page.click("#nr-add")
    page.wait_for_function("document.querySelector('#nr-report textarea').value.includes('added')")
    report = page.input_value("#nr-report textarea")
    assert report.startswith("added 1, updated 0, unchanged 0, failed 1") and "failed: broken.bin:" in report
    page.wait_for_function(f"document.querySelector('#nr-count').innerText.includes('{total + 1} articles')")
    page.fill("#nr-search input", "HARBOUR")  # search: the table and the count follow as one types
    page.wait_for_function(f"document.querySelector('#nr-count').innerText.includes('1 of {total + 1} articles')")
    page.wait_for_function("!document.querySelector('#nr-table').innerText.includes('russian-airstrikes')")
    page.locator("#nr-table span.text", has_text="harbour").first.click()  # a click selects and previews it
    page.wait_for_function("document.querySelector('#nr-preview').innerText.includes('the new pier opens on Friday')")
    assert page.input_value("#nr-remove-id input, #nr-remove-id textarea") == "harbour"
    assert not page.locator("#nr-remove-id input, #nr-remove-id textarea").is_editable()  # removal by click only
    page.click("#nr-remove")
    page.wait_for_function("document.querySelector('#nr-removed').innerText.includes('removed harbour')")
    page.wait_for_function("!document.querySelector('#nr-table').innerText.includes('Harbour news')")
    page.wait_for_function(f"document.querySelector('#nr-count').innerText.includes('0 of {total} articles')")


def test_phone_width(browser: Any, ui: dict[str, Any]) -> None:
    page = open_page(browser, ui, 390, 844, is_mobile=True, has_touch=True, device_scale_factor=2)
    ask(page, KERRY)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    chat, panel = page.locator("#nr-chat").bounding_box(), page.locator("#nr-sources").bounding_box()
    assert panel["y"] >= chat["y"] + chat["height"] - 1, "the sources panel stacks under the chat"
    assert chat["width"] <= 390 and panel["width"] <= 390
    page.locator('#nr-chat a.nr-cite[href="#src-0-1"]').tap()
    page.wait_for_selector("#src-0-1.nr-selected")
    page.wait_for_function("""() => { const r = document.querySelector('#src-0-1').getBoundingClientRect();
                                      return r.top >= 0 && r.bottom <= window.innerHeight; }""")
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "chat-phone.png"), full_page=True)


CSP_VIOLATIONS = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                  "e => window.__csp.push([e.violatedDirective, e.blockedURI]));")


def test_served_by_newsrag_serve_it_keeps_its_styles_and_works_under_the_csp(browser: Any, ui: dict[str, Any]) -> None:
    """`build_server` (what `newsrag serve` runs: `gr.mount_gradio_app` plus the security headers) drops Blocks-level
    css/js, so ours must survive it; and the Content-Security-Policy must block nothing the UI or /docs need."""
    from app.web.server import build_server
    from tests.live_server import uvicorn_server

    engine = ui["engine"]
    with uvicorn_server(build_server(engine.settings, engine)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(WAIT_MS)
        page.add_init_script(CSP_VIOLATIONS)
        response = page.goto(url + "/")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_selector("#nr-question textarea")
        ask(page, KERRY)
        page.locator('#nr-chat a.nr-cite[href="#src-0-1"]').click()
        page.wait_for_selector("#src-0-1.nr-selected")
        mark = page.locator("#src-0-1 mark")
        assert "cannot be defeated" in mark.inner_text()
        assert mark.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(253, 230, 138)"
        assert page.evaluate("window.__csp") == []
        page.goto(url + "/docs")  # Swagger UI, and its "Try it out" fetch from the page
        page.wait_for_selector(".swagger-ui .opblock")
        status = page.evaluate("""async (q) => (await fetch('/api/ask', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify({question: q})})).status""", KERRY)
        assert status == 200 and page.evaluate("window.__csp") == []
        page.close()


def test_articles_tab_is_read_only_from_another_machine_until_the_token_is_given(browser: Any, tmp_path: Any) -> None:
    """Served as `newsrag serve --host 0.0.0.0` serves it and opened at this host's LAN address, so the server sees
    another machine: no upload or remove controls, a line saying why; the token typed in the tab unlocks them (and
    the file upload, which rides on the cookie it sets). Without a token set there is no token field to try."""
    from app.engine import build_engine
    from app.web.server import build_server
    from app.web.ui.access import LOCAL_ONLY
    from tests.live_server import bound_socket, lan_address, uvicorn_server

    lan = lan_address()
    if lan is None:
        pytest.skip("this host has no non-loopback address (hostname -I)")
    engine = build_engine(make_settings(tmp_path / "data", embedder="hash", admin_token="s3cret"))
    assert engine.ingest([SAMPLE_DIR]).added
    (tmp_path / "harbour.txt").write_text("Harbour news\n\nThe harbour master said the new pier opens on Friday.\n")
    for token in ("s3cret", None):
        settings = engine.settings.model_copy(update={"admin_token": token})
        with uvicorn_server(build_server(settings, engine), sock=bound_socket("0.0.0.0")) as url:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.goto(url.replace("0.0.0.0", lan) + "/")
            page.get_by_role("tab", name="Articles").click()
            page.wait_for_function("document.querySelector('#nr-access')?.innerText.includes('Read-only')")
            assert not page.locator("#nr-files").is_visible() and not page.locator("#nr-remove").is_visible()
            if token is None:
                assert page.inner_text("#nr-access") == LOCAL_ONLY.replace("**", "").replace("`", "")
                assert not page.locator("#nr-admin-token").is_visible()
                page.close()
                continue
            assert "needs the admin token" in page.inner_text("#nr-access")
            page.fill("#nr-admin-token input", "wrong")
            page.click("#nr-unlock")
            page.wait_for_function("document.querySelector('#nr-access').innerText.includes('token is wrong')")
            assert not page.locator("#nr-files").is_visible()
            page.fill("#nr-admin-token input", "s3cret")
            page.click("#nr-unlock")
            page.wait_for_selector("#nr-files", state="visible")
            assert not page.locator("#nr-access").is_visible() and not page.locator("#nr-admin-token").is_visible()
            page.set_input_files("#nr-files input[type=file]", [str(tmp_path / "harbour.txt")])
            page.wait_for_selector('#nr-files td.filename[aria-label="harbour.txt"]')
            page.click("#nr-add")
            page.wait_for_function("document.querySelector('#nr-report textarea').value.includes('added')")
            assert page.input_value("#nr-report textarea").startswith("added 1")
            page.reload()  # the session keeps the token
            page.get_by_role("tab", name="Articles").click()
            page.locator("#nr-table span.text", has_text="harbour").first.click()
            page.wait_for_function("document.querySelector('#nr-preview').innerText.includes('Harbour news')")
            page.click("#nr-remove")
            page.wait_for_function("document.querySelector('#nr-removed').innerText.includes('removed harbour')")
            page.close()
    assert [a["id"] for a in engine.articles()] == ["russian-airstrikes-in-syria"]
