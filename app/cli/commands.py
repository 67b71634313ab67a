"""What each CLI command does; every command goes through the Engine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli.plugins import plugin_commands
from app.engine import Engine, build_engine
from app.errors import NewsragError
from app.limits import recent
from app.progress import ProgressLog
from app.render import render
from app.settings import Settings
from app.types import Answer, Turn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "articles"


def run(args: argparse.Namespace, settings: Settings) -> int:
    plugins = plugin_commands()
    if args.command in plugins and not plugins[args.command].needs_engine:  # e.g. bench: its own indexes
        return plugins[args.command].run(None, args)
    if args.command == "serve" and getattr(args, "workers", 1) > 1:  # each worker process builds its own engine
        from app.cli.web import serve_many  # FastAPI and uvicorn (~0.5 s): only for the web commands

        return serve_many(settings, args)
    engine = build_engine(settings)
    if args.command in plugins:
        return plugins[args.command].run(engine, args)
    handler = {"ingest": ingest, "list": listing, "remove": remove, "verify": verify, "ask": ask, "chat": chat,
               "demo": demo}
    if args.command not in handler:  # the web commands import FastAPI: ~0.5 s `newsrag ask` does not need
        from app.cli.web import HANDLERS as WEB

        handler.update(WEB)
    return handler[args.command](engine, args)


def emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def ingest(engine: Engine, args: argparse.Namespace) -> int:
    return ingest_paths(engine, args.paths, follow_symlinks=args.follow_symlinks)


def ingest_paths(engine: Engine, paths: list[Path], follow_symlinks: bool = False) -> int:
    with ProgressLog("ingest") as progress:  # a bar on a terminal, a line every 10 s or 250 articles elsewhere
        report = engine.ingest(paths, progress=progress, follow_symlinks=follow_symlinks)
    print(report.summary())
    if not report.ok:
        print("nothing could be ingested: fix the files above and run the command again.", file=sys.stderr)
        return 1
    return 0


def listing(engine: Engine, args: argparse.Namespace) -> int:
    rows = engine.articles()
    if args.json:
        for row in rows:
            emit(row)
        return 0
    if not rows:
        print("nothing indexed yet: `newsrag ingest PATH`")
        return 0
    print(f"{'ID':<28} {'DATE':<10} {'SOURCE':<16} {'CHUNKS':>6}  TITLE")
    for r in rows:
        print(f"{r['id'][:28]:<28} {(r['date'] or '-')[:10]:<10} {(r['source'] or '-')[:16]:<16} "
              f"{r['chunks']:>6}  {r['title'][:70]}")
    print(f"{len(rows)} articles")
    return 0


def remove(engine: Engine, args: argparse.Namespace) -> int:
    engine.remove(args.article_id)
    print(f"removed {args.article_id}")
    return 0


def verify(engine: Engine, args: argparse.Namespace) -> int:
    report = engine.verify(repair=args.repair)
    print(report.summary())
    return 0 if report.clean else 1


def ask(engine: Engine, args: argparse.Namespace) -> int:
    if args.questions:
        return ask_batch(engine, args)
    if not args.question:
        raise NewsragError('Give a question, e.g. newsrag ask "What did Kerry say about Assad?" '
                           "(or --questions FILE.jsonl).")
    if args.json:
        emit(engine.ask(args.question, answerer=args.answerer, k=args.k).model_dump())
        return 0
    print(render(stream_to_terminal(engine, args.question, [], args)))
    return 0


def ask_batch(engine: Engine, args: argparse.Namespace) -> int:
    try:
        lines = args.questions.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsragError(f"cannot read {args.questions}: {exc}") from None
    failures = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = record["question"] if isinstance(record, dict) else None
            if not isinstance(question, str):
                raise KeyError("question")
            answer = engine.ask(question, answerer=args.answerer, k=args.k)
            out = answer.model_dump()
            if isinstance(record, dict) and "id" in record:
                out["id"] = record["id"]
            emit(out if args.json else {"question": question, "text": answer.text})
        except (json.JSONDecodeError, KeyError):
            failures += 1
            emit({"line": lineno, "error": 'expected a JSON object with a "question" string'})
        except NewsragError as exc:
            failures += 1
            emit({"line": lineno, "error": str(exc)})
    return 1 if failures else 0


def stream_to_terminal(engine: Engine, question: str, history: list[Turn], args: argparse.Namespace) -> Answer:
    """Print the answer as it streams (to stderr when stdout is not a terminal), return the final Answer."""
    live = sys.stderr.isatty()
    final = None
    for event in engine.ask_stream(question, history, args.answerer, args.k):
        if event.type == "token" and live:
            sys.stderr.write(event.text)
            sys.stderr.flush()
        elif event.type == "notice" and event.reset and live:
            sys.stderr.write("\r\033[J")  # the LLM failed mid-answer: its partial text is withdrawn
        elif event.type == "done":
            final = event.answer
    if live:
        sys.stderr.write("\r\033[J" if final else "\n")
    assert final is not None
    return final


def chat(engine: Engine, args: argparse.Namespace) -> int:
    print("Ask about the indexed articles. Follow-ups work (\"And Lavrov?\"). Empty line or Ctrl-D to quit.")
    history: list[Turn] = []
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = stream_to_terminal(engine, question, recent(history), args)  # a long chat stays in limits
        except NewsragError as exc:
            print(f"error: {exc}")
            continue
        print(render(answer))
        history += [Turn(role="user", content=question, rewritten_query=answer.rewritten_query),
                    Turn(role="assistant", content=answer.text)]


def demo(engine: Engine, args: argparse.Namespace) -> int:
    if not args.terminal:
        from app.cli.web import listen_address  # FastAPI and uvicorn (~0.5 s): only for the web commands

        listen_address(engine.settings, args)  # refused (e.g. open writes on 0.0.0.0) before indexing anything
    print(f"indexing the bundled sample articles from {EXAMPLES} into {engine.settings.data_dir} ...")
    ingest_paths(engine, [EXAMPLES])
    print('try: "What did Kerry say about Assad?"')
    args.answerer, args.k = None, None
    if args.terminal:
        return chat(engine, args)
    from app.cli.web import serve  # FastAPI and uvicorn (~0.5 s): only for the web commands

    return serve(engine, args, open_browser=True)
