"""Answer text streamed onto a terminal and taken back when the final answer is printed.

A terminal wraps a long line onto several rows, and `\\r\\033[J` clears from the start of the cursor's row only: an
answer wider than the terminal used to leave its first rows of raw text above the formatted answer. `LiveText`
counts the rows what it wrote takes at the terminal's width, so `erase()` moves up to the first of them first.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from typing import TextIO


def columns(text: str) -> int:
    """Terminal cells: East Asian wide and full-width characters take two, combining marks none."""
    cells = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return cells


def terminal_width(stream: TextIO, fallback: int = 80) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or fallback
    except (OSError, ValueError, AttributeError):
        return shutil.get_terminal_size((fallback, 24)).columns


class LiveText:
    def __init__(self, out: TextIO, width: int | None = None):
        self.out = out
        self.width = max(1, width or terminal_width(out))
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text
        self.out.write(text)
        self.out.flush()

    def erase(self) -> None:
        """Clear everything written since the last erase, leaving the cursor where the first row began."""
        if not self.text:
            return
        self.out.write(erase_codes(self.text, self.width))
        self.out.flush()
        self.text = ""


def rows(text: str, width: int) -> int:
    """Rows `text` takes from the start of a row to the cursor (a full row leaves the cursor on it, pending wrap)."""
    return sum(max(1, -(-columns(line) // width)) for line in text.split("\n"))


def erase_codes(text: str, width: int) -> str:
    """Back to the start of the first row `text` took (one line up per row it wrapped onto), then clear below."""
    return "\r" + "\033[A" * (rows(text, width) - 1) + "\033[J"
