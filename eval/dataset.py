"""Evaluation inputs: the question dataset (JSONL) and the corpus, ingested once into its own cached data dir.

Dataset lines: `question` (required), `id`, `answer` (string) or `answers` (list), `gold_article_ids`, `answerable`
(default true), `history` (earlier turns: `{role, content}`), anything else is kept in `extra`. This is the shape of
`../shared/data/realtimeqa/questions_dev.jsonl`.

The corpus (any path `newsrag ingest` takes) goes into `<cache>/<corpus hash>-<index settings hash>` unless a data
dir is given; a marker file records what was ingested (and a hash of the embedder's vectors for fixed probe texts),
so the next run with the same corpus starts at once, and an index the current embedder would not reproduce is
refused instead of silently mixed with new query vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import NewsragError
from app.progress import ProgressLog
from app.types import Turn
from index.embedding.factory import vectors_key

if TYPE_CHECKING:
    from app.engine import Engine
    from app.settings import Settings

MARKER = "eval-corpus.json"
KNOWN = {"id", "question", "answer", "answers", "gold_article_ids", "answerable", "history"}


@dataclass
class Question:
    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    gold_article_ids: list[str] = field(default_factory=list)
    answerable: bool = True
    history: list[Turn] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def parse_question(record: object, lineno: int) -> Question:
    where = f"line {lineno}"
    if not isinstance(record, dict):
        raise NewsragError(f"dataset {where}: expected a JSON object")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise NewsragError(f"dataset {where}: 'question' must be a non-empty string")
    answers = record.get("answers") or []
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise NewsragError(f"dataset {where}: 'answers' must be a list of strings")
    single = record.get("answer")
    if single is not None and not isinstance(single, str):
        raise NewsragError(f"dataset {where}: 'answer' must be a string")
    gold = record.get("gold_article_ids") or []
    if not isinstance(gold, list):
        raise NewsragError(f"dataset {where}: 'gold_article_ids' must be a list")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise NewsragError(f"dataset {where}: 'answerable' must be true or false")
    try:
        history = [Turn.model_validate(t) for t in record.get("history") or []]
    except ValueError as exc:
        raise NewsragError(f"dataset {where}: 'history' must be a list of {{role, content}} turns ({exc})") from None
    merged = list(dict.fromkeys(a.strip() for a in ([single] if single else []) + answers if a.strip()))
    return Question(id=str(record.get("id") or f"q{lineno}"), question=question.strip(), answers=merged,
                    gold_article_ids=[str(g) for g in gold], answerable=answerable, history=history,
                    extra={k: v for k, v in record.items() if k not in KNOWN})


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    if not path.exists():
        raise NewsragError(f"dataset not found: {path}")
    questions: list[Question] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise NewsragError(f"dataset line {lineno}: invalid JSON ({exc.msg})") from None
        questions.append(parse_question(record, lineno))
    ids = [q.id for q in questions]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        raise NewsragError(f"dataset {path}: duplicate ids {', '.join(dups[:5])}")
    if not questions:
        raise NewsragError(f"dataset {path} has no questions")
    return questions[:limit] if limit else questions


# -- the corpus ------------------------------------------------------------------------------------------
def corpus_files(paths: list[Path]) -> list[Path]:
    from index.load import Failure, iter_files

    missing = [p for p in paths if not p.exists()]
    if missing:
        raise NewsragError(f"corpus not found: {', '.join(map(str, missing))} (the RealTime QA corpus lives in "
                           "../shared/data/realtimeqa/articles.jsonl; see its PROVENANCE.md)")
    return [f for f in iter_files(paths) if not isinstance(f, Failure)]


def content_hash(paths: list[Path]) -> str:
    """sha256 over the corpus files' names and bytes, in a stable order."""
    digest = hashlib.sha256()
    for f in sorted(corpus_files(paths), key=lambda p: (p.name, str(p))):
        digest.update(f.name.encode() + b"\0")
        with f.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def index_key(settings: Settings) -> str:
    """The settings that shape the index: a corpus ingested under other ones is another cache entry."""
    keys = {k: str(getattr(settings, k, None)) for k in ("embedder", "embed_backend", "chunk_tokens",
                                                          "chunk_overlap")}
    vectors = vectors_key(settings.embedder, settings.embed_backend)  # "auto" resolved, and the export recipe
    keys.update(embed_backend=vectors.get("embed_backend", keys["embed_backend"]))
    if "recipe" in vectors:
        keys["recipe"] = vectors["recipe"]
    return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:8]


PROBE = ["Russia launched air strikes in Syria on Wednesday.", "How many people were killed?",
         "The council approved 12 kilometres of cycle lanes after a three-hour debate."]


def embedder_probe(engine: Engine) -> str:
    """A hash of the embedder's vectors for fixed texts: when the model, its backend or its numerics change,
    an index built before no longer matches the queries, and the probe says so."""
    import numpy as np

    # one text at a time: with dynamic INT8 a text's vector depends on its batch companions
    # (app/answering/embed_cache.py)
    vectors = np.stack([np.asarray(engine.embedder.embed([text])[0], dtype=np.float32) for text in PROBE])
    return hashlib.sha256(np.round(vectors, 4).tobytes()).hexdigest()[:16]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsrag" / "eval"


def subset_corpus(paths: list[Path], questions: list[Question], distractors: int, out_dir: Path,
                  seed: int = 0) -> Path:
    """The gold articles of `questions` plus `distractors` other articles (a seeded sample), as one JSONL file
    in `out_dir` (a cache, never the repository: it holds article text)."""
    from index.load import Failure, load_paths

    articles = [a for a in load_paths(corpus_files(paths)) if not isinstance(a, Failure)]
    gold = {g for q in questions for g in q.gold_article_ids}
    others = sorted(a.id for a in articles if a.id not in gold)
    keep = gold | set(random.Random(seed).sample(others, min(distractors, len(others))))
    lines = [json.dumps({"id": a.id, "title": a.title, "text": a.text, "date": a.date, "url": a.url,
                         "source": a.source}, ensure_ascii=False) for a in articles if a.id in keep]
    body = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"subset-{hashlib.sha256(body.encode()).hexdigest()[:16]}.jsonl"
    if not path.exists():
        path.write_text(body, encoding="utf-8")
    return path


def open_corpus(settings: Settings, paths: list[Path], data_dir: Path | None = None,
                quiet: bool = False) -> tuple[Engine, dict[str, Any]]:
    """An engine over the corpus, ingesting it only when its data dir does not hold it yet."""
    from app.engine import build_engine

    corpus = content_hash(paths)
    cached = data_dir is None  # the cache dir is ours: an interrupted ingest there is resumed
    data_dir = data_dir or cache_root() / f"{corpus[:16]}-{index_key(settings)}"
    update: dict[str, Any] = {"data_dir": data_dir}
    if "model_cache_dir" in type(settings).model_fields and not getattr(settings, "model_cache_dir", None):
        update["model_cache_dir"] = cache_root() / "models"  # one exported model for every eval corpus
    engine = build_engine(settings.model_copy(update=update))
    key, probe = index_key(settings), embedder_probe(engine)
    marker = data_dir / MARKER
    info = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else None
    if info is not None:
        if info.get("corpus_hash") != corpus or info.get("index_key") != key:
            raise NewsragError(f"{data_dir} holds another corpus or index settings: give another --data-dir")
        if info.get("probe") != probe:
            raise NewsragError(f"the embedder's output has changed since {data_dir} was indexed (its vectors would "
                               f"not match the queries'): delete that directory and run again to re-index")
        if info.get("complete"):
            return engine, {**info, "cached": True}
    elif engine.manifest.count() and not cached:
        raise NewsragError(f"{data_dir} already holds {engine.manifest.count()} articles that are not an eval "
                           "corpus: give an empty or new --data-dir")
    info = {"corpus_hash": corpus, "index_key": key, "probe": probe, "corpus": [str(p) for p in paths],
            "complete": False}
    marker.write_text(json.dumps(info, indent=1), encoding="utf-8")  # an interrupted ingest resumes under it
    if not quiet:
        print(f"ingesting the corpus into {data_dir} (once; later runs reuse it) ...", file=sys.stderr)
    with ProgressLog("eval: ingest", enabled=not quiet) as progress:
        report = engine.ingest(paths, progress=progress)
    if not report.ok:
        raise NewsragError(f"nothing in the corpus could be ingested:\n{report.summary()}")
    info.update(articles=engine.manifest.count(), failed=len(report.failed), complete=True,
                duplicates=[f.path + ": " + f.reason for f in report.duplicates])
    marker.write_text(json.dumps(info, indent=1), encoding="utf-8")
    return engine, {**info, "cached": False}
