"""Generate unanswerable questions about real entities of the shared corpus (eval/datasets/unanswerable.jsonl).

    python -m eval.make_unanswerable [--corpus ../shared/data/realtimeqa/articles.jsonl] [--out FILE] [--n 60]

Each question pairs an entity the corpus mentions often (so retrieval finds plausible passages and the
answerer is tempted) with a fact the corpus cannot contain, checked against every article:
  - says-about:  "What did <person> say about <topic>?"       no article mentions both the person and the topic
  - visit:       "When did <person> last visit <place>?"        no article mentions both the person and the place
  - org-place:   "How many people does <org> employ in <place>?"  no article mentions both
  - future:      "Who won the <year> <event>?"                   a year after the corpus ends (July 2026), and no
                                                                 article contains "<year> <event>"
Only the questions are written (entity names and templates): never article text. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import re
from pathlib import Path

from eval.labels import REALTIMEQA

PEOPLE = ["Donald Trump", "Elon Musk", "Vladimir Putin", "Volodymyr Zelensky", "Xi Jinping", "Nicolás Maduro",
          "Benjamin Netanyahu", "Keir Starmer", "Emmanuel Macron", "Jerome Powell", "Mark Zuckerberg", "Sam Altman",
          "Jensen Huang", "Gavin Newsom", "Kamala Harris", "JD Vance", "Marco Rubio", "Pete Hegseth", "Tim Cook",
          "Jeff Bezos", "LeBron James", "Taylor Swift", "Bad Bunny", "Narendra Modi", "Kim Jong Un", "Javier Milei",
          "Mark Carney", "Friedrich Merz", "Giorgia Meloni", "Zohran Mamdani", "Kristi Noem", "Kash Patel",
          "Pam Bondi", "Chuck Schumer", "Mike Johnson", "Nancy Pelosi", "Bernie Sanders", "Ron DeSantis",
          "Greg Abbott", "Joe Biden", "Barack Obama", "Hillary Clinton", "Pope Leo", "King Charles", "Prince Harry",
          "Patrick Mahomes", "Shohei Ohtani", "Simone Biles", "Lionel Messi", "Cristiano Ronaldo"]
ORGS = ["NASA", "Apple", "Google", "Microsoft", "Amazon", "Tesla", "Nvidia", "OpenAI", "Boeing", "Disney", "Netflix",
        "FIFA", "NATO", "Walmart", "Starbucks", "Meta", "SpaceX", "Pfizer", "Toyota", "Ford"]
TOPICS = {"beekeeping": "beekeep", "the price of saffron": "saffron", "Olympic curling": "curling",
          "Antarctic krill fishing": "krill", "origami": "origami", "competitive yodelling": "yodel",
          "llama farming": "llama farm", "stamp collecting": "philatel|stamp collect", "lighthouse restoration":
          "lighthouse", "the harpsichord": "harpsichord", "Mongolian throat singing": "throat sing",
          "glacier tourism in Patagonia": "patagonia", "bonsai trees": "bonsai", "the Dead Sea Scrolls": "dead sea",
          "medieval tapestries": "tapestr", "falconry": "falconr", "the Eurovision Song Contest": "eurovision"}
PLACES = ["Tuvalu", "the Faroe Islands", "Bhutan", "Svalbard", "Nauru", "Liechtenstein", "Andorra", "Vanuatu",
          "Tristan da Cunha", "the Azores", "Kiribati", "San Marino", "Madagascar", "Mongolia", "Suriname"]
EVENTS = {"Super Bowl": "Super Bowl", "FIFA World Cup": "World Cup", "Tour de France": "Tour de France",
          "Wimbledon men's singles title": "Wimbledon", "Eurovision Song Contest": "Eurovision",
          "Nobel Peace Prize": "Nobel Peace Prize", "Ballon d'Or": "Ballon d'Or", "Kentucky Derby": "Kentucky Derby"}
YEARS = [2028, 2029, 2030, 2031]
MIN_ARTICLES = 3  # an entity must be mentioned by at least this many articles
FULL_NAME = {"Pope Leo", "King Charles", "Prince Harry", "Bad Bunny", "Kim Jong Un"}  # surname alone is ambiguous


def _term(text: str) -> str:
    return re.sub(r"^the\s+", "", text)


class Corpus:
    """Which articles match a pattern: one regex pass over all the texts joined, positions mapped to articles."""

    def __init__(self, texts: list[str]):
        self.joined = "\n\0\n".join(texts)
        self.lower = self.joined.lower()
        self.starts = list(itertools.accumulate((len(t) + 3 for t in texts[:-1]), initial=0))

    def mentions(self, pattern: str, case: bool = True, word_start: bool = True) -> set[int]:
        """Articles with a match; `word_start`: only where no word character comes right before it (a leading
        \\b, checked by hand: a pattern that starts with a literal is searched ~15x faster)."""
        text = self.joined if case else self.lower
        rx = re.compile(pattern if case else pattern.lower())
        return {bisect.bisect_right(self.starts, m.start()) - 1 for m in rx.finditer(text)
                if not (word_start and m.start() and (text[m.start() - 1].isalnum() or text[m.start() - 1] == "_"))}


def entity_pattern(name: str) -> str:
    """A person by surname (word-bounded): the absence checks use this wider net."""
    last = name.split()[-1] if name in PEOPLE and name not in FULL_NAME else _term(name)
    return rf"{re.escape(last)}\b"


def candidates(texts: list[str]) -> list[dict]:
    """Every question that passes the checks, in a fixed order."""
    corpus = Corpus(texts)
    # present: the full name in at least MIN_ARTICLES articles; absent facts: no article with the surname
    present = {e: corpus.mentions(rf"{re.escape(_term(e))}\b") for e in PEOPLE + ORGS}
    present |= {e: corpus.mentions(re.escape(k), case=False, word_start=False) for e, k in EVENTS.items()}
    where = {e: corpus.mentions(entity_pattern(e)) for e in PEOPLE + ORGS}
    people = [p for p in PEOPLE if len(present[p]) >= MIN_ARTICLES]
    orgs = [o for o in ORGS if len(present[o]) >= MIN_ARTICLES]
    topic_docs = {t: corpus.mentions(rf"(?:{k})", case=False) for t, k in TOPICS.items()}
    place_docs = {p: corpus.mentions(entity_pattern(p)) for p in PLACES}
    found: list[dict] = []

    def add(kind: str, question: str, entity: str, absent: str) -> None:
        found.append({"question": question, "kind": kind, "entity": entity, "absent": absent,
                           "entity_articles": len(present[entity])})

    for person in people:
        for topic, docs in topic_docs.items():
            if not where[person] & docs:
                add("says-about", f"What did {person} say about {topic}?", person, topic)
        for place, docs in place_docs.items():
            if not where[person] & docs:
                add("visit", f"When did {person} last visit {place}?", person, place)
    for org in orgs:
        for place, docs in place_docs.items():
            if not where[org] & docs:
                add("org-place", f"How many people does {org} employ in {place}?", org, place)
    for year in YEARS:
        for event, key in EVENTS.items():
            if not corpus.mentions(rf"{year}\W+{re.escape(key)}", case=False, word_start=False):
                add("future", f"Who won the {year} {event}?", event, f"{year} (after the corpus)")
    return found


def generate(texts: list[str], n: int = 60, seed: int = 0) -> list[dict]:
    """A seeded spread of the candidates: at most two questions per entity, the kinds in turn."""
    pool = candidates(texts)
    random.Random(seed).shuffle(pool)
    by_kind: dict[str, list[dict]] = {}
    for c in pool:
        by_kind.setdefault(c["kind"], []).append(c)
    chosen: list[dict] = []
    used: dict[str, int] = {}
    while len(chosen) < n and any(by_kind.values()):
        for kind in sorted(by_kind):
            left = by_kind[kind]
            while left:
                c = left.pop()
                if used.get(c["entity"], 0) < 2:
                    used[c["entity"]] = used.get(c["entity"], 0) + 1
                    chosen.append(c)
                    break
            if len(chosen) == n:
                break
    return [{"id": f"unans-{i:03d}", "question": c["question"], "answer": None, "answers": [],
             "gold_article_ids": [], "answerable": False, "kind": c["kind"], "entity": c["entity"],
             "absent": c["absent"], "entity_articles": c["entity_articles"]} for i, c in enumerate(chosen, 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REALTIMEQA / "articles.jsonl")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "datasets" / "unanswerable.jsonl")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus} (see ../shared/data/realtimeqa/PROVENANCE.md); nothing generated")
        return 1
    texts = [json.loads(line)["text"] for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = generate(texts, args.n, args.seed)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print(f"wrote {len(rows)} questions to {args.out}: {kinds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
