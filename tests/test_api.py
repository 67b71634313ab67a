"""The HTTP API in-process (TestClient over the real engine, Chroma and SQLite), plus the real `openai` client
against a live uvicorn server. Every route, status code and error body."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.engine import Engine
from app.quality.feedback import FeedbackStore, feedback_path
from app.web.api import create_app
from tests.conftest import SAMPLE_DIR, sample_engine_in
from tests.live_server import uvicorn_server

KERRY = "What did Kerry say about Assad?"
BASE = "http://127.0.0.1:7860"
LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.7", 50000)
WIDGET_SITE = "https://news.example.com"


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The sample, ingested once for the read-only tests of this module."""
    return sample_engine_in(tmp_path_factory.mktemp("api") / "data")  # type: ignore[no-any-return]


def client(engine: Engine, peer: tuple[str, int] = LOCAL, **overrides: Any) -> TestClient:
    settings = engine.settings.model_copy(update={"widget_origins": WIDGET_SITE, **overrides})
    return TestClient(create_app(engine, settings), base_url=BASE, client=peer)


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# -- ask -----------------------------------------------------------------------------------------------
def test_ask_json(shared_engine: Engine) -> None:
    r = client(shared_engine).post("/api/ask", json={"question": KERRY, "k": 4})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    answer = r.json()
    assert not answer["refused"] and answer["answerer"] == "extractive"
    assert "cannot be defeated" in answer["citations"][0]["quote"] and "[1]" in answer["text"]


def test_ask_streams_events_in_order(shared_engine: Engine) -> None:
    r = client(shared_engine).post("/api/ask", json={"question": KERRY}, headers={"Accept": "text/event-stream"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["cache-control"] == "no-cache"
    events = sse_events(r.text)
    types = [t for t, _ in events]
    assert types[0] == "token" and types[-1] == "done" and types.count("done") == 1
    assert types.index("citation") > max(i for i, t in enumerate(types) if t == "token")
    answer = events[-1][1]["answer"]
    assert "".join(d["text"] for t, d in events if t == "token") == answer["text"]
    assert [d["n"] for t, d in events if t == "citation"] == [c["n"] for c in answer["citations"]]


def test_filters_restrict_retrieval(shared_engine: Engine) -> None:
    c = client(shared_engine)
    r = c.post("/api/ask", json={"question": KERRY, "filters": {"article_ids": ["russian-airstrikes-in-syria"]}})
    assert not r.json()["refused"]
    r = c.post("/api/ask", json={"question": KERRY, "filters": {"source": "Nowhere Gazette"}})
    assert r.status_code == 200 and r.json()["refused"] and r.json()["passages"] == []


def test_follow_up_uses_history(shared_engine: Engine) -> None:
    history = [{"role": "user", "content": KERRY}, {"role": "assistant", "content": "He said ... [1]"}]
    r = client(shared_engine).post("/api/ask", json={"question": "And Lavrov?", "history": history},
                                   headers={"Accept": "text/event-stream"})
    events = sse_events(r.text)
    assert events[0][0] == "notice" and "Lavrov" in events[0][1]["rewritten_query"]
    assert events[-1][1]["answer"]["rewritten_query"] == events[0][1]["rewritten_query"]


@pytest.mark.parametrize(("body", "status", "says"), [
    (b"{not json", 400, "not valid JSON"),
    (b'{"history": []}', 422, "question: Field required"),
    (b'{"question": "hi", "k": 0}', 422, "k: Input should be greater than or equal to 1"),
    (b'{"question": "hi", "answerer": "gpt"}', 422, "answerer:"),
    (b'{"question": "   "}', 400, "The question is empty"),
    (b'{"question": "hi", "filters": {"author": "x"}}', 422, "filters.author: Extra inputs are not permitted"),
])
def test_ask_bad_input(shared_engine: Engine, body: bytes, status: int, says: str) -> None:
    for accept in ("application/json", "text/event-stream"):
        r = client(shared_engine).post("/api/ask", content=body,
                                       headers={"Content-Type": "application/json", "Accept": accept})
        assert r.status_code == status and says in r.json()["error"], r.text


def test_nothing_indexed_is_409(engine: Engine) -> None:
    c = client(engine)
    for accept in ("application/json", "text/event-stream"):
        r = c.post("/api/ask", json={"question": KERRY}, headers={"Accept": accept})
        assert r.status_code == 409 and r.headers["content-type"] == "application/json"
        assert r.json()["error"].startswith("Nothing is indexed yet")


def test_failure_mid_stream_is_an_error_event(shared_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shared_engine.ask_stream

    def breaks_after_first_event(*args: Any, **kwargs: Any) -> Iterator[Any]:
        stream = real(*args, **kwargs)
        yield next(stream)
        raise RuntimeError("the answerer crashed")

    monkeypatch.setattr(shared_engine, "ask_stream", breaks_after_first_event)
    c = client(shared_engine)
    r = c.post("/api/ask", json={"question": KERRY}, headers={"Accept": "text/event-stream"})
    events = sse_events(r.text)
    assert [t for t, _ in events] == ["token", "error"]
    assert "the answerer crashed" in events[-1][1]["error"]
    # before any byte is sent, an unexpected failure is still a JSON error
    r = TestClient(c.app, base_url=BASE, client=LOCAL, raise_server_exceptions=False).post(
        "/api/ask", json={"question": KERRY})
    assert r.status_code == 500 and r.json()["error"].startswith("Something went wrong on the server")


# -- articles and the admin rule ------------------------------------------------------------------------
def test_upload_list_delete_from_loopback(engine: Engine) -> None:
    c = client(engine)
    files = [("files", ("kerry.txt", (SAMPLE_DIR / "russian-airstrikes-in-syria.txt").read_bytes())),
             ("files", ("notes.md", b"Budget vote\n\nThe council approved the budget on Monday, the mayor said.")),
             ("files", ("broken.txt", b""))]
    r = c.post("/api/articles", files=files)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["added"] == ["kerry", "notes"] and report["chunks"] > 0
    assert report["failed"] == [{"path": "broken.txt", "reason": report["failed"][0]["reason"]}]
    assert report["failed"][0]["reason"] == "empty file"
    again = c.post("/api/articles", files=files[:1]).json()
    assert again["unchanged"] == ["kerry"] and again["added"] == []
    assert {a["id"] for a in c.get("/api/articles").json()["articles"]} == {"kerry", "notes"}
    assert c.delete("/api/articles/notes").json() == {"removed": "notes"}
    r = c.delete("/api/articles/notes")
    assert r.status_code == 404 and r.json()["error"] == "No article with id 'notes' (see `newsrag list`)."
    r = c.post("/api/articles", files=[("files", ("x.pdf", b"%PDF-1.4"))])
    assert r.status_code == 422 and r.json()["error"].startswith("Nothing could be ingested")
    r = c.post("/api/articles", data={"note": "no files"})
    assert r.status_code == 400 and "multipart/form-data" in r.json()["error"]


def test_oversize_upload_is_413(engine: Engine) -> None:
    c = client(engine, max_file_mb=0.001)
    r = c.post("/api/articles", files=[("files", ("big.txt", b"Big\n\n" + b"word " * 400))])
    assert r.status_code == 413 and "the limit is 0.001 MB (NEWSRAG_MAX_FILE_MB)" in r.json()["error"]
    r = c.post("/api/articles", content=b"x" * 1_300_000, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "too large" in r.json()["error"]
    assert engine.articles() == []


def test_admin_token(engine: Engine) -> None:
    c = client(engine, peer=REMOTE, admin_token="s3cret")
    upload = [("files", ("a.txt", b"Title\n\nSome text about the harbour."))]
    r = c.post("/api/articles", files=upload)
    assert r.status_code == 401 and "Authorization: Bearer" in r.json()["error"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = c.post("/api/articles", files=upload, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403 and "token is wrong" in r.json()["error"]
    assert c.delete("/api/articles/a", headers={"Authorization": "Basic s3cret"}).status_code == 403
    r = c.post("/api/articles", files=upload, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.json()["added"] == ["a"]
    assert c.delete("/api/articles/a", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_without_a_token_writes_only_from_loopback(engine: Engine) -> None:
    upload = [("files", ("a.txt", b"Title\n\nSome text."))]
    for c, headers in [(client(engine, peer=REMOTE), {}),  # another machine
                       (client(engine), {"Host": "attacker.example:7860"}),  # DNS rebinding
                       (client(engine), {"Origin": WIDGET_SITE})]:  # a page in the browser
        for r in (c.post("/api/articles", files=upload, headers=headers), c.delete("/api/articles/a", headers=headers)):
            assert r.status_code == 403 and "NEWSRAG_ADMIN_TOKEN" in r.json()["error"], r.text
    assert engine.articles() == []
    assert client(engine).get("/api/articles", headers={"Host": "localhost"}).json() == {"articles": []}


# -- feedback ---------------------------------------------------------------------------------------------
def test_feedback_is_stored_and_exported(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    c = client(engine)
    r = c.post("/api/feedback", json={"question": KERRY, "answer_text": "He said ... [1]", "rating": "down",
                                      "comment": "wrong quote", "answer_id": "a1", "answer": {"text": "x"}})
    assert r.status_code == 201 and r.json() == {"id": 1}
    r = c.post("/api/feedback", json={"question": KERRY, "answer_text": "t", "rating": "meh"})
    assert r.status_code == 422 and "rating:" in r.json()["error"]
    store = FeedbackStore(feedback_path(engine.settings.data_dir))
    assert store.add("Q2", "A2", 1, "") == 2  # the Gradio UI passes +1/-1
    records = store.export()
    assert [(x["id"], x["rating"], x["comment"]) for x in records] == [(1, "down", "wrong quote"), (2, "up", None)]
    assert records[0]["answer"] == {"text": "x"} and records[0]["answer_id"] == "a1"

    from app.cli.main import main

    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(engine.settings.data_dir))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    monkeypatch.chdir(tmp_path)
    assert main(["feedback", "export", "--output", "fb.jsonl"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "fb.jsonl").read_text().splitlines()]
    assert [x["question"] for x in lines] == [KERRY, "Q2"]
    assert "wrote 2 feedback records" in capsys.readouterr().err


# -- browsers: CORS, deny by default ----------------------------------------------------------------------
def test_cors_allowed_origin(shared_engine: Engine) -> None:
    c = client(shared_engine)
    pre = c.options("/api/ask", headers={"Origin": WIDGET_SITE, "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == WIDGET_SITE
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"].lower()
    for accept in ("application/json", "text/event-stream"):
        r = c.post("/api/ask", json={"question": KERRY}, headers={"Origin": WIDGET_SITE, "Accept": accept})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == WIDGET_SITE
        assert r.headers["vary"] == "Origin"
    r = c.post("/api/feedback", json={"question": "q", "answer_text": "a", "rating": "up"},
               headers={"Origin": WIDGET_SITE})
    assert r.status_code == 201 and r.headers["access-control-allow-origin"] == WIDGET_SITE


@pytest.mark.parametrize("origins", ["", WIDGET_SITE])
def test_cors_other_origins_are_refused(shared_engine: Engine, origins: str) -> None:
    c = client(shared_engine, widget_origins=origins)
    evil = {"Origin": "https://evil.example"}
    pre = c.options("/api/ask", headers={**evil, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers
    for path, body in [("/api/ask", {"question": KERRY}),
                       ("/api/feedback", {"question": "q", "answer_text": "a", "rating": "up"})]:
        r = c.post(path, json=body, headers=evil)
        assert r.status_code == 403 and r.json() == {"error": "origin not allowed"}
        assert "access-control-allow-origin" not in r.headers
    # no Origin (curl, servers) and the server's own pages pass, without CORS headers
    for headers in ({}, {"Origin": BASE}):
        r = c.post("/api/ask", json={"question": KERRY}, headers=headers)
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    assert c.get("/widget.js", headers=evil).status_code == 200  # the script itself loads anywhere


# -- rate limit -------------------------------------------------------------------------------------------
def test_rate_limit(shared_engine: Engine) -> None:
    c = client(shared_engine, rate_limit_per_minute=2)
    assert c.post("/api/ask", json={"question": KERRY}).status_code == 200
    chat = {"model": "newsrag", "messages": [{"role": "user", "content": KERRY}]}
    assert c.post("/v1/chat/completions", json=chat).status_code == 200
    too_many = "Too many questions: please wait a minute and try again."
    openai_shape = {"message": too_many, "type": "rate_limit_error", "param": None, "code": "rate_limit_exceeded"}
    for r, body in ((c.post("/api/ask", json={"question": KERRY}), {"error": too_many}),
                    (c.post("/v1/chat/completions", json=chat), {"error": openai_shape})):  # what OpenAI clients parse
        assert r.status_code == 429 and r.json() == body
        assert 1 <= int(r.headers["retry-after"]) <= 60
    other = TestClient(c.app, base_url=BASE, client=("127.0.0.2", 1))  # another client is not affected
    assert other.post("/api/ask", json={"question": KERRY}).status_code == 200
    r = c.post("/api/ask", json={"question": KERRY}, headers={"Origin": WIDGET_SITE})
    assert r.status_code == 429 and r.headers["access-control-allow-origin"] == WIDGET_SITE
    assert "retry-after" in r.headers["access-control-expose-headers"].lower()


# -- OpenAI-compatible --------------------------------------------------------------------------------------
def test_chat_completions_plain_and_streamed(shared_engine: Engine) -> None:
    c = client(shared_engine)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": KERRY}]
    body = c.post("/v1/chat/completions", json={"model": "newsrag", "messages": messages}).json()
    content = body["choices"][0]["message"]["content"]
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "stop"
    assert content.startswith(body["newsrag"]["text"]) and "\n\nSources:\n[1] " in content
    assert body["newsrag"]["citations"][0]["quote"] in content.replace("\n    ", " ")

    r = c.post("/v1/chat/completions", json={"model": "newsrag", "messages": messages, "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    blocks = [b.removeprefix("data: ") for b in r.text.strip().split("\n\n")]
    assert blocks[-1] == "[DONE]"
    chunks = [json.loads(b) for b in blocks[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(ch["object"] == "chat.completion.chunk" for ch in chunks)
    assert "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks) == content
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["newsrag"]["citations"]

    assert c.get("/v1/models").json()["data"][0]["id"] == "newsrag"
    r = c.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": messages})
    assert r.status_code == 404 and "'newsrag'" in r.json()["error"]["message"]
    assert r.json()["error"]["type"] == "not_found_error"
    r = c.post("/v1/chat/completions", json={"model": "newsrag", "messages": messages[:1]})
    assert r.status_code == 400 and "role 'user'" in r.json()["error"]["message"]
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_openai_client_against_a_live_server(shared_engine: Engine) -> None:
    from openai import OpenAI, UnprocessableEntityError

    with uvicorn_server(create_app(shared_engine, shared_engine.settings)) as url:
        ai = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)
        assert [m.id for m in ai.models.list()] == ["newsrag"]
        history = [{"role": "user", "content": KERRY}, {"role": "assistant", "content": "Kerry said ... [1]"},
                   {"role": "user", "content": "And Lavrov?"}]
        done = ai.chat.completions.create(model="newsrag", messages=history)  # type: ignore[arg-type]
        extra = done.model_extra or {}
        assert "Lavrov" in extra["newsrag"]["rewritten_query"]
        assert done.choices[0].message.content
        parts = []
        for chunk in ai.chat.completions.create(model="newsrag", messages=history[:1], stream=True):  # type: ignore
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
        text = "".join(parts)
        assert "Kerry" in text and "Sources:\n[1]" in text
        with pytest.raises(UnprocessableEntityError):
            ai.chat.completions.create(model="newsrag", messages=[])


# -- ops, widget, docs, serve ----------------------------------------------------------------------------
def test_health_ready_widget_docs(shared_engine: Engine, engine: Engine) -> None:
    c = client(shared_engine)
    assert c.get("/healthz").json() == {"status": "ok"}
    ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["articles"] == 1 and ready.json()["embedder"] == "hash"
    js = c.get("/widget.js")
    assert js.status_code == 200 and js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "max-age" in js.headers["cache-control"] and js.headers["etag"]
    assert "attachShadow" in js.text and "innerHTML" not in js.text
    docs = c.get("/docs").text
    assert "/docs-static/swagger-ui-bundle.js" in docs and "cdn" not in docs  # works offline
    assert c.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    paths = c.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/articles", "/api/feedback", "/v1/chat/completions", "/readyz"} <= set(paths)

    broken = client(engine)
    engine.manifest.db.close()  # the store is gone: not ready, and says why
    r = broken.get("/readyz")
    assert r.status_code == 503 and r.json()["error"].startswith("not ready: ")
    assert broken.get("/healthz").status_code == 200


def test_serve_reports_a_busy_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli.main import main

    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["serve", "--port", str(busy.getsockname()[1])]) == 2
    assert "pass --port N or set NEWSRAG_PORT" in capsys.readouterr().err


# -- with the LLM answerer (real MiniLM, a scripted OpenAI-compatible server): verified text replaces the stream
@pytest.mark.slow
def test_llm_answer_is_checked_after_streaming(real_engine: Engine, fake_llm: Any) -> None:
    from tests.fake_openai import Reply

    e = real_engine
    settings = e.settings.model_copy(update={"llm_base_url": fake_llm.base_url, "llm_model": "fake-model",
                                             "llm_timeout": 5.0, "answerer": "llm"})
    engine = Engine(settings, e.embedder, e.manifest, e.store, e.keyword, e.indexer, e.retriever)
    n = next(i for i, p in enumerate(engine.retriever.retrieve(KERRY, settings.top_k), 1)
             if "cannot be defeated" in p.text)
    script = (f"Kerry said the militant group “cannot be defeated as long as Bashar al-Assad remains president of "
              f"Syria” [{n}]. Kerry said Russia would withdraw 5,000 troops by March 2027 [{n}].")
    c = TestClient(create_app(engine, settings), base_url=BASE, client=LOCAL)

    fake_llm.push(Reply(content=script))
    events = sse_events(c.post("/api/ask", json={"question": KERRY}, headers={"Accept": "text/event-stream"}).text)
    verdicts = [d["supported"] for t, d in events if t == "sentence_verified"]
    assert verdicts == [True, False] and "withdraw" not in events[-1][1]["answer"]["text"]

    fake_llm.push(Reply(content=script))
    r = c.post("/v1/chat/completions", json={"model": "newsrag", "stream": True,
                                              "messages": [{"role": "user", "content": KERRY}]})
    chunks = [json.loads(b.removeprefix("data: ")) for b in r.text.strip().split("\n\n")[:-1]]
    content = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks)
    streamed, checked = content.split("\n\nChecked against the sources:\n")
    assert "withdraw" in streamed and "withdraw" not in checked
    assert checked.startswith(chunks[-1]["newsrag"]["text"]) and "\n\nSources:\n[1] " in checked
