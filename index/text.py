"""Small text helpers with character offsets: sentence spans, content words, and the one stemmer (Snowball English,
from PyStemmer) that BM25, the extractive scorer, the claim checks and the speaker lane all compare words with."""

from __future__ import annotations

import re
import unicodedata

import Stemmer

_ABBREV = {"mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "prof",
           "jr", "sr", "inc", "corp", "co", "ltd", "vs", "no", "u.s", "u.k", "u.n", "jan", "feb", "mar",
           "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "a.m", "p.m", "e.g", "i.e"}
# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before whitespace.
_END = re.compile(r"[.!?][\"”’')\]]*(?=\s)")
# A word: letters or digits in any script (no underscore), apostrophes only inside ("don't", "Pritzker’s").
_WORD = re.compile(r"[^\W_](?:[^\W_]|['’](?=[^\W_]))*")
_STEMMER = Stemmer.Stemmer("english")
_STEMS: dict[str, str] = {}  # word -> stem: news repeats its words, and a dict hit is ~40x cheaper than stemming
_STEMS_MAX = 200_000

STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself yourselves say said says tell told
think thought according did does mr mrs ms news article articles happen happened
""".split()
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets inside text[start:end]; paragraphs always break sentences."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text[start:end]):
        p0 = start + para.start()
        seg = para.group()
        cut = 0
        for m in _END.finditer(seg):
            word = re.search(r"([A-Za-z.]+)\.$", seg[cut:m.start() + 1])
            if word and m.group()[0] == "." and word.group(1).lower().rstrip(".") in _ABBREV:
                continue
            nxt = seg[m.end():].lstrip()
            if nxt and nxt[0].islower():
                continue
            spans.append((p0 + cut, p0 + m.end()))
            cut = m.end()
        spans.append((p0 + cut, p0 + len(seg)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def words(text: str) -> list[str]:
    """Lower-cased words, accents folded ("Orbán" -> "orban"), curly apostrophes made straight."""
    return [_fold(w) for w in _WORD.findall(text.lower())]


def _fold(word: str) -> str:
    if word.isascii():
        return word
    word = unicodedata.normalize("NFKD", word.replace("’", "'"))
    return "".join(c for c in word if not unicodedata.combining(c))


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a lower-case word, possessive dropped: 'strikes'/'striking' -> 'strike',
    'elections'/'elected' -> 'elect', "pritzker's" -> 'pritzker', "don't" -> 'dont'."""
    got = _STEMS.get(word)
    if got is None:
        if len(_STEMS) >= _STEMS_MAX:
            _STEMS.clear()
        base = word[:-2] if word.endswith("'s") else word
        got = _STEMS[word] = _STEMMER.stemWord(base.replace("'", ""))
    return got


def tokens(text: str) -> list[str]:
    """The stemmed content words of a text, in order (what BM25 indexes)."""
    return [stem(w) for w in content_words(text)]


def stems(text: str) -> set[str]:
    """The set of stemmed content words: what lexical overlap compares."""
    return set(tokens(text))


def coverage(want: set[str], text: str, if_empty: float) -> float:
    """The share of the stems `want` that `text` holds; `if_empty` when there are none (callers differ: a claim
    with no content words is trivially held, a question with none matches nothing)."""
    if not want:
        return if_empty
    return len(want & stems(text)) / len(want)


_INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|prompts?|rules|guidelines)\b"
    r"|\byou are now\b|\bdeveloper mode\b|\bjailbreak\b|(^|\s)(system|assistant)\s*:"
    r"|\b(say|tell (the )?(user|reader)s?|respond|answer|reply)\b.{0,20}\b(that|with)\b.{0,80}\binstead\b"
    r"|\bas an ai\b|\bnew instructions\b", re.I)


def looks_like_injection(text: str) -> bool:
    """Text that addresses a language model instead of reporting news ("ignore previous instructions ...")."""
    return bool(_INJECTION.search(text))


def fold(text: str) -> str:
    """Lower case without accents: 'Nicolás' matches 'Nicolas' (in either Unicode form). Only the runs of
    non-ASCII characters (curly quotes, dashes, accents) are tested for combining marks: the extractive answerer
    folds every retrieved passage, and testing each character in Python took ~9 ms of a first answer."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return folded if folded.isascii() else _NON_ASCII.sub(_strip_marks, folded)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _strip_marks(run: re.Match[str]) -> str:
    return "".join(c for c in run.group() if not unicodedata.combining(c))
