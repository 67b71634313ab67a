"""The real local model server answers the `openai` client, plain and streaming (protocol only)."""

from __future__ import annotations

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.local_llm import LocalLLM

pytestmark = [pytest.mark.slow, pytest.mark.llm]

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
]


def _client(llm: LocalLLM) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.base_url, api_key="not-needed", max_retries=0, timeout=60)


def test_models_lists_alias(local_llm: LocalLLM) -> None:
    assert [m.id for m in _client(local_llm).models.list()] == [local_llm.model]


def test_plain_completion(local_llm: LocalLLM) -> None:
    resp = _client(local_llm).chat.completions.create(
        model=local_llm.model, messages=MESSAGES, temperature=0, seed=0, max_tokens=32
    )
    text = resp.choices[0].message.content
    assert isinstance(text, str) and text.strip()
    assert resp.choices[0].finish_reason in {"stop", "length"}
    assert resp.usage is not None and resp.usage.completion_tokens > 0


def test_streamed_completion(local_llm: LocalLLM) -> None:
    stream = _client(local_llm).chat.completions.create(
        model=local_llm.model, messages=MESSAGES, temperature=0, seed=0, max_tokens=32, stream=True
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1
    assert "".join(pieces).strip()
