"""Read article files (txt, md, html, json, jsonl) into Articles; every problem becomes a one-line Failure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.types import Article

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")


@dataclass
class Failure:
    path: str
    reason: str


class LoadError(Exception):
    """A file (or record) that cannot become an article; the message is shown to the user."""


def iter_files(paths: list[Path]) -> Iterator[Path | Failure]:
    """Expand folders (recursively, sorted, hidden files skipped); report missing paths."""
    for path in paths:
        if not path.exists():
            yield Failure(str(path), "no such file or folder")
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield child
        else:
            yield path


def load_paths(paths: list[Path], max_mb: float = 20.0) -> Iterator[Article | Failure]:
    for item in iter_files(paths):
        if isinstance(item, Failure):
            yield item
            continue
        try:
            yield from load_file(item, max_mb)
        except LoadError as exc:
            yield Failure(str(item), str(exc))


def load_file(path: Path, max_mb: float = 20.0) -> Iterator[Article | Failure]:
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise LoadError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(SUPPORTED)})")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    if size > max_mb * 1_000_000:
        raise LoadError(f"file too large ({size / 1e6:.1f} MB > {max_mb:g} MB; raise NEWSRAG_MAX_FILE_MB to allow it)")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise LoadError("looks like a binary file (NUL bytes), not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not valid UTF-8 (bad byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                        "re-save the file as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("empty file (only whitespace)")
    stem = slug(path.stem)
    if ext in (".json", ".jsonl"):
        yield from _records(text, path, stem, jsonl=ext == ".jsonl")
    elif ext in (".html", ".htm"):
        yield _html(text, path, stem)
    else:
        yield _plain(text, path, stem, markdown=ext in (".md", ".markdown"))


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:120] or "article"


def _plain(text: str, path: Path, stem: str, markdown: bool) -> Article:
    """The first non-empty line is the title; the rest (trimmed) is the article text."""
    lines = text.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.strip())
    title = lines[first].strip()
    if markdown:
        title = title.lstrip("#").strip()
    body = "".join(lines[first + 1:]).strip()
    if not body:
        raise LoadError("no article text after the title line")
    return Article(id=stem, title=title, text=body, path=str(path))


def _html(html: str, path: Path, stem: str) -> Article:
    import trafilatura

    extracted = trafilatura.extract(html, output_format="json", with_metadata=True, include_comments=False,
                                    include_tables=False, favor_precision=True)
    if not extracted:
        raise LoadError("no article text found in the HTML page")
    meta = json.loads(extracted)
    text = (meta.get("text") or "").strip()
    if not text:
        raise LoadError("no article text found in the HTML page")
    return Article(id=stem, title=(meta.get("title") or stem).strip(), text=text, date=meta.get("date"),
                   url=meta.get("source") or meta.get("url"), source=meta.get("hostname"), path=str(path))


def _records(text: str, path: Path, stem: str, jsonl: bool) -> Iterator[Article | Failure]:
    if jsonl:
        rows: list[tuple[str, str]] = [(f"line {i}", line) for i, line in enumerate(text.split("\n"), 1)
                                       if line.strip()]
    else:
        rows = [("", text)]
    for where, raw in rows:
        label = f"{path}:{where.split()[-1]}" if where else str(path)
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Failure(label, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        base = f"{stem}-{where.split()[-1]}" if where else stem
        records = data if isinstance(data, list) else [data]
        for i, rec in enumerate(records):
            try:
                yield _record(rec, f"{base}-{i}" if len(records) > 1 else base, path)
            except LoadError as exc:
                yield Failure(label, str(exc))


def _record(rec: object, fallback_id: str, path: Path) -> Article:
    if not isinstance(rec, dict):
        raise LoadError("a JSON record must be an object with 'title' and 'text'")
    text = rec.get("text")
    if not isinstance(text, str) or not text.strip():
        raise LoadError("record has no 'text'")
    title = rec.get("title") or ""
    if not isinstance(title, str):
        raise LoadError("'title' must be a string")
    rid = rec.get("id")
    return Article(
        id=slug(str(rid)) if rid else fallback_id,
        title=title.strip() or text.strip().split("\n", 1)[0][:80],
        text=text.replace("\r\n", "\n").strip(),
        date=str(rec["date"]) if rec.get("date") else None,
        url=rec.get("url") or None,
        source=rec.get("source") or None,
        path=str(path),
    )
