"""Plain text and Markdown: optional front matter, then the title line, then the text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from index.fields import FieldError, front_matter
from index.formats.base import LoadError, article, checked_fields
from index.types import Article, Failure


def read_text(text: str, path: Path, stem: str, origin: str) -> Iterator[Article | Failure]:
    yield _plain(text, stem, origin, markdown=False)


def read_markdown(text: str, path: Path, stem: str, origin: str) -> Iterator[Article | Failure]:
    yield _plain(text, stem, origin, markdown=True)


def _plain(text: str, stem: str, origin: str, markdown: bool) -> Article:
    """Front matter (`---` ... `---`) gives id, title, date, url and source; without a title there, the first
    non-empty line is the title; the rest (trimmed) is the article text."""
    meta: dict[str, str] = {}
    try:
        found = front_matter(text)
        if found:
            meta, text = found
        fields = checked_fields(meta)
    except FieldError as exc:
        raise LoadError(f"front matter {exc}") from None
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise LoadError("no article text after the front matter")
    heading = lines[first].strip()
    if markdown:
        heading = heading.lstrip("#").strip()
    title = fields.pop("title") or heading
    if title == heading:  # the title line is not part of the text
        lines = lines[first + 1:]
    body = "".join(lines).strip()
    if not body:
        raise LoadError("no article text after the title line")
    return article(id=fields.pop("id") or stem, title=title, text=body, path=origin, **fields)


