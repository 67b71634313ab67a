"""The shape of the code (docs/architecture.md): imports run downwards (index <- app <- eval), no file imports
itself back through others (function-level and TYPE_CHECKING imports count too), folders stay small, and a file
over 250 lines says why in its docstring."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("index", "app", "eval")  # lowest floor first
MAX_FILES_PER_FOLDER = 15
MAX_LINES = 250


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules a file imports, anywhere in it (`from a.b import c` counts a.b.c when that is a module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in known:
                out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known}
    return {m for m in out if known[m].name != "__init__.py" or known[m].read_text().strip()}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) - {name} for name, path in known.items()}


def test_no_import_circles() -> None:
    edges = graph()
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the current path, 2 done
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state[nxt] == 1:
                circles.append([*path[path.index(nxt):], nxt])
            elif state[nxt] == 0:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if state[node] == 0:
            visit(node, [node])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_imports_only_run_downwards() -> None:
    floor = {p: i for i, p in enumerate(PACKAGES)}
    upward = [(a, b) for a, targets in graph().items() for b in targets
              if floor[b.split(".")[0]] > floor[a.split(".")[0]]]
    assert not upward, f"imports that run back up (index <- app <- eval): {upward}"


def test_folders_are_small_and_long_files_say_why() -> None:
    per_folder: dict[Path, int] = defaultdict(int)
    long_without_reason = []
    for path in modules().values():
        per_folder[path.parent] += path.name != "__init__.py"
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_LINES and "long because" not in doc.lower():
            long_without_reason.append(str(path.relative_to(ROOT)))
    crowded = {str(p.relative_to(ROOT)): n for p, n in per_folder.items() if n > MAX_FILES_PER_FOLDER}
    assert not crowded, f"folders over {MAX_FILES_PER_FOLDER} Python files: {crowded}"
    assert not long_without_reason, f"files over {MAX_LINES} lines whose docstring does not say why: " \
                                    f"{long_without_reason}"


def test_the_graph_sees_the_imports_it_should() -> None:
    """Guards the checks above: a known downward import is found, including one made inside a function."""
    edges = graph()
    assert "app.engine" in edges["app.cli.commands"]
    assert "index.embedding.onnx_minilm" in edges["index.embedding.factory"]  # imported inside a function
