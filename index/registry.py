"""One registry per pluggable kind: answerers, condensers, rerankers (app/answering/registry.py), embedders
(index/embedding/factory.py) and input formats (index/formats/registry.py).

A registry maps a name to "package.module:factory". The module is imported the first time that name is built, not
when the registry is read: the settings, the CLI's `--help`, the UI's dropdown and the API schema list the names
without importing what is behind them (the `openai` client, torch, trafilatura), which keeps `newsrag ask` starting
in about a second. Adding a kind is one new module plus one `add` line.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "package.module:factory" (or "package.module:Class.factory")
    summary: str  # one line for --help, the UI and the API docs
    options: dict[str, Any] = field(default_factory=dict)


class Registry:
    def __init__(self, kind: str, setting: str):
        self.kind, self.setting = kind, setting  # setting: the NEWSRAG_* variable that chooses one
        self._entries: dict[str, Entry] = {}

    def add(self, name: str, target: str, summary: str, **options: Any) -> None:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, target, summary, options)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def entry(self, name: str) -> Entry:
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r} (choose one of: {', '.join(self._entries)}; "
                             f"{self.setting})")
        return self._entries[name]

    def check(self, name: str) -> str:
        """`name` if registered, else a ValueError naming the choices (pydantic turns it into a clear message)."""
        return self.entry(name).name

    def factory(self, name: str) -> Any:
        module, _, attr = self.entry(name).target.partition(":")
        return functools.reduce(getattr, attr.split("."), importlib.import_module(module))

    def describe(self) -> str:
        """`name: summary` for each, for --help and docs."""
        return "; ".join(f"{e.name}: {e.summary}" for e in self._entries.values())
