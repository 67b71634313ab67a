"""Cold start of `newsrag ask`: a new process, to the printed answer; and where its import time goes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def cli() -> list[str]:
    script = Path(sys.executable).with_name("newsrag")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


def env_for(data_dir: Path, models_dir: Path, backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(NEWSRAG_DATA_DIR=str(data_dir), NEWSRAG_MODEL_CACHE_DIR=str(models_dir), NEWSRAG_EMBED_BACKEND=backend,
               NEWSRAG_EMBEDDER="minilm")
    return env


def cold_start(data_dir: Path, models_dir: Path, backend: str, question: str, runs: int = 3,
               cwd: Path | None = None) -> dict[str, Any]:
    """Median wall seconds of `newsrag ask QUESTION` over `runs` runs, with the process's CPU seconds beside (on a
    busy machine wall time includes waiting for a core). With runs >= 2, one untimed run first warms the OS file
    cache (as on any machine that ran newsrag before) and one more run under `-X importtime` says where the import
    time goes."""
    env = env_for(data_dir, models_dir, backend)
    walls, cpus = [], []
    for i in range(runs + (1 if runs >= 2 else 0)):
        before = os.times()
        t0 = time.perf_counter()
        done = subprocess.run([*cli(), "ask", question], env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=300)
        wall, after = time.perf_counter() - t0, os.times()
        if done.returncode != 0:
            raise RuntimeError(f"newsrag ask failed: {done.stderr[-2000:]}")
        if i or runs < 2:
            walls.append(wall)
            cpus.append(after.children_user + after.children_system - before.children_user - before.children_system)
    walls.sort()
    cpus.sort()
    return {"median_s": round(walls[len(walls) // 2], 2), "runs_s": [round(t, 2) for t in walls],
            "cpu_s": round(cpus[len(cpus) // 2], 2),
            "imports": import_breakdown(env, question, cwd) if runs >= 2 else {}}


def import_breakdown(env: dict[str, str], question: str, cwd: Path | None, top: int = 8) -> dict[str, float]:
    """Seconds of import time per top-level package (`python -X importtime`), largest first."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "app.cli", "ask", question], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    totals: dict[str, float] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if m and not m.group(2):  # top-level imports only: their cumulative time includes what they import
            name = m.group(3).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(m.group(1)) / 1e6
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return {name: round(s, 2) for name, s in ranked}
