"""What kind of thing a question asks for, and which words of a sentence could be that thing.

"Which country ...?" wants a country, "Who ...?" a person, "How many ...?" a number, "When ...?" a date, "Which
festival ...?" some named thing. A sentence answers only if it holds a candidate of that kind that the question
does not already contain: "Tisza won 135 seats" holds a number, but "BYD surpassed Tesla" is what answers "Which
automaker has overtaken Tesla?" because BYD is new. The extractive answerer scores sentences with this and refuses
when no retrieved sentence holds an answer of the asked kind (app/answering/extractive.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answering.names import fold
from index.lexicon.people import gender
from index.lexicon.places import COUNTRY_NAMES, DEMONYMS, STATE_NAMES, is_place
from index.text import STOPWORDS, stem

KINDS = ("person", "country", "state", "place", "org", "number", "date", "named")
_PERSON_HEADS = {"person", "man", "woman", "leader", "star", "economist", "player", "figure", "member", "host",
                 "actor", "actress", "singer", "rapper", "musician", "artist", "author", "writer", "athlete",
                 "president", "ceo", "founder", "candidate", "senator", "governor", "judge", "politician",
                 "official", "minister", "comedian", "director", "coach", "quarterback", "skater", "journalist",
                 "billionaire", "celebrity", "entrepreneur", "scientist", "pope", "king", "queen", "prince",
                 "princess", "nominee", "winner", "chef", "designer", "executive", "lawmaker", "mayor",
                 "secretary", "spokesperson", "anchor", "astronaut", "pitcher", "golfer", "swimmer", "boxer",
                 "driver", "band", "duo"}
_COUNTRY_HEADS = {"country", "nation", "countries", "nations"}
_STATE_HEADS = {"state", "states"}
_PLACE_HEADS = {"city", "town", "capital", "island", "region", "province", "county", "village", "venue", "site",
                "location", "place", "stadium", "airport", "park", "landmark", "port", "arena", "neighborhood"}
_ORG_HEADS = {"company", "automaker", "manufacturer", "brand", "app", "service", "network", "retailer", "airline",
              "firm", "maker", "platform", "organization", "organisation", "agency", "team", "league",
              "university", "school", "bank", "carrier", "startup", "chain", "studio", "publisher", "party",
              "streamer", "broadcaster", "outlet", "newspaper", "magazine", "club", "giant", "corporation",
              "business", "store", "restaurant", "charity", "group"}
_NUMBER_STARTS = ("how many", "how much", "what number", "what percentage", "what percent", "how old", "how long",
                  "how far", "how big", "how large", "how tall", "how high", "how fast")
_DATE_STARTS = ("when", "what year", "what date", "what day", "what month", "since when", "in what year",
                "in which year", "on what date", "what time")
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|Jan\\.|Feb\\.|"
           "Aug\\.|Sept?\\.|Oct\\.|Nov\\.|Dec\\.")
_DATE = re.compile(rf"\b(?:1[5-9]\d\d|20\d\d|{_MONTHS}|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                   r"yesterday|today|tonight|ago|last (?:week|month|year)|\d{1,2}(?:st|nd|rd|th) century)\b")
FULL_DATE = re.compile(rf"\b(?:1[5-9]\d\d|20\d\d|{_MONTHS}|\d{{1,2}}(?:st|nd|rd|th) century)\b")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*%?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"dozen|dozens|hundreds?|thousands?|millions?|billions?|trillions?|twice|thrice|half|once|"
                     r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|double|triple|percent)\b",
                     re.I)
_MARKS = "\u0300-\u036f"
_CAP_RUN = re.compile(rf"(?:\d+(?:st|nd|rd|th)\s+)?[A-Z][\w{_MARKS}’'&.\-]*(?:\s+(?:(?:of|the|de|del|la|von|van|al|"
                      rf"and|for|du|da)\s+)*[A-Z][\w{_MARKS}’'&.\-]*)*")
_CALENDAR = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
             "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
_LEADING = {"the", "a", "an", "in", "on", "at", "but", "and", "it", "this", "that", "they", "he", "she", "we", "i",
            "his", "her", "their", "its", "when", "while", "after", "before", "since", "as", "however", "meanwhile",
            "according", "speaking", "if", "so", "for", "with", "from", "by", "of", "to", "there", "here", "also",
            "still", "yet", "now", "then", "during", "despite", "although", "though", "because", "last", "next",
            "earlier", "later", "what", "which", "who", "where", "why", "how", "mr", "mrs", "ms", "dr"}


@dataclass(frozen=True)
class AnswerType:
    kind: str  # one of KINDS
    head: str | None = None  # the noun after "which"/"what" ("automaker"), when there is one
    modifiers: tuple[str, ...] = ()  # capitalised words that qualify the head ("Texas" in "which Texas city")
    must_name: bool = False  # only a sentence naming a candidate answers ("who won?": a team, a person, a country)


def focus(question: str) -> str:
    """The question proper: the last sentence that asks ("New data shows X. How much has it dropped?" -> the
    second), else the whole text."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+(?=[A-Z])", question.strip()) if p]
    asks = [p for p in parts if p.rstrip().endswith("?")]
    return asks[-1] if asks else question.strip()


_WHICH = re.compile(r"\b(?:which|what)\s+(?:of\s+the\s+following\s+|type\s+of\s+|kind\s+of\s+|sort\s+of\s+)?"
                    r"(?P<words>(?:[\w’'\-]+\s*){1,5})", re.I)
_HEADS = [("country", _COUNTRY_HEADS), ("state", _STATE_HEADS), ("place", _PLACE_HEADS), ("person", _PERSON_HEADS),
          ("org", _ORG_HEADS), ("date", {"year", "date", "day", "month"})]
_PREPOSITIONS = {"to", "of", "in", "for", "on", "at", "from", "with", "by", "that", "who", "which", "whose", "the"}
_VERBISH = {"is", "was", "are", "were", "has", "have", "had", "did", "does", "do", "will", "would", "can", "could",
            "may", "might", "should", "became", "become", "made", "announced", "won", "hosted", "launched", "got",
            "began", "took", "led", "just", "recently", "first", "last"}


def expected(question: str) -> AnswerType | None:
    """The kind of answer `question` asks for, or None when it asks for an explanation or anything at all."""
    q = focus(question)
    low = q.lower()
    if low.startswith(_NUMBER_STARTS) or re.search(r"\bhow (?:many|much)\b", low):
        return AnswerType("number")
    if low.startswith(_DATE_STARTS) or re.search(r"\b(?:in|on) what (?:year|date|day)\b", low):
        return AnswerType("date")
    if re.match(r"who\s+(?:won|beat|defeated|will\s+host|hosted|will\s+face|claimed|took)\b", low):
        return AnswerType("named", must_name=True)  # a team or a country wins as often as a person
    if re.match(r"(?:who|whom)\b", low) or re.search(r"\bwho\s+(?:is|was|won|will|has|had|did)\b", low):
        return AnswerType("person")
    m = _WHICH.search(q)
    if m:
        words = m.group("words").split()
        upto = next((i for i, w in enumerate(words) if w.lower() in _VERBISH or (w.endswith("ly") and i)),
                    len(words))
        words = words[:upto] or words[:1]
        for i, w in enumerate(words):  # 'which tech company', 'which influential American economist'
            for kind, heads in _HEADS:
                if w.lower() in heads:
                    return AnswerType(kind, w.lower(), tuple(x for x in words[:i] if x[:1].isupper()))
        cut = next((i for i, w in enumerate(words) if w.lower() in _PREPOSITIONS or w.endswith(",")), len(words))
        phrase = [w.strip(",") for w in words[:cut] or words[:1]]
        head = next((w.lower() for w in reversed(phrase) if w[:1].islower()), phrase[-1].lower())
        if re.search(r"\bwhich\b", low):
            at = phrase.index(head) if head in phrase else len(phrase)
            return AnswerType("named", head, tuple(x for x in phrase[:at] if x[:1].isupper()))
        return None
    if re.match(r"(?:where|in what (?:city|country|state))\b", low) or re.search(
            r"\bwhere\s+(?:is|was|did|does|will)\b", low):
        return AnswerType("place")
    return None


def candidates(sentence: str, question: str, kind: AnswerType) -> list[str]:
    """The words of `sentence` that could answer a question of `kind` and that the question does not already
    hold (compared accent-folded and stemmed, word by word, 'U.S.' as 'US': "Tony Award" is not new to a question
    about the Tony Awards)."""
    asked = {stem(w) for w in _words(question) if w not in STOPWORDS}

    def new(text: str) -> bool:
        words = [w for w in _words(text) if w not in STOPWORDS]
        return bool(words) and not all(stem(w) in asked for w in words)

    if kind.kind == "number":
        return [m.group() for m in _NUMBER.finditer(sentence) if new(m.group())]
    if kind.kind == "date":
        return [m.group() for m in _DATE.finditer(sentence) if new(m.group())]
    runs = [(r, at) for r, at in _runs(sentence) if new(r) and not negated(sentence, r, at)]
    if kind.kind == "country":
        return [r for r, _ in runs if fold(r) in COUNTRY_NAMES or fold(r) in DEMONYMS]
    if kind.kind == "state":
        return [r for r, _ in runs if fold(r) in STATE_NAMES]
    if kind.kind == "person":
        return [r for r, _ in runs if _person_like(r)]
    if kind.kind == "place":  # a known place, a name after "in", "at", "near" ... ('in Davos'), or a named site
        return [r for r, at in runs if is_place(r) or _LOCATIVE.search(sentence[max(0, at - 12):at]) or _site(r)]
    if kind.kind == "org":  # a company is not a person or a place
        return [r for r, _ in runs if fold(r) not in DEMONYMS and not is_place(r) and gender(r) is None]
    return [r for r, _ in runs if fold(r) not in DEMONYMS]


_NEGATED = re.compile(r"\s+(?:(?:has|have|had|is|was|were|are|did|does|do|will|would|could|can|may|might)\s+)?"
                      r"(?:never|not|no\s+longer)\b|\s+(?:has|have|had|is|was|were|are|did|does|do|will|would|could|"
                      r"can)n[’']t\b", re.I)


def negated(sentence: str, run: str, at: int) -> bool:
    """'Mirren has never won a Tony', 'Winfrey is not among those named': a name followed by a negated verb is
    what the sentence says did not happen, so it is not offered as the answer."""
    end = sentence.find(run, at)
    return end >= 0 and bool(_NEGATED.match(sentence, end + len(run)))


_LOCATIVE = re.compile(r"\b(?:in|at|near|from|outside|inside|across|around)\s+(?:the\s+)?$", re.I)


_SITE_WORDS = _PLACE_HEADS | {"temple", "palace", "square", "cathedral", "museum", "castle", "tower", "bridge",
                              "church", "abbey", "monument", "memorial", "garden", "gardens", "beach", "mountain",
                              "lake", "river", "bay", "valley", "station", "hotel", "theater", "theatre", "hall"}


def _site(run: str) -> bool:
    """'El Paso International Airport', 'Temple of Heaven': a capitalised run named for a kind of place."""
    return any(w.lower() in _SITE_WORDS for w in run.split())


def _words(text: str) -> list[str]:
    return re.findall(r"[\w’'\-]+", fold(text).replace(".", ""))


def _person_like(run: str) -> bool:
    if is_place(run) or _org_like(run) or fold(run) in DEMONYMS:
        return False
    if len(run.split()) >= 2:
        return True
    return run[0].isupper() and not run.isupper() and len(run) > 3  # 'Shakira'


def _org_like(run: str) -> bool:
    return run.split()[-1].lower() in {"inc", "corp", "company", "party", "department", "university", "association",
                                       "council", "committee", "court", "agency", "service", "group", "house"}


def _runs(sentence: str) -> list[tuple[str, int]]:
    """Runs of capitalised words (with 'of', 'the', 'de' inside: 'Temple of Heaven'), sentence-opening function
    words and calendar words dropped."""
    out = []
    opening = len(sentence) - len(sentence.lstrip(" “\"‘'(—–-"))
    for m in _CAP_RUN.finditer(sentence):
        words = m.group().rstrip(".’'").split()
        if m.start() == opening and len(words) == 1 and not words[0].isupper() and not is_place(words[0]):
            continue  # 'Researchers have ...': any word is capitalised at the start of a sentence
        while words and (words[0].lower() in _LEADING or words[0].lower() in _CALENDAR):
            words = words[1:]
        while words and (words[-1].lower() in _CALENDAR or words[-1].lower() in {"of", "the", "and", "for"}):
            words = words[:-1]
        if words:
            out.append((" ".join(words), m.start()))
    return out
