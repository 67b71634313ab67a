"""The `newsrag eval` command group: run an evaluation, rate answers, measure agreement, turn feedback into data.

    newsrag eval --dataset Q.jsonl --corpus ARTICLES.jsonl [--answerer extractive|llm] [--judge offline|llm]
                 [--k 5] [--limit N] [--distractors N] [--data-dir DIR] --out DIR [--json]
                 [--fail-under hit@5=0.8 ...] [--fail-over false_refusal_rate=0.2 ...]
    newsrag eval compare RUN_A RUN_B [--json]
    newsrag eval annotate --rater NAME [--import DIR/results.jsonl] [--ratings FILE]
    newsrag eval agreement [--ratings FILE] [--json]
    newsrag eval feedback-dataset [-o FILE]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.answering.registry import ANSWERERS
from app.cli.plugins import PluginCommand
from app.errors import NewsragError
from app.quality.judges import JUDGES

if TYPE_CHECKING:
    from app.engine import Engine

EPILOG = """examples:
  newsrag eval --dataset ../shared/data/realtimeqa/questions_dev.jsonl \\
               --corpus ../shared/data/realtimeqa/articles.jsonl --out eval-out
  newsrag eval --dataset eval/datasets/sample.jsonl --corpus examples/articles \\
               --corpus eval/datasets/sample-distractors.jsonl --judge llm --out eval-out --json
  newsrag eval --dataset ... --corpus ... --fail-under hit@5=0.8 --fail-under answer_contains=0.5
  newsrag eval compare eval-out/before eval-out/after
  newsrag eval annotate --rater alice --import eval-out/results.jsonl
  newsrag eval agreement"""


def add_eval_parser(sub: Any) -> None:
    """Called once from app/cli/main.py:parser()."""
    s = sub.add_parser("eval", help="score retrieval, answers, faithfulness and citations on a question dataset",
                       description=__doc__, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--dataset", type=Path, metavar="Q.jsonl", help="questions (see docs/eval.md for the fields)")
    s.add_argument("--corpus", type=Path, action="append", metavar="PATH",
                   help="articles: files or folders `newsrag ingest` takes (repeatable)")
    s.add_argument("--answerer", choices=ANSWERERS.names(), help="default: NEWSRAG_ANSWERER (extractive)")
    s.add_argument("--judge", choices=JUDGES.names(), default="offline", help=JUDGES.describe())
    s.add_argument("--judge-base-url", help="the LLM judge's endpoint (default: NEWSRAG_LLM_BASE_URL)")
    s.add_argument("--judge-model", help="the LLM judge's model (default: NEWSRAG_LLM_MODEL)")
    s.add_argument("--k", "-k", type=int, metavar="N", help="passages the answerer gets (default: NEWSRAG_TOP_K)")
    s.add_argument("--evidence", choices=["passage", "quote"], default="passage",
                   help="what a citation is judged against: the retrieved passage (default) or its quote")
    s.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    s.add_argument("--ignore-dates", action="store_true",
                   help="answer every question as of the newest article, not as of its own `date`")
    s.add_argument("--split", choices=("calibration", "validation"),
                   help="only one half of the committed seeded split (tune on calibration, report both)")
    s.add_argument("--split-file", type=Path, metavar="FILE",
                   help="default: eval/datasets/realtimeqa-dev-split.json (see eval/split.py)")
    s.add_argument("--distractors", type=int, metavar="N",
                   help="ingest only the questions' gold articles plus N other articles (a seeded sample)")
    s.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="where the corpus is indexed (default: ~/.cache/newsrag/eval/<corpus hash>)")
    s.add_argument("--out", type=Path, metavar="DIR", help="write results.jsonl, report.md, report.html here")
    s.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    for flag, past in (("--fail-under", "below VALUE (or is not measured), e.g. hit@5=0.8"),
                       ("--fail-over", "above VALUE (rates where lower is better), e.g. false_refusal_rate=0.2")):
        s.add_argument(flag, action="append", default=[], metavar="METRIC=VALUE", type=threshold,
                       help=f"exit 1 when METRIC is {past}; repeatable, or comma-separated")
    es = s.add_subparsers(dest="eval_command", metavar="ACTION")
    c = es.add_parser("compare", help="two runs: per-metric differences with 95%% intervals, flipped questions",
                      description=COMPARE_DOC)
    c.add_argument("run_a", type=Path, metavar="RUN_A", help="an eval --out folder (the baseline)")
    c.add_argument("run_b", type=Path, metavar="RUN_B", help="another one (the change)")
    c.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    a = es.add_parser("annotate", help="rate answers sentence by sentence in the terminal")
    a.add_argument("--rater", help="your name (stored with every rating)")
    a.add_argument("--import", dest="imports", type=Path, action="append", metavar="results.jsonl",
                   help="add the answers of an eval run to rate (repeatable)")
    a.add_argument("--judge-name", default="offline", help="whose verdicts the imported results hold")
    a.add_argument("--limit", type=int, metavar="N", help="stop after N answers")
    a.add_argument("--ratings", type=Path, metavar="FILE", help="default: NEWSRAG_DATA_DIR/ratings.sqlite")
    g = es.add_parser("agreement", help="Cohen's kappa between raters, and between raters and the judges")
    g.add_argument("--ratings", type=Path, metavar="FILE", help="default: NEWSRAG_DATA_DIR/ratings.sqlite")
    g.add_argument("--json", action="store_true")
    f = es.add_parser("feedback-dataset", help="the UI's thumbs up/down as a dataset for the next run")
    f.add_argument("--feedback", type=Path, metavar="FILE", help="default: NEWSRAG_DATA_DIR/feedback.sqlite")
    f.add_argument("--output", "-o", type=Path, metavar="FILE.jsonl", help="default: standard output")


COMPARE_DOC = ("Per metric: A, B, B - A and its paired bootstrap 95%% interval (marked better or worse when it "
               "excludes 0); then the questions whose verdicts flipped. See docs/eval.md.")


def threshold(text: str) -> list[tuple[str, float]]:
    """`hit@5=0.8` (or several, comma-separated) as [(metric, value)], checked against the metric names."""
    from eval.summary import METRICS

    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, eq, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not eq or number is None or name.strip() not in METRICS:
            raise argparse.ArgumentTypeError(f"{part!r}: expected METRIC=VALUE with METRIC one of "
                                             f"{', '.join(METRICS)} and VALUE a number, e.g. hit@5=0.8")
        out.append((name.strip(), number))
    return out


def run(engine: Engine | None, args: argparse.Namespace) -> int:
    """The handler app/cli/commands.py calls for `newsrag eval ...` (comparing runs needs no engine: none is built,
    so no model loads and no data dir is made)."""
    action = getattr(args, "eval_command", None)
    if action == "compare":
        from eval.compare import compare_command

        return compare_command(args)
    if engine is None:
        from app.engine import build_engine
        from app.settings import Settings

        engine = build_engine(Settings())  # the CLI checked the settings already (app/settings.py:load_settings)
    if action == "annotate":
        return annotate_command(engine, args)
    if action == "agreement":
        return agreement_command(engine, args)
    if action == "feedback-dataset":
        return feedback_command(engine, args)
    return evaluate_command(engine, args)


def evaluate_command(engine: Engine, args: argparse.Namespace) -> int:
    from app.quality.judges import make_judge
    from eval.dataset import load_questions, open_corpus, subset_corpus
    from eval.report import write_report
    from eval.runner import EvalConfig, run_with_bar
    from eval.summary import summarise

    if not args.dataset or not args.corpus:
        raise NewsragError("newsrag eval needs --dataset Q.jsonl and --corpus PATH (see `newsrag eval --help`).")
    settings = engine.settings
    questions = load_questions(args.dataset)
    if args.split:
        from eval.split import DEFAULT, split_ids

        wanted = split_ids(args.split, args.split_file or DEFAULT)
        questions = [q for q in questions if q.id in wanted]
        if not questions:
            raise NewsragError(f"no question of {args.dataset} is in the {args.split} half of the split file")
    questions = questions[:args.limit] if args.limit else questions
    corpus: list[Path] = list(args.corpus)
    if args.distractors is not None:
        from eval.dataset import cache_root

        corpus = [subset_corpus(corpus, questions, args.distractors, cache_root() / "subsets")]
    # the corpus ingest reports on stderr even with --json (stdout holds the JSON; a first ingest takes minutes)
    evaluated, info = open_corpus(settings, corpus, args.data_dir)
    judge = make_judge(args.judge, settings, evaluated.embedder, args.judge_base_url, args.judge_model)
    if args.answerer:
        evaluated.answerer(args.answerer)  # a misconfigured answerer fails now, not per question
    indexed = {a["id"] for a in evaluated.articles()}
    gold = {g for q in questions for g in q.gold_article_ids}
    cfg = EvalConfig(answerer=args.answerer, k=args.k, evidence=args.evidence, dated=not args.ignore_dates)
    records = run_with_bar(evaluated, questions, judge, cfg, quiet=bool(args.json))
    run_info = {"dataset": str(args.dataset), "corpus": ", ".join(map(str, args.corpus)),
                "corpus_hash": info["corpus_hash"][:16], "articles": info["articles"],
                "gold_ids_not_indexed": len(gold - indexed), "answerer": args.answerer or settings.answerer,
                "k": args.k or settings.top_k, "evidence": args.evidence, "settings_hash": settings.fingerprint(),
                "embedder": settings.embedder, "embed_backend": getattr(settings, "embed_backend", None)}
    if args.distractors is not None:
        run_info["distractors"] = args.distractors
    if args.split:
        run_info["split"] = args.split
    run_info["as_of"] = "newest article" if args.ignore_dates else "each question's date"
    summary = summarise(records, run_info, {"name": judge.name, "calls": judge.calls, "failures": judge.failures})
    command = "newsrag eval " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if sys.argv[1:2] == ["eval"] \
        else "newsrag eval (called in-process)"
    if args.out:
        written = write_report(args.out, summary, records, command)
        print(f"wrote {', '.join(map(str, written))}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(render_summary(summary))
    from eval.compare import check_thresholds

    return check_thresholds(summary, args.fail_under, args.fail_over)


def render_summary(summary: dict[str, Any]) -> str:
    from eval.summary import stats_from_summary

    lines = [f"{summary['questions']} questions ({summary['errors']} errors), answerer {summary['run']['answerer']}, "
             f"judge {summary['judge']['name']} ({summary['judge']['failures']} failures of "
             f"{summary['judge']['calls']} calls)"]
    lines += [f"  {name:<20} {stat.show()}" for name, stat in stats_from_summary(summary).items()]
    lines += [f"  latency {stage:<12} p50 {v['p50']} ms, p95 {v['p95']} ms (n={v['n']})"
              for stage, v in summary["latency_ms"].items()]
    return "\n".join(lines)


def _ratings(engine: Engine, args: argparse.Namespace) -> Any:
    from app.quality.ratings import RatingsStore, ratings_path

    return RatingsStore(args.ratings or ratings_path(engine.settings.data_dir))


def annotate_command(engine: Engine, args: argparse.Namespace) -> int:
    from eval.annotate import annotate

    store = _ratings(engine, args)
    for path in args.imports or []:
        if not path.exists():
            raise NewsragError(f"no such results file: {path}")
        print(f"imported {store.import_results(path, args.judge_name)} answers from {path}", file=sys.stderr)
    if not args.rater:
        if args.imports:
            return 0
        raise NewsragError("give --rater NAME (your name is stored with each rating).")
    rated = annotate(store, args.rater, limit=args.limit)
    print(f"rated {rated} answers; ratings are in {store.path}")
    return 0


def agreement_command(engine: Engine, args: argparse.Namespace) -> int:
    from eval.agreement import agreement, render

    report = agreement(_ratings(engine, args))
    print(json.dumps(report, ensure_ascii=False) if args.json else render(report))
    return 0


def feedback_command(engine: Engine, args: argparse.Namespace) -> int:
    from app.quality.feedback import FeedbackStore, feedback_path
    from eval.annotate import feedback_dataset

    path = args.feedback or feedback_path(engine.settings.data_dir)
    if not path.exists():
        raise NewsragError(f"no feedback yet: {path} does not exist")
    from app.quality.jsonl import write_jsonl

    write_jsonl(feedback_dataset(FeedbackStore(path).export()), args.output, "questions")
    return 0


COMMAND = PluginCommand("eval", needs_engine=False, add_parser=add_eval_parser, run=run)  # pyproject entry point
