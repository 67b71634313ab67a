"""The UI's event handlers (app/web/ui/callbacks.py) against a real engine (hash embedder, real Chroma) and the real
FeedbackStore, without a browser: what the chat, the sources panel and the Articles tab receive."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from app.engine import Engine
from app.quality.feedback import FeedbackStore
from app.web.ui.callbacks import UNEXPECTED, UIActions
from app.web.ui.views import ChatTurn
from tests.gradio_api import request_from

KERRY = "What did Kerry say about Assad?"


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite")


@pytest.fixture
def act(sample_engine: Engine, store: FeedbackStore) -> UIActions:
    return UIActions(sample_engine, store)


def run(act: UIActions, question: str, chat: list[dict[str, Any]] | None = None,
        turns: list[ChatTurn] | None = None, answerer: str = "extractive",
        k: float = 6) -> list[tuple[str, list[dict[str, Any]], list[ChatTurn], str]]:
    return list(act.respond(question, chat or [], turns or [], answerer, k, request_from()))


def test_an_answer_streams_then_lands_with_its_sources(act: UIActions) -> None:
    steps = run(act, KERRY)
    assert "nr-pending" in steps[0][1][-1]["content"]
    assert any("nr-streaming" in s[1][-1]["content"] for s in steps[1:-1]), "tokens are shown as they arrive"
    box, chat, turns, panel = steps[-1]
    assert box == "" and [m["role"] for m in chat] == ["user", "assistant"]
    assert 'href="#src-0-1"' in chat[-1]["content"] and "nr-streaming" not in chat[-1]["content"]
    assert turns[0].answer is not None and not turns[0].answer.refused
    assert 'id="src-0-1"' in panel and "<mark>" in panel and "cannot be defeated" in panel


def test_a_follow_up_shows_the_rewritten_question(act: UIActions) -> None:
    *_, (_, chat, turns, _) = run(act, KERRY)
    *_, (_, chat, turns, panel) = run(act, "And Lavrov?", chat, turns)
    assert len(turns) == 2 and turns[1].answer is not None
    rewritten = turns[1].answer.rewritten_query
    assert rewritten and "Lavrov" in rewritten and rewritten != "And Lavrov?"
    assert f"Searching for: <q>{escape(rewritten)}</q>" in chat[-1]["content"]
    assert "<details" in panel and 'id="src-0-1"' in panel, "the first answer's sources stay, folded"


def test_an_off_topic_question_is_refused_with_refusal_styling(act: UIActions) -> None:
    *_, (_, chat, _, panel) = run(act, "What is the recipe for banana bread?")
    assert 'class="nr-refusal"' in chat[-1]["content"] and "nr-answer" not in chat[-1]["content"]
    assert "No sources" in panel


def test_bad_input_is_a_friendly_message(act: UIActions) -> None:
    *_, (_, chat, turns, _) = run(act, "   ")
    assert 'class="nr-error"' in chat[-1]["content"] and "The question is empty" in chat[-1]["content"]
    assert turns[0].answer is None
    *_, (_, chat, _, _) = run(act, KERRY, answerer="llm")
    assert "NEWSRAG_LLM_BASE_URL" in chat[-1]["content"], "the answerer control reaches the engine"


def test_an_unexpected_failure_shows_no_traceback(act: UIActions, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(act.engine, "ask_stream", boom)
    *_, (_, chat, _, _) = run(act, KERRY)
    assert UNEXPECTED in chat[-1]["content"] and "secret" not in chat[-1]["content"]


def like(index: int, liked: bool | str) -> gr.LikeData:
    return gr.LikeData(None, {"index": index, "value": "", "liked": liked})


def test_thumbs_store_feedback_with_the_comment(act: UIActions, store: FeedbackStore) -> None:
    *_, (_, chat, turns, _) = run(act, KERRY)
    *_, (_, chat, turns, _) = run(act, "   ", chat, turns)
    box, status = act.rate(turns, "  exact quote  ", like(1, True), request_from())
    assert box == "" and "saved" in status
    assert act.rate(turns, "", like(3, False), request_from())[1] == "Only answers can be rated."
    record = store.export()[-1]
    assert (record["rating"], record["comment"], record["question"]) == ("up", "exact quote", KERRY)
    assert record["answer"]["citations"][0]["n"] == 1
    act.rate(turns, "", like(1, False), request_from())
    assert store.export()[-1]["rating"] == "down" and store.count() == 2


def test_articles_ingest_list_and_remove(act: UIActions, tmp_path: Path) -> None:
    upload = tmp_path / "upload-1"
    upload.mkdir()
    (upload / "harbour.txt").write_text("Harbour news\n\nThe harbour master said the pier opens on Friday.\n")
    (upload / "bad.bin").write_bytes(b"\x00\xff")
    summary, count, rows = act.ingest([str(upload / "harbour.txt"), str(upload / "bad.bin")], request_from())
    assert summary.startswith("added 1, updated 0, unchanged 0, failed 1")
    assert "  failed: bad.bin: " in summary and str(upload) not in summary
    assert "harbour" in [r[0] for r in rows] and count == "**2 articles** indexed"
    assert act.ingest([], request_from())[0].startswith("Choose one or more files")
    count, rows = act.list_articles("HARBOUR news")  # every word, in any case, in the id, title, source or date
    assert [r[0] for r in rows] == ["harbour"] and count == "**1 of 2 articles** match “HARBOUR news”"
    assert act.list_articles("nothing like this")[1] == []
    preview = act.preview("harbour")  # what a click on its row shows
    assert "Harbour news" in preview and "the pier opens on Friday" in preview
    assert "characters, 1 chunk<" in preview
    message, count, rows, selected, preview = act.remove("harbour", request_from(), "harbour")
    assert message == "removed harbour" and rows == [] and count.startswith("**0 of 1 article**")
    assert selected == "" and "Click an article" in preview
    assert act.remove("harbour", request_from())[0].startswith("error: No article with id 'harbour'")
    assert act.remove("", request_from())[0] == "Click the article to remove in the table first."


def test_an_edited_file_uploaded_again_is_an_update_not_a_conflict(act: UIActions, tmp_path: Path) -> None:
    """Gradio keeps each upload in a folder named by its content hash: the origin is the file's name, not that path."""
    first, second = tmp_path / "upload-a", tmp_path / "upload-b"
    for folder, when in ((first, "Friday"), (second, "Monday")):
        folder.mkdir()
        (folder / "pier.txt").write_text(f"Pier news\n\nThe harbour master said the new pier opens on {when}.\n")
    assert act.ingest([str(first / "pier.txt")], request_from())[0].startswith("added 1")
    summary, *_ = act.ingest([str(second / "pier.txt")], request_from())
    assert summary.startswith("added 0, updated 1"), summary
    assert "conflict" not in summary
    act.remove("pier", request_from())


def test_a_long_chat_keeps_answering(act: UIActions) -> None:
    """The UI sends the recent conversation within the history limits (app/limits.py), never all of it."""
    from app.limits import MAX_HISTORY_TURNS

    steps = run(act, KERRY)
    turns = steps[-1][2] * (MAX_HISTORY_TURNS + 5)  # far more turns than the engine accepts
    final = run(act, "And Lavrov?", steps[-1][1], turns)[-1]
    assert "too long" not in final[1][-1]["content"]
    assert final[2][-1].answer is not None
