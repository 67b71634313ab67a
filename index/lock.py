"""One writer per data dir: the lock that ingest, remove, repair and the keyword index's persisting all take."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class IndexBusy(Exception):
    """Another process holds the write lock of this data dir."""


@contextmanager
def write_lock(data_dir: Path) -> Iterator[None]:
    """One writer at a time per data dir; a second writer is refused at once (readers are never blocked)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "write.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "unknown"
            raise IndexBusy(f"index is busy (pid {pid}): another newsrag process is writing to {data_dir}; "
                            "try again when it has finished") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
