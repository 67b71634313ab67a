"""Commands that other packages add to `newsrag`: `eval` and `bench` (from eval/) come in this way.

A plugin is an entry point in the group `newsrag.commands` naming a `Command`: it adds its sub-parser and runs
when chosen. The app never imports eval/: eval sits above the app (it measures the engine) and plugs into the CLI,
as `llm`'s plugins do. pyproject.toml registers the two that ship with newsrag.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.engine import Engine

GROUP = "newsrag.commands"


class Command(Protocol):
    name: str
    needs_engine: bool  # False: run() gets None and builds what it needs itself (the bench never opens your data)

    def add_parser(self, sub: Any) -> None: ...

    def run(self, engine: Engine | None, args: argparse.Namespace) -> int: ...


@dataclass(frozen=True)
class PluginCommand:
    """The plain implementation a plugin module exposes: its parser and its runner as two functions."""

    name: str
    needs_engine: bool
    add_parser: Any
    run: Any


def plugin_commands() -> dict[str, Command]:
    """The installed plugins by command name (a broken plugin is skipped with a warning, never the whole CLI)."""
    found: dict[str, Command] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            command = ep.load()
        except Exception as exc:  # a plugin's import error must not take `newsrag ask` down with it
            print(f"warning: the newsrag command plugin {ep.name!r} failed to load: {exc}", file=sys.stderr)
            continue
        found[command.name] = command
    return found
