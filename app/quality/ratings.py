"""Human ratings in SQLite (`<data_dir>/ratings.sqlite` by default): answers to rate ("items"), and per rater a
label for each claim (supported / not_supported / unsure) and a verdict on the whole answer (correct yes/no/unsure).

Items come from an eval run (`import_results`, keeping the judge's verdict for each claim and the automatic
answer_contains) or from a question asked in the UI (`add_answer`). Rating again replaces the rater's label.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from app.errors import NewsragError
from app.quality.sqlite_store import SqliteStore
from app.types import Answer

SENTENCE_LABELS = ("supported", "not_supported", "unsure")
ANSWER_LABELS = ("yes", "no", "unsure")

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    origin TEXT NOT NULL,
    question_id TEXT,
    question TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    claims_json TEXT NOT NULL,
    judges_json TEXT NOT NULL DEFAULT '{}',
    auto_json TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS sentence_ratings (
    item_id TEXT NOT NULL REFERENCES items(id),
    sentence INTEGER NOT NULL,
    rater TEXT NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('supported', 'not_supported', 'unsure')),
    rated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (item_id, sentence, rater));
CREATE TABLE IF NOT EXISTS answer_ratings (
    item_id TEXT NOT NULL REFERENCES items(id),
    rater TEXT NOT NULL,
    correct TEXT NOT NULL CHECK (correct IN ('yes', 'no', 'unsure')),
    comment TEXT,
    rated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (item_id, rater));
"""


def ratings_path(data_dir: Path) -> Path:
    return Path(data_dir) / "ratings.sqlite"


def item_id(question: str, answer_text: str) -> str:
    return hashlib.sha256(f"{question}\n\n{answer_text}".encode()).hexdigest()[:16]


def view_claims(answer: Answer, claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a rater sees per claim: its text and the quotes it cites."""
    by_n = {c.n: c for c in answer.citations}
    return [{"text": c["text"], "citations": [{"n": n, "title": by_n[n].title, "quote": by_n[n].quote,
                                              "article_id": by_n[n].article_id}
                                             for n in c["citations"] if n in by_n]} for c in claims]


class RatingsStore(SqliteStore):
    """Safe from any thread (the Gradio tab's) or process: see app/quality/sqlite_store.py."""

    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)

    # -- items ---------------------------------------------------------------------------------------------
    def add_answer(self, answer: Answer, claims: list[dict[str, Any]], origin: str, question_id: str | None = None,
                   judges: dict[str, list[bool | None]] | None = None, auto: dict[str, Any] | None = None) -> str:
        """Store an answer to rate (idempotent: the same question and answer text is one item; judge verdicts
        given again are merged in). Returns the item id."""
        iid = item_id(answer.question, answer.text)
        with self._db(write=True) as db:  # the read-merge-write below is one locked transaction
            row = db.execute("SELECT judges_json FROM items WHERE id = ?", (iid,)).fetchone()
            merged = {**(json.loads(row["judges_json"]) if row else {}), **(judges or {})}
            if row:
                db.execute("UPDATE items SET judges_json = ? WHERE id = ?", (json.dumps(merged), iid))
            else:
                db.execute("INSERT INTO items (id, origin, question_id, question, answer_json, claims_json, "
                           "judges_json, auto_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (iid, origin, question_id, answer.question, answer.model_dump_json(),
                            json.dumps(view_claims(answer, claims), ensure_ascii=False), json.dumps(merged),
                            json.dumps(auto or {})))
        return iid

    def import_results(self, path: Path, judge: str) -> int:
        """Every answered (not refused, not failed) question of an eval run's results.jsonl; returns how many."""
        n = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line) if line.strip() else None
            if not r or not r.get("answer") or r["answer"]["refused"] or not r["claims"]:
                continue
            auto = {k: r["verdicts"][k] for k in ("answer_contains",) if k in r["verdicts"]}
            self.add_answer(Answer.model_validate(r["answer"]), r["claims"], origin=str(path), question_id=r["id"],
                            judges={judge: [c["supported"] for c in r["claims"]]}, auto=auto)
            n += 1
        return n

    def items(self) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM items ORDER BY rowid").fetchall()
        return [self._item(r) for r in rows]

    def item(self, iid: str) -> dict[str, Any]:
        with self._db() as db:
            row = db.execute("SELECT * FROM items WHERE id = ?", (iid,)).fetchone()
        if row is None:
            raise NewsragError(f"no item {iid!r} to rate")
        return self._item(row)

    @staticmethod
    def _item(row: sqlite3.Row) -> dict[str, Any]:
        d = dict(row)
        for key in ("answer_json", "claims_json", "judges_json", "auto_json"):
            d[key.removesuffix("_json")] = json.loads(d.pop(key))
        return d

    def next_item(self, rater: str) -> dict[str, Any] | None:
        """The oldest item the rater has not judged as a whole yet."""
        with self._db() as db:
            row = db.execute("SELECT * FROM items WHERE id NOT IN (SELECT item_id FROM answer_ratings WHERE rater = ?)"
                             " ORDER BY rowid LIMIT 1", (rater,)).fetchone()
        return self._item(row) if row else None

    # -- ratings -------------------------------------------------------------------------------------------
    def rate(self, iid: str, rater: str, sentences: list[str | None], correct: str, comment: str | None = None) -> None:
        """One rater's labels for an item: one per claim (None: left unrated) and one for the answer."""
        rater = (rater or "").strip()
        if not rater:
            raise NewsragError("give your name as the rater first")
        item = self.item(iid)
        if len(sentences) != len(item["claims"]):
            raise NewsragError(f"item {iid} has {len(item['claims'])} sentences, got {len(sentences)} labels")
        bad = [s for s in sentences if s is not None and s not in SENTENCE_LABELS] + \
              ([correct] if correct not in ANSWER_LABELS else [])
        if bad:
            raise NewsragError(f"unknown label {bad[0]!r} (sentences: {', '.join(SENTENCE_LABELS)}; "
                               f"answer: {', '.join(ANSWER_LABELS)})")
        with self._db(write=True) as db:
            for i, label in enumerate(sentences):
                if label is not None:
                    db.execute("INSERT OR REPLACE INTO sentence_ratings (item_id, sentence, rater, label) "
                               "VALUES (?, ?, ?, ?)", (iid, i, rater, label))
            db.execute("INSERT OR REPLACE INTO answer_ratings (item_id, rater, correct, comment) VALUES (?, ?, ?, ?)",
                       (iid, rater, correct, comment or None))

    def sentence_ratings(self) -> list[dict[str, Any]]:
        with self._db() as db:
            return [dict(r) for r in db.execute("SELECT * FROM sentence_ratings ORDER BY item_id, sentence, rater")]

    def answer_ratings(self) -> list[dict[str, Any]]:
        with self._db() as db:
            return [dict(r) for r in db.execute("SELECT * FROM answer_ratings ORDER BY item_id, rater")]
