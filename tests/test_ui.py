"""The chat UI's pure formatting helpers (app/web/ui/views.py): escaping, highlighting, markers, refusals."""

from __future__ import annotations

import re
from html import unescape

from app.types import Answer, Citation
from app.web.ui.views import (
    EMPTY_SOURCES,
    ChatTurn,
    answer_html,
    article_rows,
    error_html,
    history,
    linkify_markers,
    quote_context,
    source_card_html,
    sources_panel_html,
    streaming_html,
    turn_sources_html,
    upload_summary,
    user_html,
)

HOSTILE = ('Officials said the bridge <img src=x onerror="window.__pwned=1"> will reopen in May.\n\n'
           "The mayor added: <script>window.__pwned=1</script> “we are on schedule”.")


def cite(text: str, quote: str, n: int = 1, **extra: object) -> Citation:
    start = text.index(quote)
    values: dict[str, object] = {"n": n, "article_id": "a1", "title": "A title", "start": start,
                                 "end": start + len(quote), "quote": quote, **extra}
    return Citation.model_validate(values)


def marked(html: str) -> str:
    m = re.search(r"<mark>(.*?)</mark>", html, re.S)
    assert m, html
    return unescape(m.group(1))


def assert_inert(html: str) -> None:
    """No live tags or handlers from article/model text: only our own markup survives."""
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert not re.search(r"<[^>]*\sonerror\s*=", html, re.I)


def test_source_card_escapes_hostile_article_text() -> None:
    c = cite(HOSTILE, "The mayor added: <script>window.__pwned=1</script> “we are on schedule”.",
             title='Bridge <img src=x onerror="alert(1)">', source="<b>Daily</b>", date="2024-05-01")
    html = source_card_html(c, 0, HOSTILE)
    assert_inert(html)
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "Bridge &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "&lt;b&gt;Daily&lt;/b&gt;" in html and "2024-05-01" in html


def test_img_onerror_in_the_surrounding_paragraph_is_escaped() -> None:
    c = cite(HOSTILE, "will reopen in May.")
    html = source_card_html(c, 0, HOSTILE)
    assert_inert(html)
    assert '&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;' in html
    assert marked(html) == "will reopen in May."


def test_highlighted_span_equals_the_citation_quote(sample_text: str) -> None:
    quote = ("Speaking at the UN Security Council, Mr Kerry reiterated Washington’s view that the militant group "
             "“cannot be defeated as long as Bashar al-Assad remains president of Syria”.")
    c = cite(sample_text, quote)
    html = source_card_html(c, 3, sample_text)
    assert marked(html) == c.quote == sample_text[c.start:c.end]
    assert 'id="src-3-1"' in html
    assert html.count("<mark>") == 1


def test_the_span_sits_inside_its_paragraph() -> None:
    text = ("First paragraph, which is far away.\n\nBefore the quote. THE QUOTE. After the quote.\n\n"
            "Third paragraph.")
    span = text.index("THE"), text.index("THE") + len("THE QUOTE.")
    assert quote_context(text, *span, min_context=0) == ("Before the quote. ", "THE QUOTE.", " After the quote.")


def test_a_one_sentence_paragraph_gets_its_neighbours() -> None:
    text = "Title\n\nThe lead paragraph.\n\n\nTHE QUOTE.\n\nThe next paragraph.\n\nFar away."
    span = text.index("THE"), text.index("THE") + len("THE QUOTE.")
    assert quote_context(text, *span) == ("The lead paragraph.\n\n", "THE QUOTE.", "\n\nThe next paragraph.")
    assert quote_context("THE QUOTE.", 0, 10) == ("", "THE QUOTE.", "")


def test_long_paragraphs_are_trimmed_at_word_boundaries() -> None:
    words = " ".join(f"w{i}" for i in range(400))
    text = f"{words} QUOTE {words}"
    start = text.index("QUOTE")
    before, quote, after = quote_context(text, start, start + 5, limit=50)
    assert quote == "QUOTE"
    assert before.startswith("…") and len(before) <= 52 and not before[1:].startswith(" ")
    assert after.endswith("…") and len(after) <= 52
    assert re.fullmatch(r"…(w\d+ )+", before) and re.fullmatch(r"( w\d+)+…", after)


def test_a_changed_or_missing_article_falls_back_to_the_quote() -> None:
    c = cite(HOSTILE, "will reopen in May.")
    for text in (None, "a different text entirely, the article was updated"):
        html = source_card_html(c, 0, text)
        assert marked(html) == c.quote


def test_only_http_urls_become_links() -> None:
    c = cite(HOSTILE, "will reopen in May.", url="javascript:alert(1)")
    assert "javascript:" not in source_card_html(c, 0, HOSTILE)
    c = cite(HOSTILE, "will reopen in May.", url='https://example.org/a?b=1&c="x"')
    assert 'href="https://example.org/a?b=1&amp;c=&quot;x&quot;"' in source_card_html(c, 0, HOSTILE)


def test_markers_become_links_to_source_cards() -> None:
    html = linkify_markers("Claim one [1]. Claim two [2, 3].", turn=4)
    assert '[<a class="nr-cite" href="#src-4-1"' in html
    assert 'href="#src-4-2"' in html and 'href="#src-4-3"' in html
    assert linkify_markers("Only [1] and [9].", 0, known={1}).endswith("and [9].")
    assert linkify_markers("no markers [a] [] here", 0) == "no markers [a] [] here"


def answer(**fields: object) -> Answer:
    values: dict[str, object] = {"question": "q", "text": "", "answerer": "extractive", **fields}
    return Answer.model_validate(values)


def test_answer_html_escapes_model_text_and_links_known_markers() -> None:
    a = answer(text='He said <img src=x onerror="window.__pwned=1"> it [1].',
               citations=[cite(HOSTILE, "will reopen in May.")], rewritten_query="What did <b>X</b> say?")
    html = answer_html(a, 2)
    assert_inert(html)
    assert "&lt;img src=x" in html and 'href="#src-2-1"' in html
    assert 'Searching for: <q>What did &lt;b&gt;X&lt;/b&gt; say?</q>' in html
    assert "nr-refusal" not in html


def test_refusal_is_formatted_as_a_refusal_not_an_answer() -> None:
    a = answer(text="I can't answer that from the indexed articles: no passage supports it [1].", refused=True,
               refusal_reason="no passage mentions <Lavrov>.")
    html = answer_html(a, 0)
    assert 'class="nr-refusal"' in html and "No answer in the indexed articles" in html
    assert "No passage mentions &lt;Lavrov&gt;." in html  # the reason as a sentence
    assert "nr-answer" not in html and "nr-cite" not in html
    assert "No passage supports it" in answer_html(answer(text="no passage supports it", refused=True), 0)
    assert "No sources" in turn_sources_html(a, 0, {})


def test_errors_and_questions_are_escaped() -> None:
    assert error_html("bad <input>").count("&lt;input&gt;") == 1
    assert 'class="nr-error"' in error_html("x")
    assert user_html("<script>x</script>") == '<div class="nr-question">&lt;script&gt;x&lt;/script&gt;</div>'
    assert "nr-pending" in streaming_html("", 0)
    assert_inert(streaming_html("<script>x</script> [1]", 0, "<img src=x onerror=y>"))


def test_sources_panel_newest_first_and_earlier_answers_folded() -> None:
    assert sources_panel_html([]) == EMPTY_SOURCES
    c = cite(HOSTILE, "will reopen in May.")
    a = answer(text="x [1]", citations=[c])
    turns = [ChatTurn("first <q>", a, turn_sources_html(a, 0, {"a1": HOSTILE})),
             ChatTurn("failed", None),
             ChatTurn("second", a, turn_sources_html(a, 2, {"a1": HOSTILE}))]
    html = sources_panel_html(turns)
    assert html.index('id="src-2-1"') < html.index('id="src-0-1"')
    assert "<details" in html and "first &lt;q&gt;" in html and "failed" not in html
    assert_inert(html)


def test_history_leaves_out_failed_turns() -> None:
    a = answer(text="It was [1].", rewritten_query="What did Lavrov say?")
    turns = [ChatTurn("And Lavrov?", a), ChatTurn("", None)]
    assert [(t.role, t.content, t.rewritten_query) for t in history(turns)] == [
        ("user", "And Lavrov?", "What did Lavrov say?"), ("assistant", "It was [1].", None)]


def test_article_rows() -> None:
    rows = article_rows([{"id": "a", "title": "T", "date": None, "source": "S", "chunks": 3}])
    assert rows == [["a", "", "S", 3, "T"]]


def test_build_ui_has_chat_articles_and_evaluate_tabs(sample_engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import gradio as gr

    from app.quality.ratings import RatingsStore
    from app.web.ui.blocks import build_ui

    class Sink:
        def add(self, question: str, answer_text: str, rating: int, comment: str,
                answer_json: str | None = None) -> int:
            return 1

    demo = build_ui(sample_engine, Sink(), RatingsStore(tmp_path / "r.sqlite"))
    assert isinstance(demo, gr.Blocks)
    ids = {c.get("props", {}).get("elem_id") for c in demo.config["components"]}
    assert {"nr-chat-tab", "nr-articles-tab", "nr-eval-tab", "nr-eval-rater", "nr-eval-save"} <= ids


def test_upload_summary_names_files_not_gradio_temp_folders() -> None:
    summary = ("added 1, updated 0, unchanged 0, failed 1 (3 new chunks)\n"
               "  failed: /tmp/gradio/ab12/bad.bin: unsupported file type '.bin'")
    out = upload_summary(summary, ["/tmp/gradio/ab12/bad.bin", "/tmp/gradio/cd34/good.txt"])
    assert out.splitlines() == ["added 1, updated 0, unchanged 0, failed 1 (3 new chunks)",
                                "  failed: bad.bin: unsupported file type '.bin'"]
