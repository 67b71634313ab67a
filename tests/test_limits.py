"""Requests are bounded (issue 13): the question, the history (messages, characters per message and in all), feedback
records and whole request bodies, with the same limits (app/limits.py) on /api/ask, /v1/chat/completions and the
engine the CLI and the UI call; over a limit is a 4xx that names it, never a 500 or a dropped connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.engine import Engine
from app.limits import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, MAX_TURN_CHARS, TooLarge, recent
from app.types import Turn
from app.web.api import create_app
from tests.conftest import sample_engine_in
from tests.live_server import uvicorn_server

KERRY = "What did Kerry say about Assad?"
LOCAL = ("127.0.0.1", 50000)


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return sample_engine_in(tmp_path_factory.mktemp("limits") / "data")  # type: ignore[no-any-return]


def client(engine: Engine, **overrides: Any) -> TestClient:
    settings = engine.settings.model_copy(update={"rate_limit_per_minute": 0, **overrides})
    return TestClient(create_app(engine, settings), base_url="http://127.0.0.1:7860", client=LOCAL)


def turns(n: int, size: int) -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": "x" * size} for i in range(n)]


OVER = {  # history -> what the 422 must say
    "one message too long": (turns(1, MAX_TURN_CHARS + 1),
                             f"history message 1 is {MAX_TURN_CHARS + 1:,} characters; the limit is "
                             f"{MAX_TURN_CHARS:,} per message"),
    "too many messages": (turns(MAX_HISTORY_TURNS + 1, 10),
                          f"the history has {MAX_HISTORY_TURNS + 1} messages; the limit is {MAX_HISTORY_TURNS}"),
    "too much in all": (turns(6, MAX_HISTORY_CHARS // 5),
                        f"the history has {6 * (MAX_HISTORY_CHARS // 5):,} characters in all; the limit is "
                        f"{MAX_HISTORY_CHARS:,}"),
    "a long rewritten_query": ([{"role": "user", "content": KERRY, "rewritten_query": "y" * (MAX_TURN_CHARS + 1)}],
                               "history message 1 is"),
}


@pytest.mark.parametrize("case", OVER)
def test_history_over_a_limit_is_422_saying_which(shared_engine: Engine, case: str) -> None:
    history, says = OVER[case]
    c = client(shared_engine)
    for accept in ("application/json", "text/event-stream"):
        r = c.post("/api/ask", json={"question": "And Lavrov?", "history": history}, headers={"Accept": accept})
        assert r.status_code == 422 and says in r.json()["error"], r.text[:300]
    with pytest.raises(TooLarge, match="The conversation is too long: " + says.split(";")[0]):
        shared_engine.ask("And Lavrov?", [Turn.model_validate(t) for t in history])  # the CLI and the UI


def test_the_question_has_one_limit_everywhere(shared_engine: Engine) -> None:
    c = client(shared_engine)
    over = "Kerry " * (MAX_QUESTION_CHARS // 6 + 1)
    r = c.post("/api/ask", json={"question": over})
    assert r.status_code == 422 and f"at most {MAX_QUESTION_CHARS} characters" in r.json()["error"]
    with pytest.raises(TooLarge, match=f"the limit is {MAX_QUESTION_CHARS:,}"):
        shared_engine.ask(over)
    r = c.post("/v1/chat/completions", json={"model": "newsrag", "messages": [{"role": "user", "content": over}]})
    assert r.status_code == 422 and f"at most {MAX_QUESTION_CHARS} characters" in r.json()["error"]["message"]
    r = c.post("/api/feedback", json={"question": over, "answer_text": "a", "rating": "up"})
    assert r.status_code == 422 and "question:" in r.json()["error"]
    assert c.post("/api/ask", json={"question": KERRY, "history": turns(MAX_HISTORY_TURNS, 100)}).status_code == 200


@pytest.mark.parametrize(("messages", "says"), [
    ([{"role": "user", "content": "x" * 21_000}], "the last user message (the question)"),
    ([*turns(1_000, 5), {"role": "user", "content": KERRY}], f"the history has 1,000 messages; the limit is "
                                                             f"{MAX_HISTORY_TURNS}"),
])
def test_v1_gives_an_openai_shaped_422_not_a_500(shared_engine: Engine, messages: list[dict[str, str]],
                                                 says: str) -> None:
    """Before: 500 and a dropped connection for a 21 kB message or 1,001 messages. The openai client raises its
    UnprocessableEntityError with our message (it reads `error.message`)."""
    from openai import OpenAI, UnprocessableEntityError

    c = client(shared_engine)
    r = c.post("/v1/chat/completions", json={"model": "newsrag", "messages": messages})
    assert r.status_code == 422
    error = r.json()["error"]
    assert says in error["message"] and error["type"] == "invalid_request_error" and set(error) == {
        "message", "type", "param", "code"}
    app = create_app(shared_engine, shared_engine.settings.model_copy(update={"rate_limit_per_minute": 0}))
    with uvicorn_server(app) as url:
        ai = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)
        with pytest.raises(UnprocessableEntityError) as exc:
            ai.chat.completions.create(model="newsrag", messages=messages)  # type: ignore[arg-type]
        assert says in exc.value.message


def test_feedback_is_bounded(shared_engine: Engine) -> None:
    c = client(shared_engine)
    base = {"question": KERRY, "answer_text": "Kerry said ... [1]", "rating": "up"}
    r = c.post("/api/feedback", json={**base, "answer": {"text": "x" * 5_000_000}})  # 5 MB was stored before
    assert r.status_code == 413 and "NEWSRAG_MAX_REQUEST_MB" in r.json()["error"]
    r = c.post("/api/feedback", json={**base, "answer": {"text": "y" * 300_000}})
    assert r.status_code == 422 and "answer: the answer is 300,012 characters of JSON; the limit is 200,000" \
        in r.json()["error"]
    assert c.post("/api/feedback", json={**base, "answer": {"text": "fine"}}).status_code == 201


def chunked(total: int) -> Iterator[bytes]:
    """A JSON body sent without Content-Length (Transfer-Encoding: chunked), in 10 kB pieces."""
    yield b'{"question": "'
    for _ in range(total // 10_000):
        yield b"x" * 10_000
    yield b'"}'


def test_request_bodies_are_capped(shared_engine: Engine) -> None:
    c = client(shared_engine, max_request_mb=0.05)
    big = json.dumps({"question": KERRY, "history": turns(5, 9_000)}).encode()  # 45 kB: fine at the 1 MB default
    assert client(shared_engine).post("/api/ask", content=big, headers={"Content-Type": "application/json"}
                                      ).status_code == 200
    bigger = json.dumps({"question": KERRY, "history": turns(10, 9_000)}).encode()  # 90 kB
    r = c.post("/api/ask", content=bigger, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"].startswith("The request body is too large (0.1 MB)")
    r = c.post("/api/ask", content=chunked(100_000), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "the limit is 0.05 MB (NEWSRAG_MAX_REQUEST_MB)" in r.json()["error"]
    r = c.post("/v1/chat/completions", content=bigger, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def test_uploads_keep_their_own_limit(engine: Engine) -> None:
    c = client(engine, max_request_mb=0.01)
    story = b"Harbour\n\n" + b"The harbour reopened on Monday after the storm, the mayor said. " * 400  # 25 kB
    r = c.post("/api/articles", files=[("files", ("harbour.txt", story))])
    assert r.status_code == 200 and r.json()["added"] == ["harbour"]


def test_recent_keeps_a_long_chat_within_the_limits(shared_engine: Engine) -> None:
    """The terminal chat (and any face keeping a conversation) sends `recent(history)`: a 100-message chat with
    long answers is answered instead of refused."""
    chat = [Turn(role="user" if i % 2 == 0 else "assistant", content=(KERRY if i % 2 == 0 else "z " * 6_000))
            for i in range(100)]
    with pytest.raises(TooLarge):
        shared_engine.ask("And Lavrov?", chat)
    kept = recent(chat)
    assert kept and kept[-1].content == chat[-1].content[:MAX_TURN_CHARS] and len(kept) <= MAX_HISTORY_TURNS
    assert max(len(t.content) for t in kept) <= MAX_TURN_CHARS
    assert sum(len(t.content) for t in kept) <= MAX_HISTORY_CHARS
    assert shared_engine.ask("And Lavrov?", kept).rewritten_query
