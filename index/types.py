"""The records the indexing stages pass along: Article -> Chunk, Quote; Failure for what could not be read; and what
an ingest reports: IngestProgress while it runs, IngestReport when it ends (VerifyReport for `newsrag verify`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest is: sent after each article is read and after each group of chunks is embedded."""

    articles: int  # articles read so far (written, unchanged, duplicates, conflicts)
    total: int | None  # articles the input holds (counted before the ingest began); None when not counted
    chunks: int  # chunks embedded so far
    written: int  # articles written so far


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    rechunked: list[str] = field(default_factory=list)  # the same text, chunked again under other chunk settings
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[Failure] = field(default_factory=list)
    conflicts: list[Failure] = field(default_factory=list)  # an id taken by another file or record: not replaced
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)  # not read on purpose (symlinks out of the folder)
    notes: list[Failure] = field(default_factory=list)
    chunks: int = 0
    repaired: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False only when nothing could be ingested at all."""
        return bool(self.added or self.updated or self.rechunked or self.unchanged or self.duplicates
                    or not (self.failed or self.conflicts or self.skipped))

    def summary(self) -> str:
        extra = "".join(f", {name} {len(items)}" for name, items in (("rechunked", self.rechunked),
                                                                     ("conflicts", self.conflicts),
                                                                     ("duplicates skipped", self.duplicates),
                                                                     ("links skipped", self.skipped)) if items)
        lines = [f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
                 f"failed {len(self.failed)}{extra} ({self.chunks} new chunks)"]
        for label, items in (("failed", self.failed), ("conflict", self.conflicts), ("duplicate", self.duplicates),
                             ("skipped", self.skipped), ("note", self.notes)):
            lines += [f"  {label}: {f.path}: {f.reason}" for f in items]
        lines += [f"  repaired: {r}" for r in self.repaired]
        return "\n".join(lines)


@dataclass
class VerifyReport:
    articles: int
    chunks: int
    vectors: int
    keyword_chunks: int
    orphans: int
    missing: int
    keyword_stale: bool
    repaired: list[str] = field(default_factory=list)
    other_chunking: int = 0  # articles chunked under other chunk settings than the current ones (not an error)
    bands_missing: int = 0  # near-duplicate signatures without their LSH band rows (index/bands.py)

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing or self.keyword_stale or self.bands_missing)

    def summary(self) -> str:
        state = "clean" if self.clean else "NOT consistent"
        lines = [f"{state}: {self.articles} articles, {self.chunks} chunks in the manifest, {self.vectors} vectors "
                 f"in Chroma, {self.keyword_chunks} chunks in the keyword index"]
        if self.orphans:
            lines.append(f"  {self.orphans} vectors in Chroma that the manifest does not list (interrupted ingest)")
        if self.missing:
            lines.append(f"  {self.missing} manifest chunks missing from Chroma")
        if self.keyword_stale:
            lines.append("  the keyword index is out of date")
        if self.bands_missing:
            lines.append(f"  {self.bands_missing} near-duplicate signatures without their band rows (made at the next "
                         "ingest too)")
        lines += [f"  repaired: {r}" for r in self.repaired]
        if self.other_chunking:
            lines.append(f"  note: {stale_chunking(self.other_chunking)}")
        if not self.clean and not self.repaired:
            lines.append("run `newsrag verify --repair` to fix it")
        return "\n".join(lines)


def stale_chunking(count: int) -> str:
    return (f"{count} indexed article{'s were' if count != 1 else ' was'} chunked under other chunk settings "
            "(NEWSRAG_CHUNK_TOKENS, NEWSRAG_CHUNK_OVERLAP) and keep those chunks: ingest their files again to "
            "re-chunk them")
