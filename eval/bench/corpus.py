"""What the bench runs on: the corpus, the articles of the ingest race, the questions, the index to grow.

The race subset is deterministic: the gold articles of questions, those with the fewest gold articles first (up to
half the subset), then other articles in id order (RealTime QA ids are hashes, so that is a spread sample). Files
holding article text go to the cache, never to the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.progress import ProgressLog
from eval.bench.measure import read_questions

ROOT = Path(__file__).resolve().parents[2]
REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"
SAMPLE = ROOT / "examples" / "articles"
SAMPLE_QUESTIONS = ["What did Kerry say about Assad?", "Who is targeted by the Russian airstrikes?",
                    "What did Lavrov say?", "Where did the airstrikes take place?"]


@dataclass
class Corpus:
    note: str
    paths: list[Path]
    articles: int
    whole: bool
    race_file: Path
    cache: Path
    questions_file: Path | None = None
    latency_questions: list[str] = field(default_factory=list)
    sample_questions: list[str] = field(default_factory=list)

    def scale_source(self, race_dir: Path, models: Path, backend: str, quick: bool) -> Path:
        """The index to grow for the retrieval sizes: the race's own index in a quick run or when it covered the
        corpus, else the whole corpus (ingested once, cached)."""
        if quick or self.whole:
            return race_dir
        from app.engine import build_engine
        from app.settings import Settings
        from eval.dataset import content_hash

        target = self.cache / "corpora" / f"full-{content_hash(self.paths)[:16]}-{backend}-200-30"
        if not (target / "done.json").exists():
            print(f"bench: embedding the whole corpus once into {target} (later runs reuse it) ...", file=sys.stderr)
            settings = Settings(_env_file=None, data_dir=target, embedder="minilm",  # type: ignore[call-arg]
                                embed_backend=backend, model_cache_dir=models)  # type: ignore[arg-type]
            with ProgressLog("bench: ingest") as progress:
                report = build_engine(settings).ingest(self.paths, progress=progress)
            (target / "done.json").write_text(json.dumps({"articles": len(report.added), "chunks": report.chunks}))
        return target


def choose(args: argparse.Namespace, cache: Path) -> Corpus:
    from index.load import Failure, load_paths

    paths, questions_path = args.corpus, args.questions
    if not paths:
        if (REALTIMEQA / "articles.jsonl").exists():
            paths = [REALTIMEQA / "articles.jsonl"]
            questions_path = questions_path or REALTIMEQA / "questions_dev.jsonl"
        else:
            print(f"bench: the RealTime QA set is not in {REALTIMEQA}: using the bundled sample (no Hit@5)",
                  file=sys.stderr)
            paths = [SAMPLE]
    articles = [a for a in load_paths(paths) if not isinstance(a, Failure)]
    if not articles:
        raise SystemExit(f"bench: no articles could be loaded from {', '.join(map(str, paths))}")
    wanted = args.ingest_articles or (40 if args.quick else 600)
    known = {a.id for a in articles}
    chosen, gold = _questions(read_questions(questions_path), known, wanted // 2)
    rest = sorted((a for a in articles if a.id not in gold), key=lambda a: a.id)
    keep = gold | {a.id for a in rest[:max(0, wanted - len(gold))]}
    race = [a for a in articles if a.id in keep]
    corpora = cache / "corpora"
    corpora.mkdir(parents=True, exist_ok=True)
    race_file = _write(corpora, "race", [{"id": a.id, "title": a.title, "text": a.text, "date": a.date, "url": a.url,
                                          "source": a.source} for a in race])
    questions_file = _write(corpora, "questions", chosen) if chosen else None
    every = [r["question"] for r in _all_questions(questions_path)] or SAMPLE_QUESTIONS
    note = (f"{len(race)} of {len(articles)} articles from {', '.join(map(str, paths))} in the ingest race; "
            f"{len(chosen)} questions with gold articles for Hit@5" if chosen else "no questions: Hit@5 skipped")
    return Corpus(note=note, paths=list(paths), articles=len(race), whole=len(race) == len(articles),
                  race_file=race_file, cache=cache, questions_file=questions_file, latency_questions=every[:60],
                  sample_questions=[q["question"] for q in chosen][:1] or SAMPLE_QUESTIONS[:1])


def _questions(questions: list[dict[str, Any]], known: set[str], budget: int) -> tuple[list[dict[str, Any]], set[str]]:
    chosen: list[dict[str, Any]] = []
    gold: set[str] = set()
    for q in sorted(questions, key=lambda q: len(q["gold_article_ids"])):  # as many questions as the budget allows
        ids = set(q["gold_article_ids"]) & known
        if ids and len(gold | ids) <= budget:
            gold |= ids
            chosen.append({**q, "gold_article_ids": sorted(ids)})
    return chosen, gold


def _all_questions(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(folder: Path, stem: str, records: list[dict[str, Any]]) -> Path:
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path = folder / f"{stem}-{hashlib.sha256(body.encode()).hexdigest()[:16]}.jsonl"
    if not path.exists():
        path.write_text(body, encoding="utf-8")
    return path


def dir_key(data_dir: Path) -> str:
    """A content key of an index: its chunk ids and the embedder that made its vectors."""
    db = sqlite3.connect(data_dir / "manifest.sqlite")
    try:
        ids = [r[0] for r in db.execute("SELECT id FROM chunks ORDER BY id")]
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key LIKE 'embed_%'").fetchall())
    finally:
        db.close()
    return hashlib.sha256(json.dumps([ids, meta], sort_keys=True).encode()).hexdigest()[:16]
