"""The `newsrag` command line."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from app.answering.registry import ANSWERERS
from app.cli.logs import setup_logging
from app.cli.plugins import plugin_commands
from app.errors import NewsragError
from app.settings import load_settings
from index.formats.registry import labels

EPILOG = """examples:
  newsrag demo                                   index the bundled sample and open the web UI
  newsrag ingest ~/news/ more.jsonl              add a folder and a JSONL file of articles
  newsrag ingest https://example.com/feed.xml    a feed (RSS, Atom, JSON Feed): each item's page, fetched
  newsrag watch https://example.com/feed.xml --every 15m     poll feeds, adding what is new
  newsrag ask "What did Kerry say about Assad?"  a cited answer (add --json for the Answer JSON)
  newsrag ask --questions qs.jsonl --json        answer a batch, one JSON per line
  newsrag chat                                   a conversation with follow-up questions
  newsrag list / newsrag remove ID               what is indexed / take an article out
  newsrag serve --port 8080                      web UI, HTTP API (/docs) and the embeddable widget
  newsrag feedback export --output fb.jsonl      the thumbs up/down people gave answers
  newsrag ask --answerer local "..."             a generated, cited answer from the local model (setup.sh --llm)
  newsrag llm-server stop                        stop the local model server of this data dir

settings come from NEWSRAG_* variables or a .env file (see .env.example); data lives in NEWSRAG_DATA_DIR
(default ./newsrag-data). -v shows what the libraries log (-vv: everything, with debug messages)."""


def _version() -> str:
    try:
        return version("newsrag")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _verbosity() -> argparse.ArgumentParser:
    """-v on every command too (`newsrag ingest -v DIR`), counted together with the one before the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", dest="sub_verbose", action="count", default=0,
                        help="show the libraries' log messages (-vv: debug messages too)")
    return common


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsrag", description="Ask questions of your news articles; every claim is "
                                "cited to an exact quoted passage.", epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"newsrag {_version()}")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="show the libraries' log messages (-vv: debug messages too)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = [_verbosity()]

    s = sub.add_parser("ingest", help=f"add articles (files or folders: {labels()}; feed or page URLs)", parents=common,
                       description="Add articles to the index. A changed file replaces its old version; the same "
                                   "text again is a no-op; bad files are listed with why and the rest go in.")
    s.add_argument("paths", nargs="+", metavar="PATH|URL",
                   help=f"a file ({labels()}) or a folder, read with its subfolders, or the http(s) URL of a feed "
                        "(RSS, Atom, JSON Feed) or an article page; give as many as you like")
    s.add_argument("--follow-symlinks", action="store_true",
                   help="read symlinks inside the folders that point outside them (default: skipped and listed)")

    s = sub.add_parser("watch", help="poll feed URLs and ingest what is new, until Ctrl-C", parents=common)
    s.add_argument("feeds", nargs="+", metavar="FEED_URL")
    s.add_argument("--every", default="15m", help="how often: 30s, 15m, 1h, 1d (default 15m)")
    s.add_argument("--polls", type=int, default=0, metavar="N", help="stop after N polls (default: until Ctrl-C)")

    s = sub.add_parser("list", help="show the indexed articles", parents=common)
    s.add_argument("--json", action="store_true", help="one JSON object per article")

    s = sub.add_parser("remove", help="remove an article (by the id `newsrag list` shows)", parents=common,
                       description="Take an article out of Chroma, the keyword index and the manifest.")
    s.add_argument("article_id", metavar="ID", help="the article's id: the first column of `newsrag list`")

    s = sub.add_parser("verify", help="check that the manifest, Chroma and the keyword index agree", parents=common)
    s.add_argument("--repair", action="store_true", help="fix what an interrupted ingest left behind")

    s = sub.add_parser("ask", help="answer one question (or a batch with --questions)", parents=common)
    s.add_argument("question", nargs="?", help="the question, in quotes")
    s.add_argument("--questions", type=Path, metavar="FILE.jsonl",
                   help='batch: one {"question": ...} (optionally "id") per line; prints each answer with its '
                        "sources, or one Answer JSON per line with --json")
    _answer_options(s)
    s.add_argument("--json", action="store_true", help="print the Answer as JSON")

    s = sub.add_parser("chat", help="an interactive conversation in the terminal (follow-ups understood)",
                       parents=common)
    _answer_options(s)

    s = sub.add_parser("demo", help="index the bundled sample articles, then open the web UI", parents=common)
    s.add_argument("--terminal", action="store_true", help="terminal chat instead of the web UI")
    _serve_options(s)

    s = sub.add_parser("serve", help="the web UI, the HTTP API (docs at /docs) and the widget (/widget.js)",
                       parents=common)
    _serve_options(s)

    s = sub.add_parser("feedback", help="feedback given on answers (thumbs up/down)", parents=common)
    fs = s.add_subparsers(dest="feedback_command", required=True, metavar="ACTION")
    e = fs.add_parser("export", help="write every feedback record as JSON lines")
    e.add_argument("--output", "-o", type=Path, metavar="FILE.jsonl", help="default: standard output")

    s = sub.add_parser("llm-server", help="the local model server of `--answerer local` (one per data dir)",
                       parents=common)
    s.add_argument("action", choices=("status", "start", "stop"),
                   help="status: is it running; start: load the model now; stop: free its memory")

    for command in plugin_commands().values():  # eval and bench (app/cli/plugins.py)
        command.add_parser(sub)
    return p


def _serve_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("--host", help="default: NEWSRAG_HOST (127.0.0.1; 0.0.0.0 listens on every interface)")
    s.add_argument("--port", type=int, help="default: NEWSRAG_PORT (7860; 0 picks a free port)")
    s.add_argument("--allow-open-writes", action="store_true",
                   help="listen on a non-loopback --host without NEWSRAG_ADMIN_TOKEN (refused otherwise): uploads "
                        "and deletes are then taken from any client that looks local, as all do behind a reverse "
                        "proxy on this machine")
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="API worker processes (default 1); more than 1 needs NEWSRAG_CHROMA_URL (docs/scaling.md)")


def _answer_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("--answerer", choices=ANSWERERS.names(),
                   help=f"{ANSWERERS.describe()} (default: NEWSRAG_ANSWERER, extractive)")
    s.add_argument("-k", type=int, metavar="N", help="passages to retrieve (default: NEWSRAG_TOP_K)")
    s.add_argument("--as-of", metavar="YYYY-MM-DD", help="answer as of that day: later articles are not used, and "
                   '"this week" means its week (default: the newest article\'s date, at most today)')
    s.add_argument("--since", metavar="YYYY-MM-DD", help="only articles dated on or after that day")
    s.add_argument("--until", metavar="YYYY-MM-DD", help="only articles dated on or before that day")
    s.add_argument("--source", metavar="NAME", help="only articles from that source (as `newsrag list` shows it)")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args.verbose + getattr(args, "sub_verbose", 0))
    try:
        from app.cli import commands  # the engine and its stores: `newsrag --help` does not load them

        return commands.run(args, load_settings())
    except NewsragError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
