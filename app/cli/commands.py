"""What each CLI command does; every command goes through the Engine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.ask import ask, chat, emit
from app.cli.plugins import plugin_commands
from app.cli.watch import ingest_urls, split_urls, watch
from app.engine import Engine, build_engine
from app.progress import ProgressLog
from app.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "articles"


def run(args: argparse.Namespace, settings: Settings) -> int:
    plugins = plugin_commands()
    if args.command in plugins and not plugins[args.command].needs_engine:  # e.g. bench: its own indexes
        return plugins[args.command].run(None, args)
    if args.command == "llm-server":  # needs no index and no embedding model
        return llm_server(settings, args)
    if args.command == "serve" and getattr(args, "workers", 1) > 1:  # each worker process builds its own engine
        from app.cli.web import serve_many  # FastAPI and uvicorn (~0.5 s): only for the web commands

        return serve_many(settings, args)
    engine = build_engine(settings)
    if args.command in plugins:
        return plugins[args.command].run(engine, args)
    handler = {"ingest": ingest, "watch": watch, "list": listing, "remove": remove, "verify": verify, "ask": ask,
               "chat": chat, "demo": demo}
    if args.command not in handler:  # the web commands import FastAPI: ~0.5 s `newsrag ask` does not need
        from app.cli.web import HANDLERS as WEB

        handler.update(WEB)
    return handler[args.command](engine, args)


def llm_server(settings: Settings, args: argparse.Namespace) -> int:
    from app.answering.local.answerer import local_server, model_path  # the local model's code: this command only
    from app.answering.local.model import check_installed  # (and the answerer, when it is chosen)

    server = local_server(settings)
    if args.action == "stop":
        info = server.stop()
        print(f"stopped the local model server (pid {info.pid}, port {info.port})" if info
              else f"no local model server was running for {settings.data_dir}")
        return 0
    if args.action == "start":
        check_installed(model_path(settings))
        info = server.ensure()
    else:
        info = server.running()
    print(f"local model server: {info.base_url} (pid {info.pid}, {Path(info.model).name}, {info.threads} threads)"
          if info else f"no local model server is running for {settings.data_dir}")
    return 0


def ingest(engine: Engine, args: argparse.Namespace) -> int:
    urls, paths = split_urls(args.paths)
    code = ingest_paths(engine, [Path(p) for p in paths], follow_symlinks=args.follow_symlinks) if paths else 1
    if urls:
        report = ingest_urls(engine, urls)
        print(report.summary())
        if not report.ok:
            print("nothing could be ingested from the URLs above.", file=sys.stderr)
        code = 0 if report.ok else code
    return code


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


def demo(engine: Engine, args: argparse.Namespace) -> int:
    if not args.terminal:
        from app.cli.web import listen_address  # FastAPI and uvicorn (~0.5 s): only for the web commands

        listen_address(engine.settings, args)  # refused (e.g. open writes on 0.0.0.0) before indexing anything
    print(f"indexing the bundled sample articles from {EXAMPLES} into {engine.settings.data_dir} ...")
    ingest_paths(engine, [EXAMPLES])
    print('try: "What did Kerry say about Assad?"')
    args.answerer, args.k, args.as_of, args.since, args.until, args.source = None, None, None, None, None, None
    if args.terminal:
        return chat(engine, args)
    from app.cli.web import serve  # FastAPI and uvicorn (~0.5 s): only for the web commands

    return serve(engine, args, open_browser=True)
