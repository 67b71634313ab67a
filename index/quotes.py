"""Who said what: find direct and reported speech in an article and attribute it to a named speaker.

Short forms are resolved to the full name seen earlier in the same article (`Mr Kerry` -> `John Kerry`),
with the role that preceded the full name (`US secretary`). Pronoun speakers (`he said`) take the last
named speaker. Rule-based and deterministic: it favours precision over recall.
"""

from __future__ import annotations

import re

from index.text import sentence_spans
from index.types import Article, Quote

VERBS = (r"said|says|say|told|tells|reiterated|added|adding|warned|stated|announced|insisted|argued|claimed|"
         r"noted|explained|urged|asked|called|declared|stressed|admitted|acknowledged|wrote|tweeted|replied|"
         r"responded|confirmed|denied|predicted|vowed|promised|suggested|continued")
HONORIFIC = r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Prof)\.?"
CAP = r"[A-Z][\w’'\-]*(?:-[A-Z][\w’'\-]*)?"
PARTICLE = r"(?:al-|bin |de |van |von |da |del |la |le )?"
NAME = rf"(?:{HONORIFIC}\s+)?{CAP}(?:\s+{PARTICLE}{CAP}){{0,4}}"
ROLE_NOUNS = {"secretary", "minister", "spokesman", "spokeswoman", "spokesperson", "president", "official",
              "chief", "leader", "ambassador", "director", "counterpart", "chancellor", "senator", "governor",
              "mayor", "general", "commander", "prime", "premier", "king", "queen", "envoy", "adviser",
              "advisor", "analyst", "professor", "ceo", "chairman", "chair", "head", "representative", "judge",
              "coach", "manager", "founder", "executive", "officer", "deputy", "lawmaker", "candidate"}
NOT_NAMES = {"The", "A", "An", "In", "On", "At", "But", "And", "It", "This", "That", "They", "He", "She", "We",
             "I", "Moscow", "Washington", "Russia", "Russian", "US", "UN", "White", "House", "When", "While",
             "After", "Before", "Speaking", "However", "Meanwhile", "Officials", "Police", "Reuters"}
PRONOUNS = {"he", "she"}

_SAID_AFTER_NAME = re.compile(rf"(?P<name>{NAME})\s+(?:also\s+|later\s+|then\s+|has\s+|had\s+)?(?P<verb>{VERBS})\b")
_SAID_BEFORE_NAME = re.compile(rf"[,”\"]\s*(?P<verb>said|says|added|wrote)\s+(?P<name>{NAME})")
_PRONOUN_SAID = re.compile(rf"\b(?P<pron>[Hh]e|[Ss]he)\s+(?:also\s+)?(?P<verb>{VERBS})\b")
_ACCORDING = re.compile(rf"\baccording to (?:(?:the|a)\s+)?(?P<name>{NAME})")
_FULL_NAME = re.compile(rf"(?P<name>{CAP}(?:\s+{PARTICLE}{CAP}){{1,3}})")


class Speakers:
    """Full names and roles seen so far in one article, for resolving `Mr Kerry` and `Kerry`."""

    def __init__(self) -> None:
        self.by_last: dict[str, tuple[str, str | None]] = {}

    def learn(self, sentence: str) -> None:
        for m in _FULL_NAME.finditer(sentence):
            role, name = split_role(m.group("name"), sentence[: m.start()])
            parts = name.split()
            if len(parts) < 2 or parts[0] in NOT_NAMES or parts[-1] in NOT_NAMES:
                continue
            last = parts[-1]
            if last not in self.by_last or (role and not self.by_last[last][1]):
                self.by_last[last] = (name, role or (self.by_last.get(last) or (name, None))[1])

    def resolve(self, raw: str, before: str) -> tuple[str, str | None] | None:
        role, name = split_role(re.sub(rf"^{HONORIFIC}\s+", "", raw), before)
        parts = name.split()
        if not parts or parts[0] in NOT_NAMES or (len(parts) == 1 and raw == name and parts[0] not in self.by_last):
            return None
        full, known_role = self.by_last.get(parts[-1], (name, None))
        if len(parts) > 1 and full != name and not full.endswith(name):
            full = name
        return full, role or known_role


def split_role(phrase: str, before: str) -> tuple[str | None, str]:
    """'German Foreign Minister Frank-Walter Steinmeier' -> ('German Foreign Minister', 'Frank-Walter Steinmeier')."""
    words = phrase.split()
    cut = max((i + 1 for i, w in enumerate(words) if w.lower() in ROLE_NOUNS), default=0)
    role_words = words[:cut]
    name = " ".join(words[cut:])
    tail = re.search(r"((?:[A-Za-z][\w\-]*\s+){0,3}(?:" + "|".join(sorted(ROLE_NOUNS)) + r"))\s*$", before, re.I)
    if not role_words and tail:
        role_words = tail.group(1).split()
    while role_words and role_words[0].islower() and role_words[0] not in ROLE_NOUNS:
        role_words = role_words[1:]
    return (" ".join(role_words) or None), name


def extract_quotes(article: Article) -> list[Quote]:
    speakers = Speakers()
    quotes: list[Quote] = []
    last: tuple[str, str | None] | None = None
    text = article.text
    for start, end in _quote_aware(text):
        sentence = text[start:end]
        found = _attribute(sentence, speakers, last)
        speakers.learn(sentence)
        if found is None:
            continue
        (name, role), verb = found
        last = (name, role)
        quotes.append(Quote(article_id=article.id, speaker=name, role=role, verb=verb, start=start, end=end,
                            text=sentence))
    return quotes


def _attribute(sentence: str, speakers: Speakers, last: tuple[str, str | None] | None):
    for pattern in (_SAID_BEFORE_NAME, _SAID_AFTER_NAME, _ACCORDING):
        for m in pattern.finditer(sentence):
            speakers.learn(sentence[: m.start("name")])
            who = speakers.resolve(m.group("name"), sentence[: m.start("name")])
            if who:
                return who, m.groupdict().get("verb") or "according to"
    pronoun = _PRONOUN_SAID.search(sentence)
    if pronoun and last:
        return last, pronoun.group("verb")
    return None


def _quote_aware(text: str) -> list[tuple[int, int]]:
    """Sentence spans, with a quotation that runs over several sentences kept in one span."""
    merged: list[tuple[int, int]] = []
    open_at: int | None = None
    for start, end in sentence_spans(text):
        piece = text[start:end]
        if open_at is not None:
            start = open_at
        if piece.count("“") > piece.count("”") or (open_at is not None and "”" not in piece):
            open_at = start
            if "\n" not in text[start:end]:
                continue
        open_at = None
        merged.append((start, end))
    if open_at is not None:
        merged.append((open_at, len(text)))
    return merged
