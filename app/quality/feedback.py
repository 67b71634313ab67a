"""Thumbs up/down on answers, kept in SQLite (`<data_dir>/feedback.sqlite`); shared by the API and the Gradio UI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.errors import NewsragError
from app.quality.sqlite_store import SqliteStore

RATINGS = ("up", "down")

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question TEXT NOT NULL,
    answer_text TEXT NOT NULL,
    comment TEXT,
    answer_id TEXT,
    answer_json TEXT);
"""


def normalise_rating(rating: str | int) -> str:
    if isinstance(rating, bool | int):
        if rating in (1, -1, 0):
            return "up" if rating == 1 else "down"
    elif rating in RATINGS:
        return rating
    raise NewsragError(f"rating must be 'up' or 'down', not {rating!r}.")


def feedback_path(data_dir: Path) -> Path:
    return Path(data_dir) / "feedback.sqlite"


class FeedbackStore(SqliteStore):
    """A tiny append-only store (see app/quality/sqlite_store.py: safe from any thread or process)."""

    def __init__(self, path: Path):
        super().__init__(path, SCHEMA)

    def add(self, question: str, answer_text: str, rating: str | int, comment: str | None = None,
            answer_json: dict[str, Any] | str | None = None, answer_id: str | None = None) -> int:
        """Store one rating ("up"/"down", or 1/-1 as Gradio's like event gives); returns its id.

        `answer_json` is the rated Answer (a dict or its JSON text), kept for review."""
        rating = normalise_rating(rating)
        if not question.strip():
            raise NewsragError("feedback needs the question it is about.")
        if isinstance(answer_json, dict):
            answer_json = json.dumps(answer_json, ensure_ascii=False)
        with self._db(write=True) as db:
            cur = db.execute(
                "INSERT INTO feedback (rating, question, answer_text, comment, answer_id, answer_json) "
                "VALUES (?, ?, ?, ?, ?, ?)", (rating, question, answer_text, comment or None, answer_id, answer_json))
            assert cur.lastrowid is not None
            return cur.lastrowid

    def export(self) -> list[dict[str, Any]]:
        """Every record, oldest first; `answer_json` parsed back into an object (or None)."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        out = []
        for row in rows:
            record = dict(row)
            raw = record.pop("answer_json")
            record["answer"] = json.loads(raw) if raw else None
            out.append(record)
        return out

    def count(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
