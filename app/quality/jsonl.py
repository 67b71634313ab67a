"""JSON Lines out: the exports (`newsrag feedback export`, `newsrag eval feedback-dataset`) write one object a line
to a file, with a one-line note on stderr, or to stdout for a pipe."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_jsonl(records: Iterable[Any], output: Path | None, what: str) -> int:
    """Write the records; `what` names them in the note ("feedback records"). Returns how many."""
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records]
    if output:
        output.write_text("".join(lines), encoding="utf-8")
        print(f"wrote {len(lines)} {what} to {output}", file=sys.stderr)
    else:
        sys.stdout.write("".join(lines))
    return len(lines)
