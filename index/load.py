"""Read article files (txt, md, html, json, jsonl) into Articles; every problem becomes a one-line Failure."""

from __future__ import annotations

import json
import os
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
    """Expand folders (recursively, sorted, hidden entries skipped, symlinked folders not followed)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        elif path.exists() or path.is_symlink():
            yield path
        else:
            yield Failure(str(path), "no such file or folder")


def load_paths(paths: list[Path], max_mb: float = 20.0) -> Iterator[Article | Failure]:
    for item in iter_files(paths):
        if isinstance(item, Failure):
            yield item
            continue
        try:
            yield from load_file(item, max_mb)
        except LoadError as exc:
            yield Failure(str(item), str(exc))
        except OSError as exc:  # permissions, symlink loops, vanished files
            yield Failure(str(item), f"cannot read: {exc.strerror or exc}")


def load_file(path: Path, max_mb: float = 20.0) -> Iterator[Article | Failure]:
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise LoadError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(SUPPORTED)})")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    stem = slug(path.stem)
    if ext == ".jsonl":  # streamed line by line: the size limit applies to each record, not the file
        yield from _jsonl(path, stem, max_mb)
        return
    if size > max_mb * 1_000_000:
        raise LoadError(f"file too large ({size / 1e6:.1f} MB > {max_mb:g} MB; raise NEWSRAG_MAX_FILE_MB to allow it)")
    text, note = decode(path.read_bytes())
    if not text.strip():
        raise LoadError("empty file (only whitespace)")
    if ext == ".json":
        items: Iterator[Article | Failure] = _records([("", text)], path, stem)
    elif ext in (".html", ".htm"):
        items = iter([_html(text, path, stem)])
    else:
        items = iter([_plain(text, path, stem, markdown=ext in (".md", ".markdown"))])
    for item in items:
        yield item.model_copy(update={"note": note}) if note and isinstance(item, Article) else item


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode(raw: bytes) -> tuple[str, str | None]:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 when it reads as
    text. Returns (text, note); control characters are removed and newlines normalised."""
    note = None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError("starts with a UTF-16 mark but is not valid UTF-16") from None
        note = "decoded as UTF-16"
    elif b"\x00" in raw[:8192]:
        raise LoadError("looks like a binary file (NUL bytes), not text")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text = raw.decode("cp1252", errors="replace")
            odd = sum(1 for c in text if c == "\ufffd" or (ord(c) < 32 and c not in "\n\r\t"))
            if odd > len(text) * 0.01:
                raise LoadError(f"not valid UTF-8 (bad byte 0x{raw[exc.start]:02x} at offset {exc.start}) and not "
                                "Windows-1252 text either; re-save the file as UTF-8") from None
            note = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); decoded as Windows-1252"
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text, note


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


def _jsonl(path: Path, stem: str, max_mb: float) -> Iterator[Article | Failure]:
    limit = int(max_mb * 1_000_000)
    with path.open("rb") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if len(line) > limit:
                yield Failure(f"{path}:{lineno}", f"record too large ({len(line) / 1e6:.1f} MB > {max_mb:g} MB)")
                continue
            try:
                text, _ = decode(line)
            except LoadError as exc:
                yield Failure(f"{path}:{lineno}", str(exc))
                continue
            yield from _records([(f"line {lineno}", text)], path, stem)


def _records(rows: list[tuple[str, str]], path: Path, stem: str) -> Iterator[Article | Failure]:
    for where, raw in rows:
        label = f"{path}:{where.split()[-1]}" if where else str(path)
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Failure(label, f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield Failure(label, "JSON nested too deeply")
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
        title=_CONTROL.sub("", title).strip() or text.strip().split("\n", 1)[0][:80],
        text=_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip(),
        date=str(rec["date"]) if rec.get("date") else None,
        url=rec.get("url") or None,
        source=rec.get("source") or None,
        path=str(path),
    )
