"""Follow-up questions: rewrite "And Lavrov?" or "When did that war start?" into a standalone question.

`RuleCondenser` is deterministic and offline: it carries the previous question's topic and resolves
pronouns to the last person named. `LLMCondenser` (in app.answering.llm) asks the configured model with
prompts/condense.v1.md and falls back to the rules when the model is unavailable.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Protocol

from app.answering.names import person_names
from app.answering.retrieve import speaker_question
from app.types import Turn

if TYPE_CHECKING:
    from app.settings import Settings

_AND_X = re.compile(r"^\s*(?:and|what about|how about|and what about|what of)\s+(?P<x>[^?]+?)\s*\??\s*$", re.I)
_DEICTIC = re.compile(r"\b(that|this|the|those|these)\s+(war|conflict|strikes?|attacks?|campaign|decision|"
                      r"move|deal|plan|report|intervention|operation|crisis|statement|meeting|talks)\b", re.I)


class Condenser(Protocol):
    def rewrite(self, question: str, history: list[Turn]) -> str | None:
        """A standalone version of `question`, or None when it already stands alone."""
        ...


def previous_question(history: list[Turn]) -> str | None:
    for turn in reversed(history):
        if turn.role == "user":
            return turn.rewritten_query or turn.content
    return None


class RuleCondenser:
    def rewrite(self, question: str, history: list[Turn]) -> str | None:
        prev = previous_question(history)
        if not prev:
            return None
        asked = speaker_question(prev)
        prev_names = person_names(prev)
        person = asked.speaker if asked else (prev_names[0] if prev_names else None)
        topic = person_names(asked.topic) if asked and asked.topic else [n for n in prev_names if n != person]
        m = _AND_X.match(question)
        if m:
            x = m.group("x").strip()
            if asked:
                return f"What did {x} say" + (f" about {asked.topic.rstrip('?')}" if asked.topic else "") + "?"
            if prev_names:
                return prev.replace(prev_names[0], x, 1)
            return f"{prev.rstrip('?')} ({x})?"
        out = question
        if person:
            out = re.sub(r"\b(he|she|him)\b", person, out, flags=re.I)
            out = re.sub(r"\b(his|her)\b", f"{person}'s", out, flags=re.I)
        new_names = person_names(out)
        needs_topic = _DEICTIC.search(out) or re.search(r"\b(it|they|them|there|that)\b", out, re.I)
        carry = [n for n in (topic or prev_names) if n not in new_names and n not in out]
        if needs_topic and carry:
            out = f"{out.rstrip(' ?')} (regarding {', '.join(carry)})?"
        return out if out != question else None


def make_condenser(settings: Settings) -> Condenser:
    if settings.llm_base_url and settings.llm_model:
        from app.answering.llm import LLMCondenser

        return LLMCondenser.from_settings(settings)
    return RuleCondenser()
