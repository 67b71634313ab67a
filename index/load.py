"""Read article files (txt, md, html, json, jsonl) into Articles; every problem becomes a one-line Failure.

A bad record costs only itself: each field is checked (index/fields.py) and a record that fails is reported with
its file, line or list index and the field, while the rest of the file goes in. Reads are bounded: a file is read
to at most NEWSRAG_MAX_FILE_MB + 1 byte (a file that grew after its size was checked is still refused), a JSONL
line to at most the same.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import ValidationError

from index.fields import (
    CONTROL,
    FieldError,
    describe,
    front_matter,
    http_url,
    iso_date,
    lenient,
    make_id,
    record_id,
    text_field,
)
from index.types import Article, Failure, Skipped
from index.walk import iter_files, walk

__all__ = ["SUPPORTED", "Failure", "LoadError", "Skipped", "decode", "iter_files", "load_file", "load_paths",
           "slug"]

SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
MB = 1_000_000


class LoadError(Exception):
    """A file (or record) that cannot become an article; the message is shown to the user."""


def load_paths(paths: list[Path], max_mb: float = 20.0, follow_symlinks: bool = False,
               names: dict[Path, str] | None = None) -> Iterator[Article | Failure]:
    """Articles and Failures from files and folders. `names` gives the origin to record for a path (an upload:
    the name the client sent, not the temp file's); by default it is the file's absolute path."""
    for top in paths:
        named = names.get(top) if names else None
        for item in walk(top, follow_symlinks):
            if isinstance(item, Failure):
                yield item
                continue
            if named is None:
                origin, shown = os.path.abspath(item), str(item)
            else:
                rel = os.path.relpath(item, top)
                origin = shown = named if rel == "." else f"{named}/{rel}"
            try:
                for loaded in load_file(item, max_mb, origin):
                    if isinstance(loaded, Failure) and named is not None:
                        loaded.path = loaded.path.replace(str(item), shown, 1)
                    yield loaded
            except LoadError as exc:
                yield Failure(shown, str(exc))
            except OSError as exc:  # permissions, symlink loops, vanished files
                yield Failure(shown, f"cannot read: {exc.strerror or exc}")


def load_file(path: Path, max_mb: float = 20.0, origin: str | None = None) -> Iterator[Article | Failure]:
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise LoadError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(SUPPORTED)})")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the ingest forever, a device never end
        raise LoadError("not a regular file")
    if info.st_size == 0:
        raise LoadError("empty file")
    stem = slug(path.stem)
    origin = origin or os.path.abspath(path)
    if ext == ".jsonl":  # streamed line by line: the size limit applies to each record, not the file
        yield from _jsonl(path, stem, max_mb, origin)
        return
    limit = int(max_mb * MB)
    if info.st_size > limit:
        raise LoadError(f"file too large ({info.st_size / MB:.1f} MB > {max_mb:g} MB; raise NEWSRAG_MAX_FILE_MB "
                        "to allow it)")
    with path.open("rb") as handle:
        raw = handle.read(limit + 1)  # bounded: the file may have grown since the size check
    if len(raw) > limit:
        raise LoadError(f"file too large (it grew past {max_mb:g} MB while being read; raise NEWSRAG_MAX_FILE_MB "
                        "to allow it)")
    text, note = decode(raw)
    if not text.strip():
        raise LoadError("empty file (only whitespace)")
    if ext == ".json":
        items: Iterator[Article | Failure] = _records([("", text)], path, stem, origin)
    elif ext in (".html", ".htm"):
        items = iter([_html(text, stem, origin)])
    else:
        items = iter([_plain(text, stem, origin, markdown=ext in (".md", ".markdown"))])
    for item in items:
        yield item.model_copy(update={"note": note}) if note and isinstance(item, Article) else item


class _Bad(threading.local):
    """What the decode error handler saw, per thread: how many bytes were not UTF-8, and the first one."""
    count = 0
    first: tuple[int, int] | None = None


_bad = _Bad()


def _as_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """Decode error handler: the bytes that are not UTF-8 are read as Windows-1252, the valid runs stay UTF-8
    (a UTF-8 file with a few Latin-1 bytes pasted in keeps its UTF-8 text intact)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    if _bad.first is None:
        _bad.first = (exc.start, bad[0])
    _bad.count += len(bad)
    return bytes(bad).decode("cp1252", errors="replace"), exc.end


codecs.register_error("newsrag-cp1252", _as_cp1252)


def decode(raw: bytes) -> tuple[str, str | None]:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with a BOM; bytes that are not UTF-8 are read as
    Windows-1252 when the result reads as text. Returns (text, note); control characters are removed and newlines
    normalised."""
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
        _bad.count, _bad.first = 0, None
        text = raw.decode("utf-8-sig", errors="newsrag-cp1252")
        if _bad.first is not None:
            at, byte = _bad.first
            odd = sum(1 for c in text if c == "\ufffd" or (ord(c) < 32 and c not in "\n\r\t"))
            if odd > len(text) * 0.01:
                raise LoadError(f"not valid UTF-8 (bad byte 0x{byte:02x} at offset {at}) and not "
                                "Windows-1252 text either; re-save the file as UTF-8")
            note = (f"not valid UTF-8: {_bad.count} byte{'s' * (_bad.count != 1)} (the first 0x{byte:02x} at offset "
                    f"{at}) decoded as Windows-1252, the rest as UTF-8")
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text, note


def slug(name: str) -> str:
    """An id from a file name's stem (see index/fields.py:make_id: collision-free, any script)."""
    return make_id(name)


def _plain(text: str, stem: str, origin: str, markdown: bool) -> Article:
    """Front matter (`---` ... `---`) gives id, title, date, url and source; without a title there, the first
    non-empty line is the title; the rest (trimmed) is the article text."""
    meta: dict[str, str] = {}
    try:
        found = front_matter(text)
        if found:
            meta, text = found
        fields = _fields(meta)
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
    return _article(id=fields.pop("id") or stem, title=title, text=body, path=origin, **fields)


def _fields(meta: Mapping[str, object]) -> dict[str, str | None]:
    """id, title, date, url, source of a record or front matter, checked; FieldError names the first bad one."""
    return {"id": record_id(meta.get("id")), "title": text_field(meta.get("title"), "title"),
            "date": iso_date(meta.get("date")), "url": http_url(meta.get("url")),
            "source": text_field(meta.get("source"), "source")}


def _article(**values: str | None) -> Article:
    try:
        return Article(**values)  # type: ignore[arg-type]
    except ValidationError as exc:  # every field is checked before: this is a safety net, never a traceback
        err = exc.errors()[0]
        raise LoadError(f"'{'.'.join(map(str, err['loc']))}': {err['msg']}") from None


def _html(html: str, stem: str, origin: str) -> Article:
    import trafilatura

    extracted = trafilatura.extract(html, output_format="json", with_metadata=True, include_comments=False,
                                    include_tables=False, favor_precision=True)
    if not extracted:
        raise LoadError("no article text found in the HTML page")
    meta = json.loads(extracted)
    text = (meta.get("text") or "").strip()
    if not text:
        raise LoadError("no article text found in the HTML page")
    return _article(id=stem, title=lenient(lambda v: text_field(v, "title"), meta.get("title")) or stem, text=text,
                    date=lenient(iso_date, meta.get("date")),
                    url=lenient(http_url, meta.get("source")) or lenient(http_url, meta.get("url")),
                    source=lenient(lambda v: text_field(v, "source"), meta.get("hostname")), path=origin)


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
        fields = _fields(rec)
    except FieldError as exc:
        raise LoadError(str(exc)) from None
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    title = fields.pop("title") or text.split("\n", 1)[0][:80]
    return _article(id=fields.pop("id") or fallback_id, title=title, text=text, path=origin, record=record,
                    **fields)
