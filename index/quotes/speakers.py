"""The people of one article, for resolving who a short name, a pronoun or a role stands for (finder.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from index.quotes.words import NAME_RE, clean, is_org, role_words


@dataclass(frozen=True)
class Person:
    name: str
    role: str | None
    known: bool = True


class Speakers:
    """The people of one article: full names by last name (from the whole article: `Kerry` is John Kerry
    wherever his full name is given), roles, and who was named last (for a pronoun)."""

    def __init__(self, sentences: list[tuple[str, list[bool]]]) -> None:
        self._seen: dict[str, list[tuple[str | None, str]]] = {}
        counts: dict[str, Counter[str]] = {}
        self.roles: dict[str, str] = {}
        for sentence, mask in sentences:
            for role, name in self._runs(sentence, mask):
                parts = name.split()
                if len(parts) >= 2 and not is_org(name):
                    counts.setdefault(parts[-1], Counter())[name] += 1
                    if role and name not in self.roles:
                        self.roles[name] = role
        for names in counts.values():  # 'Bart Jansen Trump' beside 'Donald Trump': a byline run into a sentence
            for name in [n for n in names if len(n.split()) >= 3]:
                if any(len(o.split()) < len(name.split()) and not name.endswith(o) for o in names):
                    del names[name]
        # A last name stands for its most frequent full name, unless another is nearly as frequent (two Trumps).
        self.by_last: dict[str, Person | None] = {}
        for last, names in counts.items():
            ranked = [n for n, _ in names.most_common()]
            if not ranked:
                continue
            top = ranked[0]
            shorter = [n for n in ranked if top.endswith(" " + n)]  # 'Illinois JB Pritzker' ends with 'JB Pritzker'
            top = shorter[-1] if shorter else top
            rivals = [n for n in ranked if not n.endswith(top) and not top.endswith(n)]
            ambiguous = bool(rivals) and names[rivals[0]] * 2 > names[top]
            self.by_last[last] = None if ambiguous else Person(top, self.roles.get(top))
        self.recent: list[Person] = []  # the persons of the latest sentence that named any

    def _runs(self, sentence: str, mask: list[bool]) -> list[tuple[str | None, str]]:
        """The name runs of a sentence outside quotation marks, as (role, name); remembered per sentence (each
        sentence is read here once to learn the article's people and again for whom it mentions). `mask` is
        `inside_quotes(sentence)`, so the sentence alone is the key."""
        if (known := self._seen.get(sentence)) is not None:
            return known
        out = []
        for m in NAME_RE.finditer(sentence):
            if not mask[m.start()]:
                found = clean(m.group(), sentence[max(0, m.start() - 60): m.start()])
                if found:
                    out.append(found)
        self._seen[sentence] = out
        return out

    def mentions(self, sentence: str, mask: list[bool]) -> list[Person]:
        """Who a sentence names outside quotation marks (not organisations or places). A lone word that no full
        name explains ('Trump' in an article that never says 'Donald Trump') is kept too, with `known` False: it
        makes a pronoun ambiguous, but it is never made a speaker."""
        named: list[Person] = []
        for _, name in self._runs(sentence, mask):
            person = self.person(name)
            if person is None and not is_org(name):
                person = Person(name, self.roles.get(name), known=len(name.split()) >= 2)
            if person and person not in named:
                named.append(person)
        return named

    def person(self, name: str) -> Person | None:
        parts = name.split()
        known = self.by_last.get(parts[-1])
        if known and (len(parts) == 1 or known.name.endswith(name) or name.endswith(known.name)):
            return known
        return None

    def resolve(self, raw: str, before: str) -> Person | None:
        """The speaker a name run stands for: a known person, a new full name, or an acronym (CDC); a lone
        unknown word (Department, Moscow, Pritzker in an article that never gave his full name) is not."""
        found = clean(raw, before[-60:])
        if not found:
            return None
        role, name = found
        parts = name.split()
        known = self.person(name)
        candidate = self.by_last.get(parts[-1])
        if known is None and len(parts) >= 3 and candidate and candidate.name.split()[0] not in parts:
            known = candidate  # 'Bart Jansen Trump said': a byline run into the sentence
        if known:
            return Person(known.name, role or known.role)
        if len(parts) == 1 and not (name.isupper() and len(name) >= 3):
            return None
        return Person(name, role)

    def by_role(self, role: str) -> Person | None:
        """'the governor' -> the one person seen with that role (Gov. counts as governor), else None."""
        role = role.lower()
        found = {p for p in self.by_last.values() if p and p.role and role in role_words(p.role)}
        return found.pop() if len(found) == 1 else None
