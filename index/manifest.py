"""The manifest (SQLite): the source of truth for which articles, chunks and quotes are indexed.

Chroma and the keyword index are derived from it: chunk ids not in the manifest are orphans and get removed.
It also keeps what fetching URLs needs next time (`fetches`: ETag, Last-Modified; index/remote/urls.py) and the
near-duplicate groups (`near_duplicates`, owned by index/duplicates.py). The file is long because every table's
reads and writes (articles and chunks, keyword rows, quotes, fetches, meta), and the one transaction they commit in,
are kept in one place.

Schema versions (meta `schema`): 1 (no key) as first shipped; 2 records each article's origin (`path`: the
absolute file path or the upload's name, `record`: the line or list index in it), so that a record from another
file can never silently replace an article, and keeps dates as ISO YYYY-MM-DD. A version 1 manifest is migrated
when opened: `record` is added (NULL marks an article indexed before origins were recorded) and dates are
normalised (one that cannot be read becomes NULL: it would sort and filter wrongly). 3 records how each article was
chunked (`chunking`: index/chunk.py's `Chunker.spec`; NULL for an article chunked before it was recorded, which the
next ingest of it checks by splitting it again).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from index.fields import FieldError, iso_date
from index.types import Article, Chunk, Quote

SCHEMA_VERSION = "3"
FIRST_RECIPE = "export v1"  # what the ONNX indexes built before recipes were recorded were exported with

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, url TEXT, source TEXT, path TEXT,
    text TEXT NOT NULL, sha256 TEXT NOT NULL, added_at TEXT DEFAULT CURRENT_TIMESTAMP, record TEXT, chunking TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS articles_sha ON articles(sha256);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS quotes (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE, speaker TEXT NOT NULL, role TEXT,
    verb TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS quotes_article ON quotes(article_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fetches (
    url TEXT PRIMARY KEY, kind TEXT NOT NULL, etag TEXT, last_modified TEXT, title TEXT, article_id TEXT,
    fetched_at TEXT DEFAULT CURRENT_TIMESTAMP);
"""


class Manifest:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        # Indexes derived from the chunks that must commit with them (the keyword index): each is called inside
        # commit's transaction with the (article, chunks) pairs it records.
        self.stages: list[Callable[[sqlite3.Connection, list[tuple[Article, list[Chunk]]]], None]] = []
        if self.meta("schema") != SCHEMA_VERSION:
            self._migrate()
        self.db.execute("CREATE INDEX IF NOT EXISTS articles_chunking ON articles(chunking)")  # (once it exists)

    def _migrate(self) -> None:
        with Transaction(self.db):  # another process may be migrating too: look again inside the transaction
            if self.meta("schema") == SCHEMA_VERSION:
                return
            columns = {row[1] for row in self.db.execute("PRAGMA table_info(articles)")}
            if "record" not in columns:
                self.db.execute("ALTER TABLE articles ADD COLUMN record TEXT")
            if "chunking" not in columns:
                self.db.execute("ALTER TABLE articles ADD COLUMN chunking TEXT")
            for row in self.db.execute("SELECT id, date FROM articles WHERE date IS NOT NULL").fetchall():
                try:
                    date = iso_date(row["date"])
                except FieldError:
                    date = None
                if date != row["date"]:
                    self.db.execute("UPDATE articles SET date=? WHERE id=?", (date, row["id"]))
            self.db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (SCHEMA_VERSION,))

    # -- reads ---------------------------------------------------------------------------------------
    def article(self, article_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE id=?", (article_id,)).fetchone()
        return _article(row) if row else None

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        ids = list(set(ids))
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT * FROM articles WHERE id IN ({marks})", ids).fetchall() if ids else []
        return {r["id"]: _article(r) for r in rows}

    def headers(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """What a citation shows of these articles (article_id, title, date, url, source), as plain dicts: a
        passage and its "also in" refs validate them in one pass (building an Article, then an ArticleRef, per
        header cost ~10 µs each, and an index of syndicated copies cites ~150 a question). Only columns stored before
        the text: a column after it is reached through the text's overflow pages."""
        ids = list(set(ids))
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"SELECT id, title, date, url, source FROM articles WHERE id IN ({marks})",
                               ids).fetchall() if ids else []
        return {r[0]: {"article_id": r[0], "title": r[1], "date": r[2], "url": r[3], "source": r[4]} for r in rows}

    def text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id=?", (article_id,)).fetchone()
        return row["text"] if row else None

    def origin(self, article_id: str) -> tuple[str | None, str | None] | None:
        """(path, record) of an article, None when there is no such article; record None: origin unknown (the
        article was indexed before origins were recorded)."""
        row = self.db.execute("SELECT path, record FROM articles WHERE id=?", (article_id,)).fetchone()
        return (row["path"], row["record"]) if row else None

    def chunking(self, article_id: str) -> str | None:
        """How the article was chunked (`Chunker.spec`); None when that was not recorded (or no such article)."""
        row = self.db.execute("SELECT chunking FROM articles WHERE id=?", (article_id,)).fetchone()
        return row["chunking"] if row else None

    def chunk_spans(self, article_id: str) -> list[tuple[int, int]]:
        return [(r[0], r[1]) for r in self.db.execute(
            'SELECT start, "end" FROM chunks WHERE article_id=? ORDER BY ordinal', (article_id,))]

    def other_chunkings(self, spec: str) -> int:
        """Articles recorded as chunked otherwise than `spec` (two ranges of the chunking index: a GROUP BY read
        every article's row, texts included, on every ingest: ~10 ms at 3k articles)."""
        return int(self.db.execute("SELECT COUNT(*) FROM articles WHERE chunking < ? OR chunking > ?",
                                   (spec, spec)).fetchone()[0])

    def sha_owner(self, sha: str) -> str | None:
        row = self.db.execute("SELECT id FROM articles WHERE sha256=?", (sha,)).fetchone()
        return row["id"] if row else None

    def listing(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT a.id, a.title, a.date, a.source, a.url, a.path, length(a.text) AS chars, COUNT(c.id) AS chunks "
            "FROM articles a LEFT JOIN chunks c ON c.article_id = a.id GROUP BY a.id ORDER BY a.date DESC, a.title"
        ).fetchall()
        return [dict(r) for r in rows]

    def chunk_rows(self) -> list[sqlite3.Row]:
        return self.db.execute(
            'SELECT c.id, c.article_id, c.start, c."end", a.title, a.text FROM chunks c '
            "JOIN articles a ON a.id = c.article_id ORDER BY c.article_id, c.ordinal").fetchall()

    def chunk_ids(self, article_id: str | None = None) -> set[str]:
        if article_id is None:
            return {r[0] for r in self.db.execute("SELECT id FROM chunks")}
        return {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id=?", (article_id,))}

    def chunks_by_id(self, ids: list[str]) -> dict[str, sqlite3.Row]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f'SELECT id, article_id, start, "end" FROM chunks WHERE id IN ({marks})',
                               ids).fetchall() if ids else []
        return {r["id"]: r for r in rows}

    def filter_table(self) -> tuple[list[tuple[str, str | None, str | None]], dict[str, list[str]]]:
        """What retrieval's filters are judged on (app/answering/retrieve.py): every article's (id, date, source),
        and each article's chunk ids."""
        articles = [(r[0], r[1], r[2]) for r in self.db.execute("SELECT id, date, source FROM articles")]
        chunks: dict[str, list[str]] = {}
        for cid, aid in self.db.execute("SELECT id, article_id FROM chunks"):
            chunks.setdefault(aid, []).append(cid)
        return articles, chunks

    def dated(self, start: str | None = None, end: str | None = None) -> tuple[int, str | None]:
        """(how many articles are dated within [start, end], the newest such date)."""
        row = self.db.execute("SELECT COUNT(*), MAX(date) FROM articles WHERE date IS NOT NULL AND date >= ? AND "
                              "date <= ?", (start or "0000", end or "9999")).fetchone()
        return int(row[0]), row[1]

    def quote_speakers(self) -> list[str]:
        """Every distinct speaker name of the stored quotes (app/answering/speakers.py matches names against them)."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT speaker FROM quotes")]

    def quotes_of(self, speakers: list[str]) -> list[Quote]:
        """The quotes of these exact speaker names, in corpus order."""
        marks = ",".join("?" * len(speakers))
        rows = self.db.execute(
            'SELECT q.*, substr(a.text, q.start + 1, q."end" - q.start) AS text FROM quotes q '
            f"JOIN articles a ON a.id = q.article_id WHERE q.speaker IN ({marks}) ORDER BY q.rowid",
            speakers).fetchall() if speakers else []
        return [Quote(**dict(r)) for r in rows]

    def all_articles(self) -> Iterator[Article]:
        """Every article (to find the quotes again after an upgrade: index/quotes/finder.py)."""
        for row in self.db.execute("SELECT * FROM articles ORDER BY id").fetchall():
            yield _article(row)

    def fetch_state(self, url: str) -> sqlite3.Row | None:
        """What the last fetch of `url` left (index/remote/urls.py): kind, etag, last_modified, title, article_id."""
        return self.db.execute("SELECT * FROM fetches WHERE url=?", (url,)).fetchone()

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def generation(self) -> int:
        return int(self.meta("generation") or 0)

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def claim_embedder(self, model: str, backend: str, recipe: str = "") -> tuple[str, str, str] | None:
        """Record the embedder (model, backend, export recipe) that makes this index's vectors. Returns the recorded
        triple when a different one made the vectors already (the caller must refuse: vectors of two embedders never
        mix); an empty index adopts the new one. An index built before the backend was recorded was built with
        torch; an ONNX one built before the recipe was recorded was exported as "export v1" (the only recipe then)."""
        recorded = (self.meta("embed_model"), self.meta("embed_backend"), self.meta("embed_recipe"))
        if recorded == (model, backend, recipe):
            return None
        with Transaction(self.db):
            model_was, backend_was, recipe_was = (self.meta("embed_model"), self.meta("embed_backend"),
                                                  self.meta("embed_recipe"))
            has_vectors = self.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None
            if has_vectors and model_was is None:
                model_was, backend_was = model, "torch" if model == "all-MiniLM-L6-v2" else backend
            if has_vectors and recipe_was is None:
                recipe_was = FIRST_RECIPE if str(backend_was).startswith("onnx") else ""
            if has_vectors and (model_was, backend_was, recipe_was) != (model, backend, recipe):
                return (str(model_was), str(backend_was), str(recipe_was))
            self.db.executemany("INSERT INTO meta (key, value) VALUES (?, ?) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                [("embed_model", model), ("embed_backend", backend), ("embed_recipe", recipe)])
        return None

    # -- writes (each one transaction) ---------------------------------------------------------------
    def commit(self, items: list[tuple[Article, list[Chunk], list[Quote]]], chunking: str | None = None) -> set[str]:
        """Record articles with their chunks (made as `chunking` says) and quotes, atomically; returns the chunk ids
        they replaced."""
        replaced: set[str] = set()
        with Transaction(self.db):
            for article, chunks, quotes in items:
                replaced |= self.chunk_ids(article.id)
                self.db.execute("DELETE FROM articles WHERE id=?", (article.id,))
                self.db.execute(
                    "INSERT INTO articles (id, title, date, url, source, path, record, text, sha256, chunking) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (article.id, article.title, article.date, article.url, article.source, article.path,
                     article.record or "", article.text, article.sha256, chunking))
                self.db.executemany('INSERT INTO chunks (id, article_id, ordinal, start, "end") VALUES (?,?,?,?,?)',
                                    [(c.id, c.article_id, c.ordinal, c.start, c.end) for c in chunks])
                self.db.executemany('INSERT INTO quotes (article_id, speaker, role, verb, start, "end") '
                                    "VALUES (?,?,?,?,?,?)",
                                    [(q.article_id, q.speaker, q.role, q.verb, q.start, q.end) for q in quotes])
            for stage in self.stages:
                stage(self.db, [(article, chunks) for article, chunks, _ in items])
            if not self.stages:  # nothing indexed these chunks' keywords: the next sync (index/keyword.py) will
                self.set_meta("unstaged", "1")
            self._bump()
        return replaced - {c.id for _, chunks, _ in items for c in chunks}

    def replace_quotes(self, quotes: list[Quote], version: str) -> None:
        """Swap every stored quote for `quotes` (found by quote finder `version`), atomically. No generation bump:
        chunks, vectors and the keyword index are unchanged."""
        with Transaction(self.db):
            self.db.execute("DELETE FROM quotes")
            self.db.executemany('INSERT INTO quotes (article_id, speaker, role, verb, start, "end") '
                                "VALUES (?,?,?,?,?,?)",
                                [(q.article_id, q.speaker, q.role, q.verb, q.start, q.end) for q in quotes])
            self.db.execute("INSERT INTO meta (key, value) VALUES ('quotes_version', ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (version,))

    def record_chunking(self, article_id: str, chunking: str) -> None:
        """For an article chunked before chunking was recorded, once its chunks are found to be `chunking`'s."""
        self.db.execute("UPDATE articles SET chunking=? WHERE id=?", (chunking, article_id))

    def save_fetch(self, url: str, kind: str, etag: str | None, last_modified: str | None, title: str | None,
                   article_id: str | None) -> None:
        self.db.execute("INSERT INTO fetches (url, kind, etag, last_modified, title, article_id) VALUES (?,?,?,?,?,?) "
                        "ON CONFLICT(url) DO UPDATE SET kind=excluded.kind, etag=excluded.etag, "
                        "last_modified=excluded.last_modified, title=coalesce(excluded.title, title), "
                        "article_id=excluded.article_id, fetched_at=CURRENT_TIMESTAMP",
                        (url, kind, etag, last_modified, title, article_id))

    def remove(self, article_id: str) -> set[str]:
        with Transaction(self.db):
            ids = self.chunk_ids(article_id)
            self.db.execute("DELETE FROM articles WHERE id=?", (article_id,))
            self._bump()
        return ids

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def transaction(self) -> Transaction:
        """`with manifest.transaction() as db:` one write transaction (BEGIN IMMEDIATE), rolled back on error."""
        return Transaction(self.db)

    def bump(self) -> None:
        """A new generation (inside a write transaction): readers that cache what they read look again."""
        self._bump()

    def _bump(self) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES ('generation', '1') "
                        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")


class Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *_):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _article(row: sqlite3.Row) -> Article:
    return Article(id=row["id"], title=row["title"], text=row["text"], date=row["date"], url=row["url"],
                   source=row["source"], path=row["path"], record=row["record"])
