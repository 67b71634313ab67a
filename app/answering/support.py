"""Check every answer sentence against the passages it cites, before the user sees it.

`HeuristicJudge` (offline, deterministic): a sentence is supported by a passage when
  1. its names, numbers and dates all occur in the passage (entity/number/date agreement),
  2. it does not flip a negation of the passage sentence it matches best, and
  3. 0.5 * lexical overlap + 0.5 * embedding similarity (best passage sentence) >= THRESHOLD.
The threshold was calibrated on eval/data/support_labels.jsonl (`python -m eval.calibrate_judge`).
Another judge (an LLM, an NLI model) plugs in behind the same `Judge` protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.answering.names import claim_names, fold, name_in
from index.embedding.base import Embedder
from index.text import content_words, coverage, looks_like_injection, sentence_spans, stem, stems

NEG_CLOSE = 0.3  # how much of the passage sentence a claim must reuse before a negation flip counts
THRESHOLD = 0.65  # see module docstring; re-run the calibration when the scoring changes
NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "million", "billion", "trillion",
                "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                "doubled", "tripled", "quadrupled", "halved", "double", "triple", "twice", "thrice", "half"}
_NEG = re.compile(r"\b(not|no|never|none|nobody|nothing|neither|nor|without|cannot|denied|refused|failed|"
                  r"declined|rejected)\b|n[’']t\b", re.I)
# Opposite verbs: a sentence using one where its best passage sentence uses the other is flipped.
OPPOSITES = [("accept", "declin"), ("accept", "reject"), ("win", "lost"), ("won", "lost"), ("rise", "fell"),
             ("rose", "fell"), ("increas", "decreas"), ("approv", "reject"), ("gain", "los"), ("up", "down")]
_NUM = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class Verdict:
    supported: bool
    score: float
    reason: str
    start: int = 0  # the best-matching span inside the passage text (for the citation's quote)
    end: int = 0


class Judge(Protocol):
    def judge(self, sentence: str, passage: str) -> Verdict: ...


def numbers(text: str) -> set[str]:
    found = {n.replace(",", "") for n in _NUM.findall(text)}
    found |= {w for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}
    return found


class HeuristicJudge:
    def __init__(self, embedder: Embedder, threshold: float = THRESHOLD):
        self.embedder, self.threshold = embedder, threshold
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings with a small cache: the same passage sentences are checked against several claims."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            if len(self._cache) > 5000:
                self._cache.clear()
            self._cache.update(zip(todo, self.embedder.embed(todo), strict=True))
        return np.stack([self._cache[t] for t in texts])

    def judge(self, sentence: str, passage: str) -> Verdict:
        spans = sentence_spans(passage) or [(0, len(passage))]
        plain = re.sub(r"\[\d+\]", "", sentence).strip()
        vecs = self._vectors([plain] + [passage[s:e] for s, e in spans])
        sims = vecs[1:] @ vecs[0]
        best = int(np.argmax(sims))
        bs, be = spans[best]
        # A claim may span two adjacent passage sentences: the better of the best one and it with its neighbour.
        lex_best = max(lexical(plain, passage[s:e]) for s, e in spans[max(0, best - 1):best + 2])
        lex_all = lexical(plain, passage)
        score = 0.5 * max(lex_best, lex_all * 0.9) + 0.5 * float(sims[best])
        if looks_like_injection(passage[bs:be]):
            reason = "the matching passage text is an instruction to a model, not reporting"
            return Verdict(False, score, reason, bs, be)
        lower = fold(passage)
        missing = sorted(n for n in claim_names(plain) if not name_in(n, lower, passage))
        if missing:
            return Verdict(False, score, f"names not in the passage: {', '.join(missing)}", bs, be)
        nums = sorted(n for n in numbers(plain) if n not in numbers(passage))
        if nums:
            return Verdict(False, score, f"numbers/dates not in the passage: {', '.join(nums)}", bs, be)
        unbound = unbound_numbers(plain, passage)
        if unbound:
            return Verdict(False, score, f"numbers attached to different things: {', '.join(unbound)}", bs, be)
        close = lex_best > 0.5 and lexical(passage[bs:be], plain) > NEG_CLOSE  # a paraphrase of that sentence
        if close and bool(_NEG.search(plain)) != bool(_NEG.search(passage[bs:be])):
            return Verdict(False, score, "negation differs from the passage", bs, be)
        if flipped(plain, passage[bs:be]):
            return Verdict(False, score, "says the opposite of the passage", bs, be)
        if score < self.threshold:
            return Verdict(False, score, f"not supported by the passage (support {score:.2f} < {self.threshold})",
                           bs, be)
        return Verdict(True, score, f"supported (support {score:.2f})", bs, be)


def lexical(sentence: str, passage: str) -> float:
    """How much of the sentence's content the passage holds (a sentence with no content words is fully held)."""
    return coverage(stems(sentence), passage, if_empty=1.0)


_GENERIC = {"million", "billion", "percent", "year"}


def _around(text: str, start: int, end: int) -> tuple[set[str], set[str]]:
    """Content-word stems right after a number (what it counts) and right before it."""
    after = {stem(w) for w in content_words(text[end:end + 40])[:3]} - _GENERIC
    return after, {stem(w) for w in content_words(text[max(0, start - 40):start])[-3:]} - _GENERIC


def unbound_numbers(sentence: str, passage: str) -> list[str]:
    """Digits whose following words in the sentence never follow the same digits in the passage (or, for a number
    that ends its sentence, whose preceding words never precede them). Following words first: with real stems,
    "20 flights over Syria, hitting ..." shares "hit" with "hit 20 targets", and the flights would count targets."""
    bad = []
    for m in _NUM.finditer(sentence):
        after, before = _around(sentence, m.start(), m.end())
        if not after and not before:
            continue
        spots = [_around(passage, p.start(), p.end())
                 for p in re.finditer(re.escape(m.group()) + r"(?!\d)", passage)]
        if spots and not any(after & a if after else before & b for a, b in spots):
            bad.append(m.group())
    return bad


def flipped(sentence: str, passage_sentence: str) -> bool:
    a, b = set(content_words(sentence)), set(content_words(passage_sentence))
    for x, y in OPPOSITES:
        has = (any(w.startswith(x) for w in a) and any(w.startswith(y) for w in b)
               and not any(w.startswith(x) for w in b))
        has_rev = (any(w.startswith(y) for w in a) and any(w.startswith(x) for w in b)
                   and not any(w.startswith(y) for w in b))
        if has or has_rev:
            return True
    return False
