"""The ingest race of `newsrag bench`, in interleaved rounds.

Each pipeline runs in a fresh process per round (cold, its own peak RSS). Machine load drifts between one
pipeline's turn and the next, so a single round can put the ratio anywhere (1.25x and 4.31x in two runs of the same
code on a shared machine): every round runs the pipelines in a rotated order, each ratio is taken within one round
(side by side), and the summary reports the median ratio with every round's value. The extra rounds skip the torch
fp32 pipeline (it only feeds the INT8-vs-fp32 cosine and speed ratio, which round 1 measures).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.bench.report import ratio

BASELINES = [("llamaindex-alltext", "torch"), ("llamaindex-default", "torch")]


def race(backends: list[str], rounds: int, work: Path, spec: dict[str, Any],
         child: Callable[[str, dict[str, Any]], dict[str, Any]], log: Callable[[str], None]) -> dict[str, Any]:
    """Run the rounds; returns, per pipeline, the run with the median articles/s (the one the tables show), plus
    "rounds": the per-round results and ratios."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for r in range(max(1, rounds)):
        pipelines = [*((f"newsrag-{b}", b) for b in backends if r == 0 or b != "torch"), *BASELINES]
        shift = r % len(pipelines)
        for name, backend in pipelines[shift:] + pipelines[:shift]:
            log(f"bench: ingest race, round {r + 1}/{rounds}: {name} ...")
            data_dir = work / name if r == 0 else work / f"{name}-r{r + 1}"
            pipeline = "newsrag" if name.startswith("newsrag") else name
            done = child("eval.bench.ingest", {**spec, "pipeline": pipeline, "backend": backend,
                                               "data_dir": str(data_dir)})
            runs.setdefault(name, []).append(done)
            log(f"bench:   {name}: {done.get('articles')} articles, {done.get('chunks')} chunks in "
                f"{done.get('ingest_s')} s ({done.get('articles_per_s')} articles/s, {done.get('wordpieces_per_s')} "
                f"word pieces/s, {done.get('ingest_cpu_s')} s CPU)")
    ours = f"newsrag-{backends[0]}"
    speed = {name: [r.get("articles_per_s") for r in rs] for name, rs in runs.items()}
    per_round = [{"ingest_ratio": ratio(speed[ours][i], speed["llamaindex-alltext"][i]),
                  "ingest_ratio_default": ratio(speed[ours][i], speed["llamaindex-default"][i])}
                 for i in range(len(runs[ours]))]
    out: dict[str, Any] = {name: _median_run(rs) for name, rs in runs.items()}
    out["rounds"] = {"n": len(per_round), "ratios": per_round,
                     "ingest_ratio": _median([p["ingest_ratio"] for p in per_round]),
                     "ingest_ratio_default": _median([p["ingest_ratio_default"] for p in per_round])}
    return out


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(runs, key=lambda x: x.get("articles_per_s") or 0.0)
    return {**ordered[(len(ordered) - 1) // 2], "rounds_articles_per_s": [x.get("articles_per_s") for x in runs]}
