"""The LLM answerer end to end against a real local model server (llama.cpp + SmolLM2-135M).

The model is far too small to answer well; this asserts the protocol, streaming and verification
behaviour: whatever it writes is streamed, every sentence gets a verdict, and only verified sentences
(with exact quotes) reach the final answer, or the answer is an explained refusal."""

from __future__ import annotations

import pytest

from app.engine import Engine
from app.types import Answer, payload

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def test_local_model_answer_is_streamed_and_verified(real_engine: Engine, local_llm) -> None:  # type: ignore[no-untyped-def]
    settings = real_engine.settings.model_copy(update={
        "llm_base_url": local_llm.base_url, "llm_model": local_llm.model, "llm_timeout": 120.0,
        "llm_max_tokens": 48, "top_k": 2})
    e = real_engine
    engine = Engine(settings, e.embedder, e.manifest, e.store, e.keyword, e.indexer, e.retriever)
    events = list(engine.ask_stream("What did Kerry say about Assad?", answerer="llm"))
    tokens = [payload(ev)["text"] for ev in events if ev.type == "token"]
    answer = Answer.model_validate(payload(events[-1])["answer"])
    print(f"\nSmolLM2 wrote: {''.join(tokens)!r}\nverdicts: {[(s.supported, s.reason) for s in answer.sentences]}"
          f"\nfinal: refused={answer.refused} text={answer.text!r} timings={answer.timings_ms}")
    assert answer.answerer == "llm", answer.notices  # the server answered: no fallback
    assert len(tokens) > 1, "streamed in pieces"
    assert answer.sentences, "every sentence got a verdict"
    assert (answer.prompt_id, answer.prompt_version) == ("answer", "1")
    for c in answer.citations:
        assert engine.article(c.article_id).text[c.start:c.end] == c.quote
    if answer.refused:
        assert answer.refusal_reason
    else:
        assert all(s.supported for s in answer.sentences if any(f"[{n}]" in answer.text for n in s.citations))
