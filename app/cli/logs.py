"""Logging for the `newsrag` command: our own warnings always, the libraries' chatter only when asked (-v, -vv).

Some libraries make noise on their own (llama-index logs at DEBUG while it splits; bm25s, the keyword index before
index/keyword/, set its logger to DEBUG at import), and any library that calls `logging.basicConfig()`
(onnxruntime's quantisation helpers do) then turns every such record into a line on the terminal. One root
handler is installed first, so a later `basicConfig()` is a no-op, and it filters by who logged: newsrag's packages
from WARNING up, the libraries from ERROR up; -v lets everything from INFO through, -vv everything.
"""

from __future__ import annotations

import logging
import sys

OURS = frozenset({"app", "index", "eval", "prompts", "newsrag"})


class ByOrigin(logging.Filter):
    def __init__(self, verbosity: int):
        super().__init__()
        self.verbosity = verbosity

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbosity >= 2:
            return True
        if self.verbosity == 1:
            return record.levelno >= logging.INFO
        ours = record.name.split(".")[0] in OURS
        return record.levelno >= (logging.WARNING if ours else logging.ERROR)


class LowerLevel(logging.Formatter):
    """`warning: message` like the rest of the CLI's messages (with -v: `info: llama_index...: message`)."""

    def __init__(self, verbosity: int):
        super().__init__()
        self.verbosity = verbosity

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        who = f"{record.name}: " if self.verbosity else ""
        return f"{record.levelname.lower()}: {who}{message}"


class Stderr:
    """Whatever sys.stderr is at the time of writing (tests and tools swap it; a handler keeping the old one would
    write to a closed file)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class CliHandler(logging.StreamHandler):
    pass


def setup_logging(verbosity: int = 0) -> logging.Handler:
    """Install the one root handler, replacing a previous one of ours and any plain stream handler a library's
    `basicConfig()` put there before the command started (other handlers, e.g. a test runner's, stay)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if type(old) in (logging.StreamHandler, CliHandler):
            root.removeHandler(old)
    handler = CliHandler(Stderr())
    handler.addFilter(ByOrigin(verbosity))
    handler.setFormatter(LowerLevel(verbosity))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING)
    return handler
