"""Read article files into Articles, each by its format's reader (index/formats/); every problem becomes a one-line
Failure.

A bad record costs only itself: each field is checked (index/fields.py) and a record that fails is reported with
its file, line or list index and the field, while the rest of the file goes in. Reads are bounded: a file is read
to at most NEWSRAG_MAX_FILE_MB + 1 byte (a file that grew after its size was checked is still refused), a JSONL
line to at most the same.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from index.fields import make_id
from index.formats.base import MB, LoadError
from index.formats.decode import decode
from index.formats.registry import FORMATS, SUPPORTED, format_for
from index.types import Article, Failure, Skipped
from index.walk import iter_files, walk

__all__ = ["SUPPORTED", "Failure", "LoadError", "Skipped", "decode", "iter_files", "load_file", "load_paths",
           "slug"]

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
    kind = format_for(ext)
    if kind is None:
        raise LoadError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(SUPPORTED)})")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the ingest forever, a device never end
        raise LoadError("not a regular file")
    if info.st_size == 0:
        raise LoadError("empty file")
    stem = slug(path.stem)
    origin = origin or os.path.abspath(path)
    if FORMATS.entry(kind).options.get("streamed"):  # it bounds each record itself
        yield from FORMATS.factory(kind)(path, stem, max_mb, origin)
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
    items: Iterator[Article | Failure] = FORMATS.factory(kind)(text, path, stem, origin)
    for item in items:
        yield item.model_copy(update={"note": note}) if note and isinstance(item, Article) else item


def slug(name: str) -> str:
    """An id from a file name's stem (see index/fields.py:make_id: collision-free, any script)."""
    return make_id(name)
