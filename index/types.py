"""The records the indexing stages pass along: Article -> Chunk, Quote; Failure for what could not be read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass
class Failure:
    path: str
    reason: str


class Skipped(Failure):
    """A path that was not read on purpose (a symlink out of the given folder), with why."""


class Article(BaseModel):
    id: str
    title: str
    text: str
    date: str | None = None
    url: str | None = None
    source: str | None = None
    path: str | None = None  # its origin: the absolute path of its file, or the name an upload was sent under
    record: str | None = None  # where in that file, for JSON: ":3" (JSONL line 3), "[2]" (list item 2), ":4[1]"
    note: str | None = None  # something the user should know about how it was read (e.g. its encoding)

    @property
    def origin(self) -> str:
        """File and record, as reports show them: `/news/feed.jsonl:3`."""
        return f"{self.path or self.id}{self.record or ''}"

    @property
    def sha256(self) -> str:
        # The title is part of the identity: a retitled article is an update. Computed on each access (a copy
        # with another text must not keep a stale hash): callers in a loop take it once.
        return hashlib.sha256(f"{self.title}\n\n{self.text}".encode()).hexdigest()


class Chunk(BaseModel):
    """A piece of an article; `text == article.text[start:end]` always holds."""

    id: str
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


class Quote(BaseModel):
    """A sentence in which a named speaker says something (direct or reported speech)."""

    article_id: str
    speaker: str
    role: str | None = None
    verb: str
    start: int
    end: int
    text: str
