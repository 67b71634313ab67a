"""JSON (an object or a list of them) and JSON Lines (one object a line, streamed): fields `title`, `text`, and
optional `id`, `date`, `url`, `source`. A bad record costs only itself (file:line or file[i], and the field)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from index.fields import CONTROL, FieldError, describe
from index.formats.base import MB, LoadError, article, checked_fields
from index.formats.decode import decode
from index.types import Article, Failure


def read_json(text: str, path: Path, stem: str, origin: str) -> Iterator[Article | Failure]:
    if "jsonfeed.org" in text[:4096]:  # a JSON Feed saved as .json: one article per item (index/formats/feed.py)
        from index.formats import feed  # feedparser (~0.1 s): only for a JSON Feed

        try:
            is_feed = feed.is_json_feed(json.loads(text))
        except (ValueError, RecursionError):
            is_feed = False
        if is_feed:
            yield from feed.read(text, path, stem, origin)
            return
    yield from _records([("", text)], path, stem, origin)


def read_jsonl(path: Path, stem: str, max_mb: float, origin: str) -> Iterator[Article | Failure]:
    """Streamed line by line: the size limit applies to each record, not the file."""
    yield from _jsonl(path, stem, max_mb, origin)


def _jsonl(path: Path, stem: str, max_mb: float, origin: str) -> Iterator[Article | Failure]:
    limit = int(max_mb * MB)
    with path.open("rb") as handle:
        lineno = 0
        while line := handle.readline(limit + 1):  # bounded: one huge line is never read whole
            lineno += 1
            if len(line) > limit:
                size = len(line) + (0 if line.endswith(b"\n") else _skip_line(handle))
                yield Failure(f"{path}:{lineno}", f"record too large ({size / MB:.1f} MB > {max_mb:g} MB)")
                continue
            if not line.strip():
                continue
            try:
                text, note = decode(line)
            except LoadError as exc:
                yield Failure(f"{path}:{lineno}", str(exc))
                continue
            for item in _records([(f":{lineno}", text)], path, stem, origin):
                yield item.model_copy(update={"note": note}) if note and isinstance(item, Article) else item


def _skip_line(handle: object) -> int:
    """Read past the rest of a line without keeping it; returns how many bytes that was."""
    skipped = 0
    while block := handle.readline(1 << 16):  # type: ignore[attr-defined]
        skipped += len(block)
        if block.endswith(b"\n"):
            break
    return skipped


def _records(rows: list[tuple[str, str]], path: Path, stem: str, origin: str) -> Iterator[Article | Failure]:
    """`where` is "" for a .json file, ":N" for line N of a JSONL file; list items add "[i]"."""
    for where, raw in rows:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Failure(f"{path}{where}", f"invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield Failure(f"{path}{where}", "JSON nested too deeply")
            continue
        base = f"{stem}-{where[1:]}" if where else stem
        many = isinstance(data, list)
        for i, rec in enumerate(data if many else [data]):
            record = f"{where}[{i}]" if many else where
            try:
                yield _record(rec, f"{base}-{i}" if many else base, origin, record)
            except LoadError as exc:
                yield Failure(f"{path}{record}", str(exc))


def _record(rec: object, fallback_id: str, origin: str, record: str) -> Article:
    if not isinstance(rec, dict):
        raise LoadError("a JSON record must be an object with 'title' and 'text'")
    text = rec.get("text")
    if text is not None and not isinstance(text, str):
        raise LoadError(f"'text' must be a string, not {describe(text)}")
    if not text or not text.strip():
        raise LoadError("record has no 'text'")
    try:
        fields = checked_fields(rec)
    except FieldError as exc:
        raise LoadError(str(exc)) from None
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    title = fields.pop("title") or text.split("\n", 1)[0][:80]
    return article(id=fields.pop("id") or fallback_id, title=title, text=text, path=origin, record=record,
                    **fields)
