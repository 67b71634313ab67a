"""The /v1 face as OpenAI clients see it: the real `openai` client against a live uvicorn server on loopback (usage,
max_tokens, n, stream_options, annotations, errors in OpenAI's shape from every layer), plus the schema in /docs,
HEAD /widget.js and the access log."""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.engine import Engine
from app.web import tokens
from app.web.api import create_app
from app.web.startup import Startup
from tests.conftest import sample_engine_in
from tests.live_server import uvicorn_server

KERRY = "What did Kerry say about Assad?"
ASK = [{"role": "user", "content": KERRY}]


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return sample_engine_in(tmp_path_factory.mktemp("v1") / "data")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def live(shared_engine: Engine) -> Iterator[str]:
    settings = shared_engine.settings.model_copy(update={"max_request_mb": 0.01})
    with uvicorn_server(create_app(shared_engine, settings)) as url:
        yield url


def ai(url: str, **options: Any) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30, **options)


def test_usage_counts_the_tokens_read_and_written(live: str, shared_engine: Engine) -> None:
    done = ai(live).chat.completions.create(model="newsrag", messages=ASK)
    content = done.choices[0].message.content
    answer = (done.model_extra or {})["newsrag"]
    read = KERRY + "".join("\n" + p["text"] for p in answer["passages"])
    assert done.usage.prompt_tokens == tokens.count(read) > tokens.count(KERRY)
    assert done.usage.completion_tokens == tokens.count(content) > 0
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    assert len(content) / 8 < done.usage.completion_tokens < len(content) / 2  # tokens, not characters or words
    assert tokens.tokenizer() == "cl100k_base"  # the file llama-index ships: no download
    assert done.system_fingerprint == shared_engine.settings.fingerprint()


def test_max_tokens_cuts_the_content_and_says_so(live: str) -> None:
    client = ai(live)
    full = client.chat.completions.create(model="newsrag", messages=ASK).choices[0].message.content
    cut = client.chat.completions.create(model="newsrag", messages=ASK, max_tokens=7)
    text = cut.choices[0].message.content
    assert cut.choices[0].finish_reason == "length" and full.startswith(text) and len(text) < len(full)
    assert cut.usage.completion_tokens <= 7
    parts, finish = [], None
    for chunk in client.chat.completions.create(model="newsrag", messages=ASK, stream=True,
                                                max_completion_tokens=7):
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
    assert "".join(parts) == text and finish == "length"
    roomy = client.chat.completions.create(model="newsrag", messages=ASK, max_tokens=4096)
    assert roomy.choices[0].finish_reason == "stop" and roomy.choices[0].message.content == full


def test_stream_options_include_usage_adds_the_usage_chunk(live: str) -> None:
    client = ai(live)
    chunks = list(client.chat.completions.create(model="newsrag", messages=ASK, stream=True,
                                                 stream_options={"include_usage": True}))
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None and last.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert last.usage.completion_tokens == tokens.count(content)
    plain = list(client.chat.completions.create(model="newsrag", messages=ASK, stream=True))
    assert plain[-1].choices and all(c.usage is None for c in plain)


def test_parameters_newsrag_cannot_honour_are_refused_by_name(live: str) -> None:
    from openai import BadRequestError, UnprocessableEntityError

    client = ai(live)
    with pytest.raises(BadRequestError) as n:
        client.chat.completions.create(model="newsrag", messages=ASK, n=2)
    assert n.value.param == "n" and "one answer per question" in str(n.value)
    with pytest.raises(BadRequestError) as opts:
        client.chat.completions.create(model="newsrag", messages=ASK, stream_options={"include_usage": True})
    assert opts.value.param == "stream_options" and "only allowed when stream is true" in str(opts.value)
    with pytest.raises(UnprocessableEntityError) as bad:
        client.chat.completions.create(model="newsrag", messages=ASK, max_tokens=0)
    assert bad.value.param == "max_tokens"
    # sampling parameters are accepted and change nothing
    same = client.chat.completions.create(model="newsrag", messages=ASK, temperature=1.5, top_p=0.5, seed=7)
    assert same.choices[0].message.content == client.chat.completions.create(
        model="newsrag", messages=ASK).choices[0].message.content


def test_citations_are_url_citation_annotations(live: str) -> None:
    client = ai(live)
    done = client.chat.completions.create(model="newsrag", messages=ASK)
    message, answer = done.choices[0].message, (done.model_extra or {})["newsrag"]
    assert message.annotations and len(message.annotations) == len(re.findall(r"\[\d+\]", answer["text"]))
    for note in message.annotations:
        cite = note.url_citation
        n = int(message.content[cite.start_index:cite.end_index].strip("[]"))
        citation = next(c for c in answer["citations"] if c["n"] == n)
        assert cite.title == citation["title"] and cite.end_index <= len(answer["text"])
        article = httpx.get(cite.url).json()  # the article has no URL of its own: this server's copy
        assert cite.url == f"{live}/api/articles/{citation['article_id']}"
        assert article["text"][citation["start"]:citation["end"]] == citation["quote"]
    streamed = list(client.chat.completions.create(model="newsrag", messages=ASK, stream=True))
    content = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    final = streamed[-1].choices[0].delta.model_extra or {}
    assert [(a["url_citation"]["start_index"], a["url_citation"]["end_index"]) for a in final["annotations"]] == \
        [(a.url_citation.start_index, a.url_citation.end_index) for a in message.annotations]
    assert content == message.content


def test_every_error_under_v1_has_openai_shape(live: str, shared_engine: Engine) -> None:
    """Each layer that can refuse a /v1 request: the origin policy, the body cap, the router, the rate limit and
    the start-up gate. OpenAI's client puts the message in the exception only for its own shape."""
    import openai

    cases = [(ai(live, default_headers={"Origin": "https://evil.example"}), openai.PermissionDeniedError,
              "permission_error", "origin not allowed"),
             (ai(live), openai.APIStatusError, "invalid_request_error", "NEWSRAG_MAX_REQUEST_MB")]
    for client, error, kind, says in cases:
        with pytest.raises(error) as exc:
            messages = ASK if kind == "permission_error" else [{"role": "user", "content": "x" * 20_000}]
            client.chat.completions.create(model="newsrag", messages=messages)
        assert exc.value.type == kind and says in str(exc.value), (exc.value, exc.value.body)
    with pytest.raises(openai.NotFoundError) as missing:
        ai(live).embeddings.create(model="newsrag", input="x")
    assert missing.value.type == "not_found_error" and "/docs" in str(missing.value)

    limited = shared_engine.settings.model_copy(update={"rate_limit_per_minute": 1})
    starting = Startup()
    with uvicorn_server(create_app(shared_engine, limited)) as url, \
            uvicorn_server(create_app(shared_engine, limited, startup=starting)) as cold:
        ai(url).chat.completions.create(model="newsrag", messages=ASK)
        with pytest.raises(openai.RateLimitError) as busy:
            ai(url).chat.completions.create(model="newsrag", messages=ASK)
        assert busy.value.code == "rate_limit_exceeded" and "Too many questions" in str(busy.value)
        with pytest.raises(openai.InternalServerError) as warming:
            ai(cold).chat.completions.create(model="newsrag", messages=ASK)
        assert warming.value.code == "service_unavailable" and "starting" in str(warming.value)


def test_the_docs_describe_every_response(shared_engine: Engine) -> None:
    spec = TestClient(create_app(shared_engine, shared_engine.settings)).get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"ErrorBody", "OpenAIErrorBody", "ChatCompletion", "Usage", "Annotation", "ModelList"} <= set(schemas)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert len(op.get("tags", [])) == 1, (path, method, op.get("tags"))  # listed once in /docs
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    want = "OpenAIErrorBody" if path.startswith("/v1/") else "ErrorBody"
                    assert ref.endswith("/" + want), (path, method, status, ref)
    chat = spec["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert chat["application/json"]["schema"]["$ref"].endswith("/ChatCompletion")
    assert spec["paths"]["/v1/models"]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"].endswith("/ModelList")


def test_head_widget_js(shared_engine: Engine) -> None:
    c = TestClient(create_app(shared_engine, shared_engine.settings))
    head, get = c.head("/widget.js"), c.get("/widget.js")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == "text/javascript; charset=utf-8"
    assert head.headers["content-length"] == str(len(get.content)) and head.headers["etag"] == get.headers["etag"]


def test_every_request_is_logged_without_its_query_or_body(shared_engine: Engine) -> None:
    from app.web import access_log

    seen = io.StringIO()
    handler = logging.StreamHandler(seen)
    access_log.log.addHandler(handler)
    level = access_log.log.level
    access_log.log.setLevel(logging.INFO)
    try:
        c = TestClient(create_app(shared_engine, shared_engine.settings), client=("127.0.0.9", 5))
        c.get("/healthz?token=s3cret")
        c.post("/api/ask", json={"question": KERRY}, headers={"Accept": "text/event-stream"})
        c.post("/api/ask", json={"question": ""})
    finally:
        access_log.log.removeHandler(handler)
        access_log.log.setLevel(level)
    lines = seen.getvalue().splitlines()
    assert len(lines) == 3 and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.9 \"", x) for x in lines)
    assert '"GET /healthz" 200 ' in lines[0] and "s3cret" not in seen.getvalue()
    assert re.search(r'"POST /api/ask" 200 [1-9]\d+ B \d+ ms$', lines[1])  # a stream: logged when it ended
    assert '"POST /api/ask" 400 ' in lines[2] and KERRY not in seen.getvalue()


@pytest.mark.slow
def test_newsrag_serve_writes_the_access_log(tmp_path: Any) -> None:
    from tests.conftest import SAMPLE_DIR, make_settings
    from tests.loadgen import newsrag_serve

    data = tmp_path / "data"
    from app.engine import build_engine

    assert build_engine(make_settings(data)).ingest([SAMPLE_DIR]).added
    with newsrag_serve(data, {}) as server:
        httpx.get(server.url + "/api/articles")
        deadline = time.monotonic() + 10  # the line is written as the response ends, a moment after the client has it
        while '"GET /api/articles" 200' not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = server.log.read_text()
    assert '"GET /readyz" 200' in log and '"GET /api/articles" 200' in log
    with newsrag_serve(data, {"NEWSRAG_ACCESS_LOG": "false"}) as server:
        httpx.get(server.url + "/api/articles")
        assert '"GET /api/articles"' not in server.log.read_text()
