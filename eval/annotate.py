"""`newsrag eval annotate` in the terminal, and `newsrag eval feedback-dataset` (UI thumbs -> a dataset).

The rater sees the question, then each sentence of the answer with the quotes it cites, and types s / n / u
(supported, not supported, unsure) per sentence and y / n / u for the whole answer; q quits (what was
finished is kept).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from app.quality.ratings import RatingsStore

SENTENCE_KEYS = {"s": "supported", "n": "not_supported", "u": "unsure"}
ANSWER_KEYS = {"y": "yes", "n": "no", "u": "unsure"}


def _ask(read: Callable[[str], str], prompt: str, keys: dict[str, str]) -> str | None:
    """A label, or None to quit (q or end of input)."""
    while True:
        try:
            got = read(prompt).strip().lower()[:1]
        except EOFError:
            return None
        if got == "q":
            return None
        if got in keys:
            return keys[got]


def show_item(item: dict[str, Any], write: Callable[[str], None]) -> None:
    write(f"\n=== {item.get('question_id') or item['id']}: {item['question']}")
    for i, claim in enumerate(item["claims"], 1):
        write(textwrap.fill(f"({i}) {claim['text']}", 100, subsequent_indent="    "))
        for c in claim["citations"]:
            write(textwrap.fill(f"[{c['n']}] {c['title']}: “{c['quote']}”", 100, initial_indent="      ",
                                subsequent_indent="      "))
        if not claim["citations"]:
            write("      (no citation)")


def annotate(store: RatingsStore, rater: str, read: Callable[[str], str] | None = None,
             write: Callable[[str], None] = print, limit: int | None = None) -> int:
    """Rate the items this rater has not rated yet; returns how many were rated."""
    read = read or input  # looked up now, so a test can replace builtins.input
    done = 0
    while limit is None or done < limit:
        item = store.next_item(rater)
        if item is None:
            write("nothing left to rate.")
            break
        show_item(item, write)
        labels: list[str | None] = []
        for i in range(len(item["claims"])):
            label = _ask(read, f"sentence ({i + 1}) supported by its quotes? [s/n/u, q quits] ", SENTENCE_KEYS)
            if label is None:
                return done
            labels.append(label)
        correct = _ask(read, "does the answer answer the question correctly? [y/n/u, q quits] ", ANSWER_KEYS)
        if correct is None:
            return done
        try:
            comment = read("comment (optional, Enter to skip) ").strip()
        except EOFError:
            comment = ""
        store.rate(item["id"], rater, labels, correct, comment or None)
        done += 1
    return done


def feedback_dataset(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """UI/API thumbs (app/quality/feedback.py export) as dataset lines for the next run. The labels are weak: a
    thumbs-up answer's cited articles become `gold_article_ids`; no gold answer string is known (add `answers` by
    hand)."""
    out = []
    for r in records:
        answer = r.get("answer") or {}
        cited = list(dict.fromkeys(c["article_id"] for c in answer.get("citations") or []))
        out.append({"id": f"feedback-{r['id']}", "question": r["question"], "answers": [],
                    "gold_article_ids": cited if r["rating"] == "up" else [], "feedback": r["rating"],
                    "comment": r.get("comment"), "previous_answer": r.get("answer_text"),
                    "previous_refused": answer.get("refused"), "rated_at": r.get("created_at")})
    return out
