"""The LLM answerer: any OpenAI-compatible chat endpoint through the `openai` client, streamed, with every
sentence verified against the passages it cites (app/answering/support.py). When the endpoint is down, slow,
rate-limited, busy or returns garbage, the extractive answer is shown instead, with a notice saying why. Each call is
bounded (a wall-clock deadline, NEWSRAG_LLM_MAX_TOKENS, calls at once): app/answering/llm_call.py."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterator
from contextlib import closing
from typing import Any

from app.answering.base import events_for, refusal
from app.answering.claims import SentenceChecker, assemble, split_claims
from app.answering.extractive import ExtractiveAnswerer
from app.answering.llm_call import CutOff, Deadline, Endpoint, Saturated, endpoint
from app.answering.prompts import Prompt, load_prompt
from app.answering.support import HeuristicJudge, Judge
from app.errors import ConfigError, NewsragError
from app.settings import Settings
from app.types import Answer, CitationEvent, DoneEvent, Event, NoticeEvent, Passage, SentenceEvent, TokenEvent
from index.embedding.base import Embedder

log = logging.getLogger(__name__)
REFUSAL_TOKEN = "NOT_IN_ARTICLES"


def check_configured(settings: Settings) -> None:
    """Say exactly which setting is missing."""
    missing = [name for name, value in (("NEWSRAG_LLM_BASE_URL", settings.llm_base_url),
                                        ("NEWSRAG_LLM_MODEL", settings.llm_model)) if not value]
    if missing:
        raise ConfigError(f"The llm answerer needs {' and '.join(missing)} (an OpenAI-compatible endpoint, e.g. "
                          "NEWSRAG_LLM_BASE_URL=http://127.0.0.1:8080/v1); see .env.example. "
                          "Without them, use --answerer extractive.")


def llm_client(settings: Settings) -> Any:
    """The configured (blocking) `openai` client, for the LLM judge of `newsrag eval`."""
    check_configured(settings)
    from openai import OpenAI  # the openai client takes ~1-2 s to import: only when an LLM is configured

    return OpenAI(base_url=settings.llm_base_url, api_key=settings.llm_api_key or "not-needed",
                  timeout=settings.llm_timeout, max_retries=0)


def llm_endpoint(settings: Settings) -> Endpoint:
    """The bounded endpoint the answerer and the rewriter call (app/answering/llm_call.py)."""
    check_configured(settings)
    return endpoint(settings)


def describe(exc: BaseException, timeout: float) -> str:
    import openai  # only to classify an LLM failure (the client is imported by then)

    if isinstance(exc, CutOff | Deadline | Saturated):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError):
        return f"no reply within {timeout:g} s"
    if isinstance(exc, openai.APIConnectionError):
        cause = str(exc.__cause__ or exc).lower()
        return "connection refused" if "refused" in cause or "connect" in cause else "connection failed"
    if isinstance(exc, openai.AuthenticationError):
        return "authentication failed (check NEWSRAG_LLM_API_KEY)"
    if isinstance(exc, openai.RateLimitError):
        return "rate-limited by the endpoint"
    if isinstance(exc, openai.APIStatusError):
        return f"the endpoint returned HTTP {exc.status_code}"
    return "the endpoint returned a malformed response"


def format_passages(passages: list[Passage], layout: str = "tagged") -> str:
    """Numbered passages for the prompt. "tagged": inside <passage> delimiters with title and date (delimiter
    look-alikes in article text are neutralised); "numbered": `[n] text` only, the shortest form, for small models
    whose prompt processing is the cost of an answer."""
    if layout == "numbered":
        return "\n\n".join(f"[{n}] {' '.join(p.text.split())}" for n, p in enumerate(passages, 1))
    blocks = []
    for n, p in enumerate(passages, 1):
        text = re.sub(r"</?\s*passage", "(passage", p.text, flags=re.I)
        head = f'<passage n="{n}" title="{p.title.replace(chr(34), chr(39))}" date="{p.date or "unknown"}">'
        blocks.append(f"{head}\n{text}\n</passage>")
    return "\n\n".join(blocks)


class LLMAnswerer:
    name = "llm"
    cite_uncited = False  # a sentence without [n] is withdrawn (see SentenceChecker)

    def __init__(self, llm: Endpoint | None, settings: Settings, judge: Judge, fallback: ExtractiveAnswerer,
                 prompt: Prompt | None = None):
        self.llm, self.settings, self.fallback = llm, settings, fallback
        self.prompt = prompt or load_prompt("answer", 1)
        self.judge = judge

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> LLMAnswerer:
        return cls(llm_endpoint(settings), settings, HeuristicJudge(embedder),
                   ExtractiveAnswerer(embedder, settings.max_sentences, settings.min_support))

    def connect(self) -> Endpoint:
        """The endpoint to call for this answer (the local answerer starts its model server here)."""
        if self.llm is None:
            raise ConfigError("no LLM endpoint is configured")
        return self.llm

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        *_, done = self.stream(question, passages)
        assert isinstance(done, DoneEvent), "a stream always ends with done"
        return done.answer

    def stream(self, question: str, passages: list[Passage]) -> Iterator[Event]:
        if not passages:
            yield from events_for(refusal(question, "nothing relevant was retrieved.", self.name, passages))
            return
        try:
            llm = self.connect()
        except NewsragError as exc:  # e.g. the local model server would not start: answer with quotes, say why
            log.warning("LLM endpoint unavailable: %s", exc)
            yield from self._fall_back(question, passages, str(exc), reset=False)
            return
        values = {"question": question, "passages": format_passages(passages, self.prompt.passages),
                  "today": dt.date.today().isoformat()}
        messages = self.prompt.render(**{k: v for k, v in values.items() if k in self.prompt.variables})
        text, checked, first_token, t0 = "", 0, None, time.perf_counter()
        # one per answer: it remembers which span supports which claim
        checker = SentenceChecker(self.judge, self.cite_uncited)
        deltas = llm.stream(self.settings.llm_max_tokens, model=self.settings.llm_model, messages=messages,
                            seed=self.settings.llm_seed, temperature=self.settings.llm_temperature)
        try:
            with closing(deltas):
                for delta in deltas:
                    if first_token is None:
                        first_token = round((time.perf_counter() - t0) * 1000, 1)
                    text += delta
                    yield TokenEvent(text=delta)
                    claims = split_claims(text)[:-1]  # the last one may still be growing
                    for i in range(checked, len(claims)):
                        yield self._verified(checker, i, claims[i], passages)
                    checked = max(checked, len(claims))
        except Exception as exc:  # the endpoint's failure must never reach the user as a traceback
            reason = describe(exc, self.settings.llm_timeout)
            log.warning("LLM call failed (%s): %r", reason, exc)
            yield from self._fall_back(question, passages, reason, reset=bool(text))
            return
        claims = split_claims(text)
        for i in range(checked, len(claims)):
            yield self._verified(checker, i, claims[i], passages)
        answer = self._final(question, passages, text, checker)
        answer.timings_ms["verify"] = round(checker.elapsed_ms, 1)
        if first_token is not None:  # from the answer stage's start to the model's first token
            answer.timings_ms["first_token"] = first_token
        for c in answer.citations:
            yield CitationEvent(citation=c)
        yield DoneEvent(answer=answer)

    def _verified(self, checker: SentenceChecker, index: int, claim: str, passages: list[Passage]) -> SentenceEvent:
        return SentenceEvent(index=index, verdict=checker.check(claim, passages))

    def _final(self, question: str, passages: list[Passage], text: str, checker: SentenceChecker) -> Answer:
        meta = {"prompt_id": self.prompt.id, "prompt_version": self.prompt.version}
        stripped = text.strip()
        if not stripped or stripped.startswith(REFUSAL_TOKEN):
            reason = stripped.split(":", 1)[1].strip() if ":" in stripped else "the model found no answer."
            return refusal(question, reason or "the model found no answer.", self.name, passages).model_copy(
                update=meta)
        answer = assemble(question, passages, split_claims(text), checker, self.settings.drop_unsupported,
                          self.name)
        return answer.model_copy(update=meta)

    def _fall_back(self, question: str, passages: list[Passage], reason: str, reset: bool) -> Iterator[Event]:
        notice = f"LLM unavailable: {reason}; showing quotes instead"
        yield NoticeEvent(text=notice, reset=reset)
        answer = self.fallback.answer(question, passages)
        answer.notices.append(notice)
        yield from events_for(answer)
