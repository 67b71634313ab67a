"""The embedded Chroma index without the `chromadb` package: reads and writes through `chromadb_rust_bindings`.

chromadb's PersistentClient is a Python shell around `chromadb_rust_bindings.Bindings`, which holds the index
(SQLite + HNSW files in the data dir's `chroma/`). Importing the shell costs ~0.8 s of CPU and 1.5 s of wall time
(half of it the `overrides` package checking method signatures as chromadb's classes are defined): a third of a
`newsrag ask` cold start and of a one-article `newsrag ingest`. What the shell adds for our calls is validation of
the request and telemetry (off here). So a local store opens the bindings as PersistentClient opens them (same
SQLite file and persist directory, migrations applied, the same HNSW cache size) and makes the same binding calls
PersistentClient would make for `get_or_create_collection`, `add`, `delete`, `query`, `get` and `count`: the same
engine on the same files, so an index written here opens with chromadb's client and the other way round
(tests/test_cold_start.py checks both). One Bindings per data dir per process, so a process always reads what it
wrote. A Chroma server (NEWSRAG_CHROMA_URL) still goes through chromadb's HttpClient (index/store.py).

Errors raised inside the bindings are chromadb's own exception classes (raising one imports `chromadb.errors`).
"""

from __future__ import annotations

import importlib
import json
import resource
import threading
from pathlib import Path
from typing import Any

import numpy as np

TENANT, DATABASE = "default_tenant", "default_database"  # chromadb.config.DEFAULT_TENANT, DEFAULT_DATABASE
# A new collection's metadata: distance = 1 - cosine, and its HNSW graph persisted once 100 records are pending (as
# many as Chroma applies at a time; its default is 1,000). A reopened index re-applies the records not yet persisted
# to the graph it loads, with parallel inserts: a tail of 100 or more gave every process a slightly different graph,
# so the same query could find other neighbours in another process (1,250 vectors with 250 pending: a different
# top 100 in each of 3 processes; with this, the same in all). It also spares each query reading that tail. A
# collection made before with Chroma's default gets the same setting at its first write in a process (`_collection`).
SYNC_THRESHOLD = 100
METADATA = {"hnsw:space": "cosine", "hnsw:sync_threshold": SYNC_THRESHOLD, "hnsw:batch_size": SYNC_THRESHOLD}

_lock = threading.Lock()
_bindings: dict[Path, Any] = {}  # one Bindings per chroma folder per process


def _open(key: Path, create: bool) -> Any | None:
    """This process's Bindings on the folder `key` (a resolved path; opened once), or None when there is no index
    there and `create` is false."""
    with _lock:
        if key not in _bindings:
            sqlite = key / "chroma.sqlite3"
            if not sqlite.exists() and not create:
                return None
            key.mkdir(parents=True, exist_ok=True)
            rb = importlib.import_module("chromadb_rust_bindings")
            config = rb.SqliteDBConfig(hash_type=rb.MigrationHash.MD5, migration_mode=rb.MigrationMode.Apply,
                                       url=str(sqlite))
            # as chromadb/api/rust.py: one HNSW index has 4 data files and 1 metadata file
            cache_size = resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 5
            _bindings[key] = rb.Bindings(allow_reset=False, sqlite_db_config=config, persist_path=str(key),
                                         hnsw_cache_size=cache_size)
        return _bindings[key]


class LocalCollection:
    """One collection of the embedded Chroma in `path`, opened on first use; nothing is created until a write."""

    def __init__(self, path: Path, name: str):
        self.path, self.name = Path(path), name
        self._key = self.path.resolve()  # once: resolving touches the file system, and every query opens
        self._id: str | None = None
        self._tuned = False  # opened for writing in this process, its sync threshold checked

    def _collection(self, create: bool) -> tuple[Any, str] | None:
        bindings = _open(self._key, create)
        if bindings is None:
            return None
        if create and not self._tuned:  # get or create
            collection = bindings.create_collection(self.name, None, None, METADATA, True, TENANT, DATABASE)
            self._id, self._tuned = str(collection.id), True
            hnsw = (collection.configuration or {}).get("hnsw") or {}
            if hnsw.get("sync_threshold") != SYNC_THRESHOLD:  # made before METADATA: the next add persists its tail
                tuned = {"hnsw": {"sync_threshold": SYNC_THRESHOLD, "batch_size": SYNC_THRESHOLD}}
                bindings.update_collection(self._id, None, None, json.dumps(tuned))
        elif self._id is None:
            known = {c.name for c in bindings.list_collections(None, None, TENANT, DATABASE)}
            if self.name not in known:
                return None
            self._id = str(bindings.get_collection(self.name, TENANT, DATABASE).id)
        return bindings, self._id

    def add(self, ids: list[str], embeddings: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        if len(set(ids)) != len(ids):  # chromadb's client refuses these; the bindings would keep the first
            raise ValueError("duplicate chunk ids in one add")
        found = self._collection(create=True)
        assert found is not None
        bindings, cid = found
        bindings.add(ids, cid, list(np.asarray(embeddings, dtype=np.float32)), metadatas, None, None, TENANT,
                     DATABASE)

    def delete(self, ids: list[str]) -> None:
        found = self._collection(create=False)
        if found is not None and ids:
            bindings, cid = found
            bindings.delete(cid, ids, None, None, None, TENANT, DATABASE)

    def query(self, vector: np.ndarray, k: int, among: list[str] | None) -> tuple[list[str], list[float]]:
        found = self._collection(create=False)
        if found is None:
            return [], []
        bindings, cid = found
        result = bindings.query(cid, among, [vector], k, None, None, ["distances"], TENANT, DATABASE)
        return list(result.ids[0]), [float(d) for d in result.distances[0]]

    def get(self, ids: list[str] | None = None, include: tuple[str, ...] = ()) -> dict[str, Any]:
        """chromadb's `collection.get` for these ids (all when None): ids plus the fields named in `include`."""
        found = self._collection(create=False)
        if found is None:
            return {"ids": [], **{field: [] for field in include}}
        bindings, cid = found
        got = bindings.get(cid, ids, None, None, 0, None, list(include), TENANT, DATABASE)
        return {"ids": list(got.ids), **{field: getattr(got, field) for field in include}}

    def count(self) -> int:
        found = self._collection(create=False)
        return 0 if found is None else int(found[0].count(found[1], TENANT, DATABASE))

    def max_batch_size(self) -> int:
        bindings = _open(self._key, create=True)
        assert bindings is not None  # created
        return int(bindings.get_max_batch_size())
