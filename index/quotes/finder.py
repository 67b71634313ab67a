"""Find the quotes of an article: every sentence in which a named speaker says something, attributed
(the rules are in the package docstring, index/quotes/__init__.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from index.lexicon.people import fits
from index.quotes.speakers import Person, Speakers
from index.quotes.words import (
    ADVERBS,
    INVERTED_VERBS,
    NAME,
    POSSESSIVE,
    ROLE_ALT,
    ROLE_NOUNS,
    SP,
    VERBS,
    inside_quotes,
    is_org,
)
from index.text import sentence_spans
from index.types import Article, Quote

if TYPE_CHECKING:
    from index.manifest import Manifest

VERSION = 2  # bump when extraction changes: an index whose quotes an older version found is re-extracted
ADV = rf"(?:(?:{ADVERBS}){SP})*"
_APPOSITION = r"\s*,\s*(?P<app>[^,“”\"\n]{1,120}?(?:,[^,“”\"\n]{1,80}?)?)\s*,"
_SAID_AFTER_NAME = re.compile(rf"(?P<name>{NAME})(?:{_APPOSITION}|\s*,)?\s+{ADV}(?P<verb>{VERBS})\b")
_SAID_BEFORE_NAME = re.compile(
    rf"(?:^|[,”\"’]\s*)(?P<verb>(?i:{INVERTED_VERBS})){SP}"
    rf"(?:(?P<pre>(?:[\w’'\-.]+{SP}){{0,5}}?(?i:{ROLE_ALT}))\b\s*,?{SP})?(?P<name>{NAME})"
    rf"(?=\s*(?:[,.;:!?)”\"]|$)|{SP}(?:who|in|on|at|during|from|of|after|before|when|while|last|this|earlier|"
    rf"recently|told|to|and)\b)")
_ACCORDING = re.compile(rf"\baccording to{SP}(?:(?:the|a){SP})?(?P<name>{NAME})")
_PRONOUN_SAID = re.compile(rf"\b(?P<pron>[Hh]e|[Ss]he){SP}{ADV}(?P<verb>{VERBS})\b"
                           rf"|[,”\"]\s*(?P<verb2>{INVERTED_VERBS}){SP}(?P<pron2>he|she)(?=[.,!?])")
_ROLE_SAID = re.compile(rf"\b[Tt]he{SP}(?:(?:former|new|late|then|outgoing|incoming|current){SP})?"
                        rf"(?P<role>(?i:{ROLE_ALT})){SP}{ADV}(?P<verb>{VERBS})\b"
                        rf"|[,”\"]\s*(?P<verb2>{INVERTED_VERBS}){SP}the{SP}(?P<role2>(?i:{ROLE_ALT}))\b")
_JOINT = re.compile(rf"(?P<other>{NAME}),?(?:{SP}[DRI]-[\w ]+,)?{SP}and{SP}(?:[\w.]+{SP}){{0,4}}$")
VERB_WORD = re.compile(rf"\b(?:{VERBS})\b")
OPENING = ("“", '"', "‘")


def refresh_quotes(manifest: Manifest) -> list[str]:
    """Find every article's quotes again when the stored ones were found by an older VERSION of this module (an
    index made before an upgrade): quotes need no embedding, so this takes seconds. Returns what was done."""
    if manifest.meta("quotes_version") == str(VERSION):
        return []
    articles = list(manifest.all_articles())
    manifest.replace_quotes([q for a in articles for q in extract_quotes(a)], str(VERSION))
    return [f"found the quotes of {len(articles)} articles again (quote finder v{VERSION})"] if articles else []


def extract_quotes(article: Article) -> list[Quote]:
    text = article.text
    sentences = [(s, e, text[s:e], inside_quotes(text[s:e])) for s, e in quote_aware_spans(text)]
    speakers = Speakers([(t, m) for _, _, t, m in sentences])
    quotes: list[Quote] = []
    prev: tuple[int, Person] | None = None  # the end of the last attributed sentence that held a quotation
    for start, end, sentence, mask in sentences:
        found = _attribute(sentence, mask, speakers)
        if found is None and prev and sentence.startswith(OPENING) and "\n" not in text[prev[0]:start]:
            found = prev[1], "continued"  # “...,” Pritzker said. “More of the same quotation.”
        if found is None:
            speakers.recent = speakers.mentions(sentence, mask) or speakers.recent
            prev = None
            continue
        who, verb = found
        speakers.recent = [who] if not is_org(who.name) and " and " not in who.name else speakers.recent
        prev = (end, who) if any(mask) else None
        quotes.append(Quote(article_id=article.id, speaker=who.name, role=who.role, verb=verb, start=start,
                            end=end, text=sentence))
    return quotes


def _attribute(sentence: str, mask: list[bool], speakers: Speakers) -> tuple[Person, str] | None:
    for pattern in (_SAID_BEFORE_NAME, _SAID_AFTER_NAME, _ACCORDING):
        for m in _overlapping(pattern, sentence):
            s, e = m.span("name")
            if mask[s] or POSSESSIVE.match(sentence, e):
                continue
            if pattern is _SAID_AFTER_NAME and m.group("app") and not _apposition(m.group("app")):
                continue
            who = speakers.resolve(m.group("name"), sentence[max(0, s - 60):s])
            if who is None:
                continue
            joint = _JOINT.search(sentence, max(0, s - 160), s) if pattern is _SAID_AFTER_NAME else None
            if joint and not mask[joint.start()]:
                other = speakers.resolve(joint.group("other"), sentence[max(0, joint.start() - 60):joint.start()])
                if other is None:
                    continue  # 'the mayor and Smith said': not Smith alone
                who = Person(f"{other.name} and {who.name}", None)
            verb = m.groupdict().get("verb") or "according to"
            return who, verb.lower()
    for m in _PRONOUN_SAID.finditer(sentence):
        pronoun, at = (m.group("pron"), m.start("pron")) if m.group("pron") else (m.group("pron2"), m.start("pron2"))
        if mask[at]:
            continue
        pool = speakers.mentions(sentence[:at], mask[:at]) or speakers.recent
        fitting = [p for p in pool if fits(pronoun, p.name)]  # 'she': not the man named with her
        if len(fitting) == 1 and fitting[0].known:
            return fitting[0], (m.group("verb") or m.group("verb2")).lower()
        return None
    for m in _ROLE_SAID.finditer(sentence):
        if mask[m.start()]:
            continue
        who = speakers.by_role(m.group("role") or m.group("role2"))
        if who:
            return who, (m.group("verb") or m.group("verb2")).lower()
    return None


def _overlapping(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every match, each search starting one character after the previous match began (a rejected long match
    must not hide a shorter one inside it)."""
    at = 0
    while (m := pattern.search(text, at)) is not None:
        yield m
        at = m.start() + 1


def _apposition(text: str) -> bool:
    """`X, <apposition>, said`: an age, a party tag (D-New York), or a description (the party's leader, a
    spokesperson, president of ...); not another name ('Trump, Xi and Putin said')."""
    first = text.split()[0].lower() if text.split() else ""
    if VERB_WORD.search(text):  # 'Truth Social, where he said Wiles, ...' is a clause, not an apposition
        return False
    return (first in APPOSITION_STARTS or first in ROLE_NOUNS or first[:1].isdigit()
            or re.match(r"[dri]-", first) is not None)


APPOSITION_STARTS = {"the", "a", "an", "who", "whose", "his", "her", "their", "its", "one", "now", "then", "also",
                      "former", "formerly", "currently", "longtime", "acting", "interim", "senior", "deputy", "vice",
                      "assistant", "associate", "chief", "executive", "co-founder", "founder", "president"}


def quote_aware_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans, with a quotation that runs over several sentences of a paragraph kept in one span
    (curly or straight quotation marks); a paragraph break ends an unclosed one."""
    merged: list[tuple[int, int]] = []
    open_at: int | None = None
    last_end, depth, straight = 0, 0, False
    for start, end in sentence_spans(text):
        if open_at is not None and "\n" in text[last_end:start]:
            merged.append((open_at, last_end))
            open_at, depth, straight = None, 0, False
        piece = text[start:end]
        depth = max(0, depth + piece.count("“") - piece.count("”"))
        straight ^= piece.count('"') % 2 == 1
        if depth or straight:
            open_at = start if open_at is None else open_at
        else:
            merged.append((start if open_at is None else open_at, end))
            open_at = None
        last_end = end
    if open_at is not None:
        merged.append((open_at, last_end))
    return merged
