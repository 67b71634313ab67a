"""The records the indexing stages pass along: Article -> Chunk, Quote."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel


class Article(BaseModel):
    id: str
    title: str
    text: str
    date: str | None = None
    url: str | None = None
    source: str | None = None
    path: str | None = None
    note: str | None = None  # something the user should know about how it was read (e.g. its encoding)

    @property
    def sha256(self) -> str:
        # The title is part of the identity: a retitled article is an update.
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
