"""The scripted fake server speaks the protocol well enough for the real `openai` client."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.fake_openai import DEFAULT_CONTENT, FakeOpenAI, Reply

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What happened?"}]


def _client(fake: FakeOpenAI, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="test-key", max_retries=0, timeout=timeout)


def test_plain_reply(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("The council approved the budget [1]."))
    resp = _client(fake_llm).chat.completions.create(model="m", messages=MESSAGES, temperature=0)
    assert resp.choices[0].message.content == "The council approved the budget [1]."
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None and resp.usage.completion_tokens == 6
    assert fake_llm.requests[0]["messages"] == MESSAGES
    assert fake_llm.requests[0]["temperature"] == 0


def test_streamed_reply_is_reassembled(fake_llm: FakeOpenAI) -> None:
    text = "A longer answer, streamed in small pieces [2]."
    fake_llm.push(Reply(text, chunk_size=5))
    stream = _client(fake_llm).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content or "" for c in chunks]
    assert "".join(pieces) == text
    assert sum(1 for p in pieces if p) == -(-len(text) // 5)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert fake_llm.requests[0]["stream"] is True


def test_stream_include_usage(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("one two three"))
    stream = _client(fake_llm).chat.completions.create(
        model="m",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    last = list(stream)[-1]
    assert last.choices == [] and last.usage is not None and last.usage.completion_tokens == 3


def test_queue_order_then_default(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("first"), Reply("second"))
    client = _client(fake_llm)
    got = [client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content for _ in range(3)]
    assert got == ["first", "second", DEFAULT_CONTENT]
    assert len(fake_llm.requests) == 3


def test_constructor_replies_and_models() -> None:
    with FakeOpenAI([Reply("scripted")]) as fake:
        client = _client(fake)
        assert [m.id for m in client.models.list()] == ["fake-model"]
        resp = client.chat.completions.create(model="m", messages=MESSAGES)
        assert resp.choices[0].message.content == "scripted"


def test_500_is_internal_server_error(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply(status=500))
    with pytest.raises(openai.InternalServerError) as exc:
        _client(fake_llm).chat.completions.create(model="m", messages=MESSAGES)
    assert exc.value.status_code == 500
    assert isinstance(exc.value.body, dict) and "Scripted error" in exc.value.body["message"]


def test_429_is_rate_limit_error(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply(status=429))
    with pytest.raises(openai.RateLimitError):
        _client(fake_llm).chat.completions.create(model="m", messages=MESSAGES, stream=True)


def test_hang_past_client_timeout(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("too late", hang=3.0))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        _client(fake_llm, timeout=0.5).chat.completions.create(model="m", messages=MESSAGES)
    assert time.monotonic() - started < 2.5
    # the server is still usable afterwards
    fake_llm.push(Reply("on time"))
    resp = _client(fake_llm).chat.completions.create(model="m", messages=MESSAGES)
    assert resp.choices[0].message.content == "on time"


# openai 3.57 lets a bare json.JSONDecodeError (a ValueError) escape for a malformed 200 body, plain or streamed:
# callers must catch ValueError as well as openai.APIError.
def test_malformed_body(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply(malformed=True))
    with pytest.raises((openai.APIError, json.JSONDecodeError)):
        _client(fake_llm).chat.completions.create(model="m", messages=MESSAGES)


def test_malformed_stream(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("partial text", malformed=True))
    stream = _client(fake_llm).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    with pytest.raises((openai.APIError, json.JSONDecodeError)):
        list(stream)


def test_plain_http_client_sees_openai_shapes(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply(status=503))
    r = httpx.post(f"{fake_llm.base_url}/chat/completions", json={"model": "m", "messages": MESSAGES})
    assert r.status_code == 503 and r.json()["error"]["type"] == "server_error"
    assert httpx.get(f"{fake_llm.base_url}/nope").status_code == 404


def test_keepalive_holds_a_stream_open_without_content(fake_llm: FakeOpenAI) -> None:
    """SSE comments every 0.2 s for 1 s: a 0.5 s per-read timeout never fires, and no chunk carries them."""
    fake_llm.push(Reply("late", keepalive=0.2, keepalive_for=1.0))
    started = time.monotonic()
    stream = _client(fake_llm, timeout=0.5).chat.completions.create(model="m", messages=MESSAGES, stream=True)
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert "".join(pieces) == "late" and time.monotonic() - started >= 1.0


def test_keepalive_plain_reply(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("late", keepalive=0.2, keepalive_for=1.0))
    started = time.monotonic()
    resp = _client(fake_llm, timeout=0.5).chat.completions.create(model="m", messages=MESSAGES)
    assert resp.choices[0].message.content == "late" and time.monotonic() - started >= 1.0


def test_one_word_every_interval_and_flood(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("one two three", every=0.2, by_words=True), Reply("start", flood=1000))
    client = _client(fake_llm, timeout=0.5)
    started = time.monotonic()
    pieces = [c.choices[0].delta.content for c in client.chat.completions.create(
        model="m", messages=MESSAGES, stream=True) if c.choices and c.choices[0].delta.content]
    assert pieces == ["one", " two", " three"] and time.monotonic() - started >= 0.6
    pieces = [c.choices[0].delta.content for c in client.chat.completions.create(
        model="m", messages=MESSAGES, stream=True) if c.choices and c.choices[0].delta.content]
    assert len(pieces) == 1001 and pieces[0] == "start" and set(pieces[1:]) == {" word"}


def test_a_client_leaving_is_counted(fake_llm: FakeOpenAI) -> None:
    fake_llm.push(Reply("x", keepalive=0.05, keepalive_for=30.0))
    with httpx.stream("POST", f"{fake_llm.base_url}/chat/completions",
                      json={"model": "m", "messages": MESSAGES, "stream": True}) as r:
        next(r.iter_bytes())
    deadline = time.monotonic() + 5
    while fake_llm.hangups == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_llm.hangups == 1
