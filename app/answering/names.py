"""Names in text, one module for the three questions newsrag asks of them.

- `question_names`: which names a question is about (each must occur in a retrieved passage, or it is refused);
- `claim_names`: which names an answer sentence states (each must occur in the passage it cites);
- `person_names`: who a follow-up's pronoun may stand for.
Names are compared accent- and Unicode-form-folded (`fold`), allowing a demonym or an acronym (`name_in`).
"""

from __future__ import annotations

import re

from app.types import Passage
from index.lexicon.places import DEMONYMS, is_place
from index.quotes import clean, is_org
from index.text import STOPWORDS, fold

_CAPS = re.compile(r"\b[A-Z][\w’'\-]+")
_NAME = re.compile(r"\b([A-Z][\w’'\-]+(?:\s+(?:al-)?[A-Z][\w’'\-]+)*)")
_LEADING = {"What", "When", "Where", "Who", "Why", "How", "Which", "Did", "Does", "Do", "Is", "Are", "Was",
            "Were", "And", "The", "A", "An", "In", "On", "Has", "Have", "Can", "Could", "Will", "Would", "I"}
_CALENDAR = frozenset("monday tuesday wednesday thursday friday saturday sunday january february march april may "
                      "june july august september october november december".split())


def question_names(question: str) -> list[str]:
    """Capitalised words of the question that are not its first word, common words or calendar words: likely
    names. A possessive is dropped ("Texas's" -> "Texas"), and so is a lower-case tail ("York-area" -> "York")."""
    found = re.findall(r"(?<!^)(?<![.?!]\s)\b([A-Z][\w’'\-]+)", question.strip())
    out = []
    for word in found:
        word = re.sub(r"-[a-z][\w-]*$", "", word.strip("’'").removesuffix("’s").removesuffix("'s"))
        if len(word) > 1 and word.lower() not in STOPWORDS and word.lower() not in _CALENDAR:
            out.append(word)
    return out


def unmentioned(names: list[str], passages: list[Passage]) -> list[str]:
    """The names no passage mentions, compared without accents or Unicode form ('Nicolás' in any spelling) and
    allowing a demonym or an acronym (app/answering/support.py:name_in)."""
    texts = [(fold(p.text), p.text) for p in passages]
    return [n for n in names if not any(name_in(n, folded, text) for folded, text in texts)]


def claim_names(text: str) -> set[str]:
    """The capitalised words of an answer sentence, lower-cased, minus common words and sentence-initial words:
    each must occur in the passage the sentence cites (app/answering/support.py)."""
    out = set()
    for m in _CAPS.finditer(text):
        word = m.group().strip("’'").removesuffix("’s").removesuffix("'s")
        at_start = m.start() == 0 or text[max(0, m.start() - 2):m.start()].strip() in {".", "“", '"', "!", "?"}
        if word.lower() in STOPWORDS or (at_start and word.lower() in _COMMON_STARTS):
            continue
        out.add(word.lower())
    return out


_COMMON_STARTS = {"the", "a", "an", "in", "on", "at", "but", "and", "it", "this", "that", "they", "he", "she",
                  "we", "according", "however", "after", "before", "when", "while", "since", "as", "speaking"}


def person_names(text: str) -> list[str]:
    """Runs of capitalised words ("Bashar al-Assad", "Lavrov"), question words dropped, in order: who a
    follow-up's pronoun may stand for (app/answering/condense.py)."""
    out: list[str] = []
    for m in _NAME.finditer(text):
        words = [w for w in m.group(1).split() if w not in _LEADING]
        if words and " ".join(words) not in out:
            out.append(" ".join(words))
    return out


def people(text: str, full_names_only: bool = False) -> list[str]:
    """The names in `text` that may be people: `person_names` without titles and roles ('BLS Commissioner Erika
    McEntarfer' -> 'Erika McEntarfer'), places (Syria, New York), organisations (Islamic State, the State
    Department), demonyms and possessive endings. With `full_names_only`, only names of two words or more (an
    answer's sentence-opening words are capitalised too)."""
    out: list[str] = []
    for run in person_names(text):
        found = clean(re.sub(r"[’']s$", "", run), "")
        if found is None:
            continue
        name = found[1]
        words = name.split()
        if (not words or is_place(name) or is_org(name) or fold(name) in DEMONYMS
                or (full_names_only and len(words) < 2) or name in out):
            continue
        out.append(name)
    return out


def name_in(name: str, folded_passage: str, passage: str) -> bool:
    name = fold(name)
    if name in folded_passage:
        return True
    if len(name) >= 6 and name[: len(name) - 2] in folded_passage:  # Syrian/Syria, Venezuelan/Venezuela
        return True
    if name.isalpha() and 2 <= len(name) <= 5:  # an acronym spelled out: ICE, FAA
        pattern = r"\b" + r"\W+(?:(?:and|of|the|for)\W+)*".join(f"{c}\\w*" for c in name.upper())
        return re.search(pattern, passage) is not None
    return False
