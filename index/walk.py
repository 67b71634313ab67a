"""Which files a list of paths means: folders expanded, hidden entries skipped, symlinks kept inside the folder.

A path given by name is read even when it is a symlink: the user chose it. Inside a folder, a symlink whose target
lies outside that folder is not followed (a planted `passwd.txt -> /etc/passwd` would be indexed and shown to
everyone who can search), unless `follow_symlinks` says so; each one skipped is reported with why. Symlinked
folders are never entered without `follow_symlinks` (their files are read where they live, if inside); with it,
each real folder is entered once, so a link back to a parent cannot loop.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from index.types import Failure, Skipped

HINT = "pass --follow-symlinks to read it"


def iter_files(paths: list[Path], follow_symlinks: bool = False) -> Iterator[Path | Failure]:
    for path in paths:
        yield from walk(path, follow_symlinks)


def walk(path: Path, follow_symlinks: bool = False) -> Iterator[Path | Failure]:
    """The files under `path` (sorted), or `path` itself when it is a file."""
    if not path.is_dir():
        yield path if path.exists() or path.is_symlink() else Failure(str(path), "no such file or folder")
        return
    root = path.resolve()
    entered = {root}
    for folder, dirs, files in os.walk(path, followlinks=follow_symlinks):
        names = sorted(d for d in dirs if not d.startswith("."))
        keep = [d for d in names if not (Path(folder) / d).is_symlink()]
        entered.update((Path(folder) / d).resolve() for d in keep)
        for name in (d for d in names if d not in keep):
            sub = Path(folder) / name
            target = _target(sub)
            if target is None:
                yield Failure(str(sub), "cannot read: broken symbolic link or a symlink loop")
            elif not follow_symlinks:
                where = "inside the folder: its files are read there" if target.is_relative_to(root) else \
                        f"outside {path} ({target}); {HINT}"
                yield Skipped(str(sub), f"symlink to a folder {where}")
            elif target in entered:
                yield Skipped(str(sub), f"symlink to a folder already read ({target}): not entered twice")
            else:
                entered.add(target)
                keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            if name.startswith("."):
                continue
            file = Path(folder) / name
            if file.is_symlink() and not follow_symlinks:
                target = _target(file)
                if target is not None and not target.is_relative_to(root):
                    yield Skipped(str(file), f"symlink to a file outside {path} ({target}): not followed; {HINT}")
                    continue
            yield file  # a broken link or a loop fails when it is read, with the reason


def _target(link: Path) -> Path | None:
    try:
        return link.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target, or a loop (RuntimeError before Python 3.13)
        return None

