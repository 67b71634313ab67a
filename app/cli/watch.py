"""`newsrag ingest URL...` and `newsrag watch FEED... --every 15m`.

Watching is incremental: every poll is a conditional GET per feed and per item page (an unchanged one costs a 304),
and unchanged articles are not embedded again. Ctrl-C stops it at any moment without harm: an ingest batch is
all-or-nothing, and whatever an interrupted batch left in Chroma is removed at the next write. A poll that fails
(the index busy with another writer, every feed down) is reported and the next poll comes as planned.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime

from app.engine import Engine
from app.errors import NewsragError
from app.progress import ProgressLog
from index.ingest import IngestReport

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.I)


def parse_every(text: str) -> float:
    """'15m' -> 900.0; units s, m, h, d (a bare number is seconds)."""
    m = _EVERY.match(text or "")
    seconds = float(m.group(1)) * UNITS[(m.group(2) or "s").lower()] if m else 0.0
    if seconds < 1:
        raise NewsragError(f"--every {text!r} is not an interval: write e.g. 30s, 15m, 1h or 1d (at least 1s)")
    return seconds


def split_urls(items: list[str]) -> tuple[list[str], list[str]]:
    """(urls, paths) in the order given."""
    from index.remote.fetch import is_url  # imports httpx: only for ingest

    return [i for i in items if is_url(i)], [i for i in items if not is_url(i)]


def ingest_urls(engine: Engine, urls: list[str]) -> IngestReport:
    with ProgressLog("ingest") as progress:  # a bar on a terminal, a line every 10 s or 250 articles elsewhere
        return engine.ingest_urls(urls, progress=progress,
                                  log=lambda line: print(line, file=sys.stderr) if sys.stderr.isatty() else None)


def watch(engine: Engine, args: argparse.Namespace) -> int:
    every = parse_every(args.every)
    urls, others = split_urls(args.feeds)
    if others:
        raise NewsragError(f"watch takes feed URLs (http:// or https://), not {others[0]!r}")
    polls = 0
    print(f"watching {len(urls)} feed(s) every {args.every}; Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        while True:
            started = time.monotonic()
            stamp = datetime.now().isoformat(timespec="seconds")
            try:
                report = ingest_urls(engine, urls)
                print(f"[{stamp}] {report.summary()}", flush=True)
            except NewsragError as exc:
                print(f"[{stamp}] this poll failed: {exc}", flush=True)
            polls += 1
            if args.polls and polls >= args.polls:
                return 0
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        print("stopped watching (Ctrl-C): finished batches are kept, a half-written one is cleaned up at the next "
              "ingest", file=sys.stderr)
        return 0
