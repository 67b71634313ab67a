"""Follow-up questions: rewrite "And Lavrov?" or "When did that war start?" into a standalone question.

`RuleCondenser` is deterministic and offline: it carries the previous question's topic and resolves a pronoun
to the person it stands for, among the people named in the previous question and then in the previous answer,
using the pronoun's gender where the first name tells it (index/lexicon/people.py): after "Why did Trump fire
Erika McEntarfer?", "she" is McEntarfer and "he" is Trump. When it cannot tell, it leaves the pronoun alone.
`LLMCondenser` asks the configured model with prompts/condense.v1.md and
falls back to the rules when the model is unavailable. Both are registered in app/answering/registry.py.
"""

from __future__ import annotations

import logging
import re
from contextlib import closing
from typing import Protocol

from app.answering.llm import llm_endpoint
from app.answering.llm_call import Endpoint
from app.answering.names import people, person_names
from app.answering.prompts import Prompt, load_prompt
from app.answering.speakers import speaker_question
from app.settings import Settings
from app.types import Turn
from index.lexicon.people import gender

log = logging.getLogger(__name__)

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


def previous_answer(history: list[Turn]) -> str:
    for turn in reversed(history):
        if turn.role == "assistant":
            return turn.content
        if turn.role == "user":
            break
    return ""


_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers)\b(\s+\w+)?", re.I)
_NOT_A_NOUN = {"to", "for", "in", "on", "at", "from", "with", "by", "about", "after", "before", "over", "and", "or",
               "but", "as", "than", "that", "so", "if", "when", "while", "because", "again", "back", "out", "up",
               "down", "off", "too", "also", "now", "then", "last", "this", "yesterday", "today"}


class RuleCondenser:
    @classmethod
    def build(cls, settings: Settings) -> RuleCondenser:
        return cls()

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
                return f"What did {x} say" + (f" {asked.about}" if asked.topic else "") + "?"
            if prev_names:
                return prev.replace(prev_names[0], x, 1)
            return f"{prev.rstrip('?')} ({x})?"
        out = resolve_pronouns(question, prev, previous_answer(history), asked.speaker if asked else None)
        new_names = person_names(out)
        needs_topic = _DEICTIC.search(out) or re.search(r"\b(it|they|them|there|that)\b", out, re.I)
        carry = [n for n in (topic or prev_names) if n not in new_names and n not in out]
        if needs_topic and carry:
            out = f"{out.rstrip(' ?')} (regarding {', '.join(carry)})?"
        return out if out != question else None


def resolve_pronouns(question: str, prev: str, answer: str, speaker: str | None) -> str:
    """Each he/she/him/his/her replaced by the person it stands for, where that is clear; the others left as
    they are. The people of the previous question come first (among them its speaker, who wins a tie), then the
    full names of the previous answer, which count only when the pronoun's gender picks exactly one of them."""
    asked = people(prev)
    if speaker and not any(same_person(speaker, p) for p in asked):
        asked.insert(0, speaker)
    told = [p for p in people(answer, full_names_only=True) if not any(same_person(p, q) for q in asked)]
    known = asked + told

    def full(name: str) -> str:  # 'Trump' -> 'Donald Trump' when the answer spells it out (the gender is there)
        return max((n for n in known if same_person(n, name)), key=len, default=name)

    def pick(pronoun: str) -> str | None:
        for tier, trust_unknown in ((asked, True), (told, False)):
            fit = [p for p in tier if gender(full(p)) == _gender_of(pronoun)]
            if len(fit) == 1:
                return fit[0]
            if len(fit) > 1:
                return speaker if speaker in fit else None
            # a name the first-name lists do not know: a surname ('Putin') or the speaker, not 'Labor Statistics'
            unknown = [p for p in tier if gender(full(p)) is None and (len(p.split()) == 1 or p == speaker)]
            if trust_unknown and len(unknown) == 1:
                return unknown[0]
            if trust_unknown and speaker in unknown:
                return speaker
        return None

    def swap(m: re.Match[str]) -> str:
        pronoun, after = m.group(1), m.group(2) or ""
        who = pick(pronoun)
        if who is None:
            return m.group(0)
        possessive = pronoun.lower() == "his" or (pronoun.lower() == "her" and bool(after.strip())
                                                  and after.strip().lower() not in _NOT_A_NOUN)
        return (f"{who}'s" if possessive else who) + after
    return _PRONOUN.sub(swap, question)


def same_person(a: str, b: str) -> bool:
    return a.split()[-1] == b.split()[-1]


def _gender_of(pronoun: str) -> str:
    return "f" if pronoun.lower() in {"she", "her", "hers"} else "m"


class LLMCondenser:
    """Follow-up rewriting by the model (prompts/condense.v1.md); the rules take over when it fails."""

    MAX_TOKENS = 80  # one line of question

    def __init__(self, llm: Endpoint, settings: Settings, prompt: Prompt | None = None):
        self.llm, self.settings = llm, settings
        self.prompt = prompt or load_prompt("condense", 1)
        self.rules = RuleCondenser()

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMCondenser:
        return cls(llm_endpoint(settings), settings)

    def rewrite(self, question: str, history: list[Turn]) -> str | None:
        turns = "\n".join(f"{t.role}: {(t.rewritten_query or t.content)[:400]}" for t in history[-6:])
        deltas = self.llm.stream(self.MAX_TOKENS, model=self.settings.llm_model,
                                 messages=self.prompt.render(history=turns, question=question),
                                 temperature=self.settings.llm_temperature, seed=self.settings.llm_seed)
        try:
            with closing(deltas):
                text = "".join(deltas).strip().splitlines()
        except Exception as exc:  # fall back to the rules, never fail the question
            log.warning("condense via LLM failed: %r", exc)
            return self.rules.rewrite(question, history)
        rewritten = text[0].strip().strip('"') if text else ""
        if not rewritten or len(rewritten) > 300:
            return self.rules.rewrite(question, history)
        return None if rewritten == question else rewritten


def build_llm(settings: Settings) -> Condenser:
    """The registry's factory for `llm`: the model when one is configured, else the rules."""
    if settings.llm_base_url and settings.llm_model:
        return LLMCondenser.from_settings(settings)
    return RuleCondenser()
