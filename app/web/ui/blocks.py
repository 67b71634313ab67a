"""The Gradio chat UI: `build_ui(engine, feedback) -> gr.Blocks`.

The layout and its wiring live here; what each event does is in `app/web/ui/callbacks.py` (engine calls only),
the HTML in `app/web/ui/views.py` (pure, unit-tested), the CSS and the citation-click script in `app/web/ui/assets.py`.
The assets ride in the sources panel's `head=`, so the Blocks look and behave the same under `demo.launch()`
and `gr.mount_gradio_app(app, demo, path="/")` without passing css/js to either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from app.answering.registry import ANSWERERS
from app.quality.ratings import RatingsStore, ratings_path
from app.web.ui.access import TOKEN_COOKIE_JS, UIAccess
from app.web.ui.articles import EMPTY_PREVIEW
from app.web.ui.assets import HEAD
from app.web.ui.callbacks import FeedbackSink, UIActions
from app.web.ui.evaluate import build_eval_tab
from app.web.ui.views import ARTICLE_COLUMNS, EMPTY_SOURCES
from index.formats.registry import labels

if TYPE_CHECKING:
    from app.engine import Engine

__all__ = ["FeedbackSink", "build_ui"]

# the "chunks" header needs room for itself and the sort arrow: it used to wrap onto two lines
COLUMN_WIDTHS = ["22%", "12%", "16%", "10%", "40%"]
INTRO = ("## newsrag\nAsk about the indexed news articles. Every claim carries a citation such as **[1]**: "
         "click it to see the quoted passage.")


def build_ui(engine: Engine, feedback: FeedbackSink, ratings: RatingsStore | None = None,
             access: UIAccess | None = None) -> gr.Blocks:
    """The Chat, Articles and Evaluate tabs; human ratings go to `ratings` (default: the data dir's
    ratings.sqlite, the store `newsrag eval annotate` and `newsrag eval agreement` use). `access` holds the rules
    and rate limiters the handlers apply (app/web/server.py passes the API's, so both faces share them)."""
    access = access or UIAccess.standalone(engine.settings)
    act = UIActions(engine, feedback, access)
    settings = engine.settings
    with gr.Blocks(title="newsrag") as demo:
        gr.Markdown(INTRO, elem_id="nr-intro")
        turns = gr.State([])
        with gr.Tab("Chat", elem_id="nr-chat-tab"), gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                chat = gr.Chatbot(elem_id="nr-chat", show_label=False, height=460, render_markdown=False,
                                  sanitize_html=True, buttons=[], group_consecutive_messages=False,
                                  placeholder="Try: *What did Kerry say about Assad?* then *And Lavrov?*")
                with gr.Row():
                    question = gr.Textbox(elem_id="nr-question", show_label=False, scale=5, min_width=180,
                                          placeholder="Ask a question about the articles…", max_lines=4)
                    send = gr.Button("Ask", variant="primary", elem_id="nr-send", scale=1, min_width=70)
                comment = gr.Textbox(elem_id="nr-comment", label="Comment (optional)", max_lines=3,
                                     placeholder="Type it first, then rate an answer with the thumbs below it")
                rated = gr.Markdown(elem_id="nr-rated")
                with gr.Accordion("Options", open=False, elem_id="nr-options"):
                    answerer = gr.Radio(list(ANSWERERS.names()), value=settings.answerer, label="Answerer",
                                        elem_id="nr-answerer",
                                        info=ANSWERERS.describe())
                    k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages retrieved (k)",
                                  elem_id="nr-k")
            with gr.Column(scale=2, min_width=280, elem_id="nr-sources-col"):
                sources = gr.HTML(EMPTY_SOURCES, elem_id="nr-sources", head=HEAD, js_on_load=None,
                                  label="Sources", show_label=True, container=True)
        with gr.Tab("Articles", elem_id="nr-articles-tab") as articles_tab:
            # the write controls stay hidden until the page load's check says this visitor may write
            note = gr.Markdown(elem_id="nr-access", visible=False)
            with gr.Row(visible=False, elem_id="nr-token-row") as token_row:
                token = gr.Textbox(label="Admin token", type="password", elem_id="nr-admin-token", scale=4)
                unlock = gr.Button("Unlock", elem_id="nr-unlock", scale=1, min_width=90)
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=320):
                    with gr.Row():
                        count = gr.Markdown(elem_id="nr-count")
                        find = gr.Textbox(elem_id="nr-search", show_label=False, scale=2, min_width=200,
                                          placeholder="Search titles, ids, sources, dates…", max_lines=1)
                    table = gr.Dataframe(headers=ARTICLE_COLUMNS, datatype=["str", "str", "str", "number", "str"],
                                         interactive=False, wrap=True, elem_id="nr-table", column_widths=COLUMN_WIDTHS,
                                         label="Indexed articles (click one to read it)")
                with gr.Column(scale=2, min_width=280):
                    preview = gr.HTML(EMPTY_PREVIEW, elem_id="nr-preview", label="Article", show_label=True,
                                      container=True)
                    with gr.Column(visible=False, elem_id="nr-remove-box") as removal:
                        remove_id = gr.Textbox(label="Selected article", elem_id="nr-remove-id", interactive=False,
                                               placeholder="click an article in the table")
                        remove = gr.Button("Remove this article", variant="stop", elem_id="nr-remove")
                        removed = gr.Markdown(elem_id="nr-removed")
            with gr.Column(visible=False, elem_id="nr-upload") as upload:
                files = gr.File(file_count="multiple", type="filepath", elem_id="nr-files", height=140,
                                label=f"Add articles ({labels()})")
                add = gr.Button("Add to the index", variant="primary", elem_id="nr-add")
                report = gr.Textbox(label="Ingest report", lines=3, interactive=False, elem_id="nr-report")
        with gr.Tab("Evaluate", elem_id="nr-eval-tab"):
            build_eval_tab(engine, ratings or RatingsStore(ratings_path(settings.data_dir)), access)

        ask_in, ask_out = [question, chat, turns, answerer, k], [question, chat, turns, sources]
        question.submit(act.respond, ask_in, ask_out)
        send.click(act.respond, ask_in, ask_out)
        chat.like(act.rate, [turns, comment], [comment, rated])
        chat.clear(act.clear, None, [turns, sources, rated])
        # the writes are checked in the handlers (hiding them from the API page is no defence: any client can
        # still call them by fn_index); /api/articles is the documented way to add and remove articles
        listing = [count, table]
        add.click(act.ingest, [files, find], [report, *listing], api_visibility="private")
        remove.click(act.remove, [remove_id, find], [removed, *listing, remove_id, preview], api_visibility="private")
        table.select(act.pick, None, [remove_id, preview])
        find.change(act.list_articles, [find], listing, show_progress="hidden")
        articles_tab.select(act.list_articles, [find], listing)
        demo.load(act.list_articles, [find], listing)
        gated = [note, token_row, upload, removal]
        demo.load(act.articles_access, None, gated, api_visibility="private")
        for event in (unlock.click, token.submit):
            event(act.unlock, [token], [token, *gated], js=TOKEN_COOKIE_JS, api_visibility="private")
    return demo
