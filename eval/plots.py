"""The report's plots as PNG bytes (matplotlib, Agg backend): hit@k curve, score distributions, latency."""

from __future__ import annotations

import io
from typing import Any

from eval.metrics import DEPTH


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def hit_curve(records: list[dict[str, Any]]) -> tuple[list[float], int]:
    """hit@k for k = 1..DEPTH, and n (questions with gold articles)."""
    ranks = [r["retrieval"]["first_gold_rank"] for r in records if r.get("retrieval")]
    if not ranks:
        return [], 0
    return [sum(1 for x in ranks if x is not None and x <= k) / len(ranks) for k in range(1, DEPTH + 1)], len(ranks)


def make_plots(records: list[dict[str, Any]]) -> dict[str, bytes]:
    """{file name: PNG}; empty when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return {}
    plots: dict[str, bytes] = {}
    curve, n = hit_curve(records)
    if curve:
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(range(1, DEPTH + 1), curve, marker="o")
        ax.set(xlabel="k (passages)", ylabel="hit@k", ylim=(0, 1.02), title=f"hit@k (n={n})")
        ax.set_xticks(range(1, DEPTH + 1))
        ax.grid(alpha=0.3)
        plots["hit_at_k.png"] = _png(fig)
    series = {
        "token F1 (answerable)": [r["verdicts"]["token_f1"] for r in records if "token_f1" in r["verdicts"]],
        "citation recall (answers)": [r["citation_recall"] for r in records if r.get("citation_recall") is not None],
        "citation precision (answers)": [r["citation_precision"] for r in records
                                         if r.get("citation_precision") is not None],
    }
    series = {k: v for k, v in series.items() if v}
    if series:
        fig, axes = plt.subplots(1, len(series), figsize=(4 * len(series), 3), squeeze=False)
        for ax, (name, values) in zip(axes[0], series.items(), strict=True):
            ax.hist(values, bins=[i / 10 for i in range(11)], color="#4a7ab5", edgecolor="white")
            ax.set(title=f"{name} (n={len(values)})", xlabel="score", ylabel="count", xlim=(0, 1))
        plots["score_distributions.png"] = _png(fig)
    stages: dict[str, list[float]] = {}
    for r in records:
        for stage, ms in ((r.get("answer") or {}).get("timings_ms") or {}).items():
            stages.setdefault(stage, []).append(float(ms))
    if stages:
        names = sorted(stages)
        fig, ax = plt.subplots(figsize=(6, 0.6 * len(names) + 1.2))
        ax.boxplot([[max(v, 0.1) for v in stages[s]] for s in names], orientation="horizontal",
                   tick_labels=[f"{s} (n={len(stages[s])})" for s in names], whis=(5, 95), showfliers=True)
        ax.set(xscale="log", xlabel="ms (log scale; whiskers: p5-p95)", title="latency per stage")
        ax.grid(alpha=0.3, axis="x")
        plots["latency.png"] = _png(fig)
    return plots
