"""Query a local Chroma index without importing the `chromadb` package.

chromadb's PersistentClient is a Python shell (~0.8 s of CPU to import, half of it checking method signatures) around
`chromadb_rust_bindings.Bindings`, which holds the index. A process that only asks questions opens the bindings the
way PersistentClient does (same SQLite file, same persist directory, same HNSW cache size, migrations validated, never
applied) and queries them: the same engine on the same files, so the same ids and distances.

Once this process opens a client on a data dir (to write, list ids or count), that data dir's reader is closed and
every query goes through the client, so a process always reads what it wrote. When anything about the reader cannot
be opened (no index yet, a missing collection, migrations pending), the caller falls back to the client.
"""

from __future__ import annotations

import importlib
import resource
import threading
from pathlib import Path
from typing import Any

import numpy as np

TENANT, DATABASE = "default_tenant", "default_database"  # chromadb.config.DEFAULT_TENANT, DEFAULT_DATABASE

_lock = threading.Lock()
_readers: dict[Path, tuple[Any, str] | None] = {}  # None: read through the client (or the reader cannot open)


def client_opened(path: Path) -> None:
    """This process opened a chromadb client on `path`: from now on queries go through it."""
    with _lock:
        _readers[path.resolve()] = None


def reader_query(path: Path, collection: str, vector: np.ndarray, k: int,
                 among: list[str] | None = None) -> tuple[list[str], list[float]] | None:
    """(ids, cosine distances) of the k nearest chunks (of `among`, when given), or None when the caller should ask
    the client."""
    key = path.resolve()
    with _lock:
        if key not in _readers:
            _readers[key] = _open(key, collection)
        reader = _readers[key]
    if reader is None:
        return None
    bindings, collection_id = reader
    result = bindings.query(collection_id, among, [vector], k, None, None, ["distances"], TENANT, DATABASE)
    return list(result.ids[0]), [float(d) for d in result.distances[0]]


def _open(path: Path, collection: str) -> tuple[Any, str] | None:
    sqlite = path / "chroma.sqlite3"
    if not sqlite.exists():
        return None
    try:
        rb = importlib.import_module("chromadb_rust_bindings")
        config = rb.SqliteDBConfig(hash_type=rb.MigrationHash.MD5, migration_mode=rb.MigrationMode.Validate,
                                   url=str(sqlite))
        # as chromadb/api/rust.py: one HNSW index has 4 data files and 1 metadata file
        cache_size = resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 5
        bindings = rb.Bindings(allow_reset=False, sqlite_db_config=config, persist_path=str(path),
                               hnsw_cache_size=cache_size)
        return bindings, str(bindings.get_collection(collection, TENANT, DATABASE).id)
    except Exception:  # the client will open it (or say what is wrong)
        return None
