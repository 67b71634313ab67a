"""Do two versions of the code rank the same passages and give the same answers? A speed change must not move a
single passage: run this before the change (`dump`), after it (`dump`), then `compare` the two files.

    PYTHONPATH=$PWD python scripts/same_results.py dump OUT.json --data-dir DIR [--questions Q.jsonl]
    python scripts/same_results.py compare BEFORE.json AFTER.json

Per question it records, for the question asked as of its date (eval's way) and undated (the bench's way): the
ranked chunk ids of `Engine.retrieve` at depth 10 and at NEWSRAG_TOP_K, and the extractive answer's text, refusal
and cited chunk ids. The corpus must already be indexed in DIR (a copy of the eval index: this never ingests).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT.parent / "shared" / "data" / "realtimeqa" / "questions_dev.jsonl"
CORPUS = ROOT.parent / "shared" / "data" / "realtimeqa" / "articles.jsonl"


def dump(out: Path, data_dir: Path, questions_path: Path, corpus: Path) -> None:
    from app.settings import Settings
    from eval.dataset import load_questions, open_corpus
    from eval.metrics import question_day

    engine, info = open_corpus(Settings(_env_file=None), [corpus], data_dir, quiet=True)  # type: ignore[call-arg]
    if not info.get("cached"):
        raise SystemExit(f"{data_dir} did not hold the corpus: copy the eval index there first")
    k = engine.settings.top_k
    records: list[dict[str, Any]] = []
    started = time.perf_counter()
    for q in load_questions(questions_path):
        record: dict[str, Any] = {"id": q.id}
        for name, day in (("dated", question_day(q)), ("undated", None)):
            answer = engine.ask(q.question, q.history or None, "extractive", as_of=day)
            query = answer.rewritten_query or q.question
            filters = engine.scope(query, day).filters
            record[name] = {
                "top10": [p.chunk_id for p in engine.retrieve(query, 10, filters)],
                "topk": [p.chunk_id for p in engine.retrieve(query, k, filters)],
                "answer": answer.text, "refused": answer.refused,
                "passages": [p.chunk_id for p in answer.passages],
                "cited": [(c.n, c.article_id, c.start, c.end, c.quote) for c in answer.citations],
            }
        records.append(record)
    out.write_text(json.dumps(records, indent=0), encoding="utf-8")
    print(f"{len(records)} questions in {time.perf_counter() - started:.1f} s -> {out}")


def compare(before: Path, after: Path) -> int:
    a = {r["id"]: r for r in json.loads(before.read_text(encoding="utf-8"))}
    b = {r["id"]: r for r in json.loads(after.read_text(encoding="utf-8"))}
    if a.keys() != b.keys():
        print(f"different questions: {len(a)} vs {len(b)}")
        return 1
    differ = [(qid, way, field) for qid in a for way in ("dated", "undated")
              for field in a[qid][way] if a[qid][way][field] != b[qid][way][field]]
    for qid, way, field in differ[:20]:
        print(f"{qid} {way} {field}:\n  before {a[qid][way][field]}\n  after  {b[qid][way][field]}")
    print(f"{len(a)} questions x 2 ways: {len(differ)} differences")
    return 1 if differ else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--data-dir", type=Path, required=True)
    d.add_argument("--questions", type=Path, default=QUESTIONS)
    d.add_argument("--corpus", type=Path, default=CORPUS)
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "dump":
        dump(args.out, args.data_dir, args.questions, args.corpus)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
