"""How a long ingest shows its progress to a person, wherever its output goes.

On a terminal: a tqdm bar (articles, with its own rate and ETA). Anywhere else (a log file, CI, a pipe, a server's
log, a child process whose stderr is kept): one line every `every_s` seconds or `every_articles` articles,
whichever comes first, and one when it ends, e.g.

    ingest: 640/3,002 articles (21%), 5,210 chunks embedded; 4.1 articles/s, 33.8 chunks/s; ETA 9m36s

tqdm alone prints nothing when stderr is not a terminal (`disable=None`), and a tqdm bar written to a log is one
line redrawn with carriage returns: a 3,002-article eval ingest was silent for its whole run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

from index.types import IngestProgress


class ProgressLog:
    """A `progress` callback for `Engine.ingest`; use it as a context manager (the last line is written on exit)."""

    def __init__(self, label: str = "ingest", stream: TextIO | None = None, every_s: float = 10.0,
                 every_articles: int = 250, terminal: bool | None = None, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic):
        self.label, self.stream = label, stream or sys.stderr
        self.every_s, self.every_articles, self.clock, self.enabled = every_s, every_articles, clock, enabled
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.started = self.clock()
        self.last: IngestProgress | None = None
        self._told_at, self._told_articles = self.started, 0
        self._bar: Any = None

    def __call__(self, p: IngestProgress) -> None:
        self.last = p
        if not self.enabled:
            return
        if self.terminal:
            self._draw(p)
            return
        now = self.clock()
        if now - self._told_at >= self.every_s or p.articles - self._told_articles >= self.every_articles:
            self._told_at, self._told_articles = now, p.articles
            self._write(self.line(p, now))

    def line(self, p: IngestProgress, now: float | None = None) -> str:
        seconds = max(1e-9, (self.clock() if now is None else now) - self.started)
        share = f" ({p.articles / p.total:.0%})" if p.total else ""
        of = f"/{p.total:,}" if p.total is not None else ""
        rate = p.articles / seconds
        left = (p.total - p.articles) / rate if p.total is not None and rate > 0 else None
        eta = f"; ETA {duration(left)}" if left is not None else ""
        return (f"{self.label}: {p.articles:,}{of} articles{share}, {p.chunks:,} chunks embedded; "
                f"{rate:.1f} articles/s, {p.chunks / seconds:.1f} chunks/s{eta}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self.last is not None:
            seconds = self.clock() - self.started
            self._write(f"{self.label}: done, {self.last.articles:,} articles read, {self.last.written:,} written, "
                        f"{self.last.chunks:,} chunks embedded in {duration(seconds)} "
                        f"({self.last.articles / max(seconds, 1e-9):.1f} articles/s)")

    def __enter__(self) -> ProgressLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _draw(self, p: IngestProgress) -> None:
        if self._bar is None:
            from tqdm import tqdm  # tqdm is imported only where a bar is drawn

            self._bar = tqdm(desc=self.label, total=p.total, unit="article", file=self.stream)
        self._bar.update(p.articles - self._bar.n)
        self._bar.set_postfix_str(f"{p.chunks:,} chunks", refresh=False)

    def _write(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


def duration(seconds: float) -> str:
    """`42s`, `9m36s`, `1h02m`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
