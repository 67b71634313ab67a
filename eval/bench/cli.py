"""`newsrag bench`: ingest speed against llama-index pipelines, INT8 vs fp32, retrieval latency at corpus sizes,
answer latency, cold start and memory, in one run (timings on a shared machine are noisy: compare the ratios).

    newsrag bench [--corpus ARTICLES] [--questions Q.jsonl] [--sizes 1000,10000,100000] [--quick] [--json] [--out DIR]

Publishers' texts stay out of the repository: corpora, indexes and models are cached in --cache
(default ~/.cache/newsrag/bench), keyed by content hash; only numbers are written to --out (default bench/results).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.cli.plugins import PluginCommand
from eval.bench.corpus import ROOT
from index.embedding.cpu import choose_backend, shown_flags, usable_cores

EPILOG = """examples:
  newsrag bench --quick --json                 the README's run (< 5 minutes): ratios, latencies, cold start
  newsrag bench --sizes 1000,10000,100000      the full run: 3 interleaved ingest rounds (the first run also
                                               embeds the whole corpus once: ~10 min more)
  newsrag bench --corpus my-news/ --questions qs.jsonl --quick"""


def bench_parser(sub: Any) -> None:
    """Called once from app/cli/main.py:parser()."""
    s = sub.add_parser("bench", help="benchmark ingest, retrieval, answers and cold start (vs llama-index)",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--corpus", type=Path, action="append", metavar="PATH",
                   help="articles (files or folders `newsrag ingest` takes); default: the RealTime QA set in "
                        "../shared/data/realtimeqa if present, else the bundled sample")
    s.add_argument("--questions", type=Path, metavar="Q.jsonl", help="questions with gold_article_ids, for Hit@5")
    s.add_argument("--sizes", help="corpus sizes in chunks for retrieval latency (quick: 1000,10000; "
                                   "full: 1000,10000,100000)")
    s.add_argument("--quick", action="store_true", help="a small run, under 5 minutes")
    s.add_argument("--json", action="store_true", help="print one summary JSON object")
    s.add_argument("--out", type=Path, default=ROOT / "bench" / "results",
                   help="where results go (default %(default)s)")
    s.add_argument("--cache", type=Path, help="cached corpora, indexes, models (default ~/.cache/newsrag/bench)")
    s.add_argument("--ingest-articles", type=int, metavar="N", help="articles in the ingest race (quick 40, full 600)")
    s.add_argument("--backends", default="auto,torch", help="newsrag embed backends to race, the first is the "
                   "one the targets judge; auto: the one newsrag chooses for this CPU (default %(default)s)")
    s.add_argument("--rounds", type=int, metavar="N", help="interleaved rounds of the ingest race; the ratios are "
                                                             "the median over rounds (quick 1, full 3)")
    s.add_argument("--cold-runs", type=int, default=3, metavar="N", help="timed `newsrag ask` cold starts")
    s.add_argument("--local", type=int, default=0, metavar="N",
                   help="also time N answers of `--answerer local` at the smallest size (~30 s each on 2 cores; "
                        "needs bash setup.sh --llm)")


def run(engine: Any, args: argparse.Namespace) -> int:
    """The handler `newsrag bench` dispatches to (the engine of the user's data dir is not used)."""
    from eval.bench.corpus import choose
    from eval.bench.report import summarize, write_results

    if importlib.util.find_spec("llama_index.embeddings.huggingface") is None:
        from app.errors import NewsragError

        raise NewsragError("the bench races llama-index's HuggingFaceEmbedding pipeline: install it with "
                           "`.venv/bin/pip install -e '.[bench]'`")
    started = time.time()
    cache = args.cache or Path.home() / ".cache" / "newsrag" / "bench"
    models = cache / "models"
    corpus = choose(args, cache)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    backends = list(dict.fromkeys(choose_backend() if b == "auto" else b for b in backends))
    _log(f"bench: {corpus.note}")
    _log(f"bench: CPU flags {shown_flags()}; {usable_cores()} usable cores; racing {', '.join(backends)}")
    _export_models(models, backends)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=_mkdir(cache)))
    try:
        from eval.bench.race import race

        ingest = race(backends, args.rounds or (1 if args.quick else 3), work, {
            "models_dir": str(models), "corpus": str(corpus.race_file), "questions": str(corpus.questions_file or ""),
            "chunk_tokens": 200, "chunk_overlap": 30}, _child, _log)
        ingest["cosine"] = _cosine(work, backends)
        default = backends[0]
        source = corpus.scale_source(work / f"newsrag-{default}", models, default, args.quick)
        scale = _scale(source, corpus, args, cache, models, default)
        _log("bench: cold start ...")
        from eval.bench.cold import cold_start

        cold = cold_start(work / f"newsrag-{default}", models, default, corpus.sample_questions[0], args.cold_runs,
                          cwd=work)
        summary = summarize(ingest, scale, cold, corpus, args, time.time() - started)
        paths = write_results(summary, args.out, "quick" if args.quick else "full")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(summary["summary"], ensure_ascii=False))
    else:
        print(paths["markdown"].read_text(encoding="utf-8"))
    _log(f"bench: results in {', '.join(str(p) for p in paths.values())}")
    return 0


def _scale(source: Path, corpus: Any, args: argparse.Namespace, cache: Path, models: Path,
           backend: str) -> list[dict[str, Any]]:
    from eval.bench.corpus import dir_key
    from eval.bench.scale import grow

    sizes = [int(s) for s in (args.sizes or ("1000,10000" if args.quick else "1000,10000,100000")).split(",")]
    results = []
    for size in sizes:
        target = cache / "sized" / f"{dir_key(source)}-{size}-grouped"  # grown as eval/bench/scale.py says
        if not (target / "done.json").exists():
            _log(f"bench: growing the index to {size} chunks ...")
            shutil.rmtree(target, ignore_errors=True)
            built = grow(source, size, _mkdir(target))
            (target / "done.json").write_text(json.dumps(built))
        built = json.loads((target / "done.json").read_text())
        _log(f"bench: retrieval and answers at {built['chunks']} chunks ...")
        measured = _child("eval.bench.scale", {
            "data_dir": str(target), "models_dir": str(models), "backend": backend,
            "questions": corpus.latency_questions, "repeats": 2 if args.quick else 3,
            "local": args.local if size == sizes[0] else 0})
        _log(f"bench: adding one article in a fresh process at {built['chunks']} chunks ...")
        from eval.bench.add_one import fresh_process

        measured["add_one_fresh"] = fresh_process(target, models, backend)
        results.append({"size": size, "build": built, **measured})
    return results


def _cosine(work: Path, backends: list[str]) -> dict[str, Any]:
    """Mean and min cosine of each ONNX backend's chunk vectors to the torch fp32 ones (same chunks, same run)."""
    if "torch" not in backends:
        return {}
    from index.store import ChromaStore

    reference = ChromaStore(work / "newsrag-torch")
    ids = sorted(reference.ids())
    ref = reference.vectors(ids)
    out = {}
    for b in backends:
        if b != "torch":
            other = ChromaStore(work / f"newsrag-{b}").vectors(ids)
            cos = [float(ref[i] @ other[i]) for i in ids if i in other]
            out[b] = {"mean": round(sum(cos) / len(cos), 4), "min": round(min(cos), 4), "n": len(cos)} if cos else {}
    return out


def _export_models(models: Path, backends: list[str]) -> None:
    from index.embedding.onnx_export import exported_model

    for b in backends:
        if b.startswith("onnx"):
            exported_model(models, b == "onnx-int8")


def _child(module: str, spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", module, json.dumps(spec)], cwd=ROOT, capture_output=True, text=True,
                          timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


COMMAND = PluginCommand("bench", needs_engine=False, add_parser=bench_parser, run=run)  # pyproject entry point
