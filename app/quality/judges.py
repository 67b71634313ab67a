"""Judges for the eval: the offline `HeuristicJudge` (app/answering/support.py, the answer chain's own) or an LLM judge
through any OpenAI-compatible endpoint (prompts/judge.v1.md). Both speak `app.answering.support.Judge`.

`CountingJudge` wraps either: it remembers verdicts (the same claim and evidence are judged once per run)
and turns any exception or malformed reply into a `JudgeFailure` that the caller counts, never a verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.answering.llm import llm_client
from app.answering.prompts import Prompt, load_prompt
from app.answering.support import HeuristicJudge, Judge, Verdict
from index.registry import Registry

if TYPE_CHECKING:
    from app.settings import Settings
    from index.embedding.base import Embedder

_LABEL = re.compile(r"^\W*(SUPPORTED|NOT[ _]SUPPORTED|UNSUPPORTED)\b\W*(.*)$", re.I | re.S)


class JudgeError(Exception):
    """The judge answered, but not in the format the prompt asks for."""


def parse_verdict(reply: str | None) -> Verdict:
    """'SUPPORTED: reason' or 'NOT_SUPPORTED: reason' on the first non-empty line; anything else is malformed."""
    lines = [line for line in (reply or "").splitlines() if line.strip()]
    m = _LABEL.match(lines[0]) if lines else None
    if not m:
        raise JudgeError(f"malformed judge reply: {(reply or '')[:80]!r}")
    supported = m.group(1).upper() == "SUPPORTED"
    return Verdict(supported, 1.0 if supported else 0.0, m.group(2).strip()[:200] or m.group(1).upper())


class LLMJudge:
    name = "llm"

    def __init__(self, client: Any, model: str, prompt: Prompt | None = None, temperature: float = 0.0,
                 seed: int = 0, max_tokens: int = 80):
        self.client, self.model = client, model
        self.prompt = prompt or load_prompt("judge", 1)
        self.temperature, self.seed, self.max_tokens = temperature, seed, max_tokens

    def judge(self, sentence: str, passage: str) -> Verdict:
        reply = self.client.chat.completions.create(
            model=self.model, messages=self.prompt.render(claim=sentence, passage=passage),
            temperature=self.temperature, seed=self.seed, max_tokens=self.max_tokens)
        return parse_verdict(reply.choices[0].message.content)


@dataclass
class JudgeFailure:
    reason: str


class CountingJudge:
    """Calls the judge once per (claim, evidence); failures come back as `JudgeFailure` and are counted."""

    def __init__(self, judge: Judge, name: str):
        self.inner, self.name = judge, name
        self.calls = self.failures = 0
        self._memo: dict[tuple[str, str], Verdict | JudgeFailure] = {}

    def __call__(self, claim: str, evidence: str) -> Verdict | JudgeFailure:
        key = (claim, evidence)
        if key not in self._memo:
            self.calls += 1
            try:
                verdict = self.inner.judge(claim, evidence)
                if not isinstance(verdict, Verdict) or not isinstance(verdict.supported, bool):
                    raise JudgeError(f"judge returned {verdict!r}, not a Verdict")
                self._memo[key] = verdict
            except Exception as exc:  # any failure of the judge is data for the report, never a crash or a 0
                self.failures += 1
                self._memo[key] = JudgeFailure(f"{type(exc).__name__}: {str(exc)[:160]}")
        return self._memo[key]


JUDGES = Registry("judge", "newsrag eval --judge")
JUDGES.add("offline", "app.quality.judges:offline_judge", "the heuristic judge the answer chain uses (default)")
JUDGES.add("llm", "app.quality.judges:llm_judge", "an OpenAI-compatible endpoint (NEWSRAG_LLM_* or --judge-*)")


def make_judge(kind: str, settings: Settings, embedder: Embedder, base_url: str | None = None,
               model: str | None = None) -> CountingJudge:
    """A registered judge (JUDGES), counting its verdicts and failures."""
    judge: CountingJudge = JUDGES.factory(kind)(settings, embedder, base_url, model)
    return judge


def offline_judge(settings: Settings, embedder: Embedder, base_url: str | None, model: str | None) -> CountingJudge:
    """HeuristicJudge over the engine's embedder."""
    return CountingJudge(HeuristicJudge(embedder), "offline")


def llm_judge(settings: Settings, embedder: Embedder, base_url: str | None, model: str | None) -> CountingJudge:
    """NEWSRAG_LLM_* (or the overrides) through the `openai` client."""
    update = {k: v for k, v in (("llm_base_url", base_url), ("llm_model", model)) if v}
    judged = settings.model_copy(update=update)
    client = llm_client(judged)
    return CountingJudge(LLMJudge(client, str(judged.llm_model), temperature=0.0, seed=judged.llm_seed),
                         f"llm:{judged.llm_model}")
