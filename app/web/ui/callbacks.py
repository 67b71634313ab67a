"""What the chat UI's events do: call the engine (or the feedback store) and format the result for Gradio.

Each method is one event handler; none holds state of its own (the conversation lives in a `gr.State` list of
`ChatTurn`s), so one `UIActions` serves every browser session.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import gradio as gr

from app.errors import NewsragError
from app.progress import ProgressLog
from app.web.ui.access import UIAccess
from app.web.ui.articles import EMPTY_PREVIEW, count_line, preview_html, search
from app.web.ui.views import (
    EMPTY_SOURCES,
    ChatTurn,
    answer_html,
    article_rows,
    error_html,
    history,
    pending_html,
    sources_panel_html,
    streaming_html,
    turn_sources_html,
    upload_summary,
    user_html,
)
from index.formats.registry import labels
from index.types import IngestProgress

if TYPE_CHECKING:
    from app.engine import Engine

log = logging.getLogger(__name__)

RATING_UP, RATING_DOWN = "up", "down"  # app/quality/feedback.py:RATINGS
STREAM_EVERY_S = 0.05
UNEXPECTED = "Something went wrong on our side; the details are in the server log. Please try again."

Message = dict[str, Any]
Rows = list[list[object]]
ChatOut = tuple[str, list[Message], list[ChatTurn], str]
Listing = tuple[str, Rows]  # the count line and the table's rows


class FeedbackSink(Protocol):
    """What the UI needs from the feedback store (`app/quality/feedback.py: FeedbackStore`)."""

    def add(self, question: str, answer_text: str, rating: str, comment: str | None = None,
            answer_json: str | None = None) -> int: ...


class UIActions:
    """`access` decides who may ask, rate and write (app/web/ui/access.py); every handler that does one of those takes
    Gradio's `gr.Request` and asks it first."""

    def __init__(self, engine: Engine, feedback: FeedbackSink, access: UIAccess | None = None):
        self.engine, self.feedback = engine, feedback
        self.access = access or UIAccess.standalone(engine.settings)

    # -- chat ----------------------------------------------------------------------------------------
    def respond(self, question: str, chat: list[Message], turns: list[ChatTurn], answerer: str | None,
                k: float | None, request: gr.Request) -> Iterator[ChatOut]:
        """Stream one answer into the chat; outputs: (question box, chat, turns, sources panel).

        Every yield hands Gradio new lists (never the ones yielded before), so each update stands alone."""
        i = len(turns)
        before, asked = [*chat, {"role": "user", "content": user_html(question)}], [*turns, ChatTurn(question)]
        panel = sources_panel_html(asked)

        def show(content: str) -> list[Message]:
            return [*before, {"role": "assistant", "content": content}]

        yield "", show(pending_html()), asked, panel
        text, rewritten, shown = "", None, 0.0
        try:
            self.access.ask(request)  # started, and within the client's questions per minute (shared with /api/ask)
            stream = self.engine.ask_stream(question, history(turns), answerer or None, int(k) if k else None)
            for event in stream:
                if event.type == "notice":
                    rewritten = event.rewritten_query or rewritten
                elif event.type == "token":
                    text += event.text
                    if time.monotonic() - shown < STREAM_EVERY_S:
                        continue  # coalesce fast tokens: the browser redraws at most ~20 times a second
                elif event.type == "done":
                    answer = event.answer
                    texts = {c.article_id: self._article_text(c.article_id) for c in answer.citations}
                    done = [*turns, ChatTurn(question, answer, turn_sources_html(answer, i, texts))]
                    yield "", show(answer_html(answer, i)), done, sources_panel_html(done)
                    return
                else:
                    continue
                shown = time.monotonic()
                yield "", show(streaming_html(text, i, rewritten)), asked, panel
            log.error("the answer stream for %r ended without `done`", question)
            yield "", show(error_html(UNEXPECTED)), asked, panel
        except NewsragError as exc:
            yield "", show(error_html(str(exc))), asked, panel
        except Exception:
            log.exception("answering %r failed", question)
            yield "", show(error_html(UNEXPECTED)), asked, panel

    def _article_text(self, article_id: str) -> str | None:
        try:
            return self.engine.article(article_id).text
        except NewsragError:
            return None

    @staticmethod
    def clear() -> tuple[list[ChatTurn], str, str]:
        return [], EMPTY_SOURCES, ""

    def rate(self, turns: list[ChatTurn], comment: str, like: gr.LikeData, request: gr.Request) -> tuple[str, str]:
        """A thumb on an answer -> `feedback.add`; outputs: (comment box, status line)."""
        try:
            self.access.rate(request)
        except NewsragError as exc:
            return comment, str(exc)
        index = like.index[0] if isinstance(like.index, (list, tuple)) else like.index
        turn = turns[index // 2] if 0 <= index // 2 < len(turns) else None  # each turn is 2 chat messages
        if turn is None or turn.answer is None:
            return comment, "Only answers can be rated."
        if like.liked is not True and like.liked is not False:
            return comment, "Rating removed in the chat (ratings already saved are kept)."
        try:
            fid = self.feedback.add(turn.question, turn.answer.text, RATING_UP if like.liked else RATING_DOWN,
                                    (comment or "").strip(), answer_json=turn.answer.model_dump_json())
        except Exception:
            log.exception("saving feedback failed")
            return comment, "Could not save the feedback; please try again."
        return "", f"Thanks: feedback #{fid} saved (thumbs {'up' if like.liked else 'down'})."

    # -- articles ------------------------------------------------------------------------------------
    def list_articles(self, query: str | None = None) -> Listing:
        """The count line and the rows matching the search box (all of them when it is empty)."""
        listing = self.engine.articles()
        shown = search(listing, query)
        return count_line(len(shown), len(listing), query), article_rows(shown)

    def articles_access(self, request: gr.Request) -> tuple[Any, ...]:
        """On page load: the Articles tab's write controls, or a read-only note (app/web/ui/access.py:articles_view)."""
        return self.access.articles_view(request)

    def unlock(self, token: str, request: gr.Request) -> tuple[Any, ...]:
        """After the page's script put the typed token in the cookie (TOKEN_COOKIE_JS): the tab as that token allows;
        the token box is emptied either way."""
        return "", *self.access.articles_view(request)

    def ingest(self, files: list[str] | None, request: gr.Request,
               progress: gr.Progress = gr.Progress(), query: str | None = None) -> tuple[str, str, Rows]:  # noqa: B008
        """Outputs: (the CLI's summary text, the count line, the article table)."""
        try:
            self.access.write(request)
        except NewsragError as exc:
            return f"error: {exc}", *self.list_articles(query)
        if not files:
            return f"Choose one or more files first ({labels()}).", *self.list_articles(query)
        log = ProgressLog("upload", terminal=False)  # lines in the server's log as well, for a long upload

        def tick(at: IngestProgress) -> None:
            log(at)
            progress((at.articles, at.total), desc=log.line(at), unit="articles")

        progress(0, desc="Reading files")
        try:
            paths = [Path(f) for f in files]  # Gradio's temp folders change with the content: the name is the origin
            with log:
                report = self.engine.ingest(paths, progress=tick, names={p: p.name for p in paths})
        except NewsragError as exc:
            return f"error: {exc}", *self.list_articles(query)
        summary = upload_summary(report.summary(), files)
        if not report.ok:
            summary += "\nnothing could be ingested: fix the files above and try again."
        return summary, *self.list_articles(query)

    def remove(self, article_id: str, request: gr.Request,
               query: str | None = None) -> tuple[str, str, Rows, str, str]:
        """Outputs: (what happened, the count line, the table, the selected id, the preview)."""
        article_id = (article_id or "").strip()
        try:
            self.access.write(request)
            if not article_id:
                return "Click the article to remove in the table first.", *self.list_articles(query), "", EMPTY_PREVIEW
            self.engine.remove(article_id)
        except NewsragError as exc:
            return f"error: {exc}", *self.list_articles(query), article_id, self.preview(article_id)
        return f"removed {article_id}", *self.list_articles(query), "", EMPTY_PREVIEW

    def pick(self, evt: gr.SelectData) -> tuple[str, str]:
        """A click on a table row selects that article: its id (what Remove removes) and its preview."""
        row = evt.row_value
        article_id = str(row[0]) if row else ""
        return article_id, self.preview(article_id)

    def preview(self, article_id: str) -> str:
        if not article_id:
            return EMPTY_PREVIEW
        try:
            article = self.engine.article(article_id)
        except NewsragError:
            return EMPTY_PREVIEW
        row = next((r for r in self.engine.articles() if r["id"] == article_id), {"id": article_id})
        return preview_html({**article.model_dump(exclude={"text"}), **row}, article.text)
