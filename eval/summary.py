"""The summary of a run: every metric as {value, n, ci95[, judge_failures, lower, upper]}, keyed by its name.

Everything but `latency_ms` is a function of the inputs: the offline judge gives the same summary every run (the
bootstrap intervals are seeded). `contributions` says what each question adds to each metric, the unit both the
intervals and `newsrag eval compare` resample.

Bootstrap 95% intervals, for every rate of a run and for the difference between two runs. Each metric is a ratio of
per-question sums: a question contributes (numerator, denominator), e.g. hit@5 (1, 1) or (0, 1), faithfulness
(supported claims, judged claims), a question a metric does not apply to (0, 0). A resample draws the questions with
replacement, so the claims of one answer stay together (a cluster bootstrap: an answer's claims are not independent
of each other). The interval is the 2.5th to 97.5th percentile of the metric over RESAMPLES
resamples (the percentile method), seeded: the same records give the same interval every run. Two runs are compared
paired, each resample drawing the same questions from both, which is what makes a small difference detectable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.metrics import HIT_KS, Stat, judged_mean, mean, percentile

RETRIEVAL = [*(f"hit@{k}" for k in HIT_KS), "mrr@10", "recall@k", "recall@10"]
ANSWER = ["answer_contains", "answered_contains", "token_f1", "refusal_accuracy", "false_refusal_rate"]
JUDGED = ["faithfulness", "citation_recall", "citation_precision"]
METRICS = RETRIEVAL + ANSWER + JUDGED


def metric_stats(records: list[dict[str, Any]]) -> dict[str, Stat]:
    stats: dict[str, Stat] = {}
    ret = [r["retrieval"] for r in records if r.get("retrieval")]
    for name in RETRIEVAL:
        stats[name] = mean(x[name] for x in ret)
    verdicts = [r["verdicts"] for r in records]
    stats["answer_contains"] = mean(v["answer_contains"] for v in verdicts if "answer_contains" in v)
    stats["answered_contains"] = mean(v["answer_contains"] for v in verdicts
                                      if "answer_contains" in v and not v["refused"])
    stats["token_f1"] = mean(v["token_f1"] for v in verdicts if "token_f1" in v)
    stats["refusal_accuracy"] = mean(v["refusal_correct"] for v in verdicts if "refusal_correct" in v)
    stats["false_refusal_rate"] = mean(v["false_refusal"] for v in verdicts if "false_refusal" in v)
    stats["faithfulness"] = judged_mean(c["supported"] for r in records for c in r["claims"])
    stats["citation_recall"] = judged_mean(r["citation_recall"] for r in records if "citation_recall" in r)
    stats["citation_precision"] = judged_mean(r["citation_precision"] for r in records if "citation_precision" in r)
    return stats


def contributions(record: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """(numerator, denominator) of each metric for one question; (0, 0) where the metric does not apply. Summed
    over the questions, numerator / denominator is the metric's value (as metric_stats computes it)."""
    out: dict[str, tuple[float, float]] = dict.fromkeys(METRICS, (0.0, 0.0))
    ret = record.get("retrieval")
    if ret:
        out.update({name: (float(ret[name]), 1.0) for name in RETRIEVAL})
    v = record["verdicts"]
    for name, key, applies in (("answer_contains", "answer_contains", True),
                               ("answered_contains", "answer_contains", not v.get("refused")),
                               ("token_f1", "token_f1", True), ("refusal_accuracy", "refusal_correct", True),
                               ("false_refusal_rate", "false_refusal", True)):
        if key in v and applies:
            out[name] = (float(v[key]), 1.0)
    judged = [c["supported"] for c in record["claims"] if c["supported"] is not None]
    out["faithfulness"] = (float(sum(judged)), float(len(judged)))
    for name in ("citation_recall", "citation_precision"):
        if record.get(name) is not None:
            out[name] = (float(record[name]), 1.0)
    return out


def intervals(records: list[dict[str, Any]]) -> dict[str, list[float] | None]:
    per_question = [contributions(r) for r in records]
    return {name: interval([q[name] for q in per_question]) for name in METRICS}


def latency(records: list[dict[str, Any]]) -> dict[str, dict[str, float | int | None]]:
    stages: dict[str, list[float]] = {}
    for r in records:
        for stage, ms in ((r.get("answer") or {}).get("timings_ms") or {}).items():
            stages.setdefault(stage, []).append(float(ms))
    return {s: {"p50": percentile(v, 50), "p95": percentile(v, 95), "n": len(v)} for s, v in sorted(stages.items())}


def summarise(records: list[dict[str, Any]], run: dict[str, Any], judge: dict[str, Any]) -> dict[str, Any]:
    answered = [r for r in records if r.get("answer") and not r["answer"]["refused"]]
    summary: dict[str, Any] = {"run": run, "questions": len(records),
                               "errors": sum(bool(r.get("error")) for r in records)}
    cis = intervals(records)
    for name, stat in metric_stats(records).items():
        stat.ci95 = cis.get(name)
        summary[name] = stat.as_dict()
    summary["judge"] = {**judge, "failed_items": sum(r["judge_failures"] for r in records)}
    summary["counts"] = {
        "answered": len(answered),
        "refused": sum(r["verdicts"]["refused"] for r in records),
        "empty_answers": sum(not r["claims"] for r in answered),
        "uncited_answers": sum("citation_precision" not in r for r in answered if r["claims"]),
        "claims": sum(len(r["claims"]) for r in records),
        "duplicate_citations": sum(c["duplicates"] for r in records for c in r["claims"]),
        "answerer_fallbacks": sum(bool(r.get("fallback")) for r in records),
    }
    stale = [r["stale"] for r in records if r.get("stale") is not None]
    summary["stale_answers"] = {"value": sum(stale), "n": len(stale)}  # a count: "this week" answers citing old news
    summary["latency_ms"] = latency(records)
    return summary


def stats_from_summary(summary: dict[str, Any]) -> dict[str, Stat]:
    return {name: Stat(**summary[name]) for name in METRICS if name in summary}


# -- bootstrap intervals ------------------------------------------------------------------------------------
RESAMPLES = 1000
SEED = 19
Pairs = Sequence[tuple[float, float]]  # (numerator, denominator) per question


def _ratios(num: np.ndarray, den: np.ndarray, idx: np.ndarray) -> np.ndarray:
    top, bottom = num[idx].sum(axis=1), den[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


def _draws(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(RESAMPLES, n))


def _bounds(values: np.ndarray) -> list[float] | None:
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    lo, hi = np.quantile(values, [0.025, 0.975])
    return [round(float(lo), 4), round(float(hi), 4)]


def interval(pairs: Pairs, seed: int = SEED) -> list[float] | None:
    """The bootstrap 95% interval of sum(num) / sum(den); None when nothing was measured."""
    arr = np.asarray(pairs, dtype=float).reshape(-1, 2)
    if not len(arr) or arr[:, 1].sum() == 0:
        return None
    return _bounds(_ratios(arr[:, 0], arr[:, 1], _draws(len(arr), seed)))


def paired_delta(a: Pairs, b: Pairs, seed: int = SEED) -> tuple[float | None, list[float] | None]:
    """B minus A over the same questions (a[i] and b[i] are one question), with its paired bootstrap interval."""
    x, y = np.asarray(a, dtype=float).reshape(-1, 2), np.asarray(b, dtype=float).reshape(-1, 2)
    if not len(x) or x[:, 1].sum() == 0 or y[:, 1].sum() == 0:
        return None, None
    delta = y[:, 0].sum() / y[:, 1].sum() - x[:, 0].sum() / x[:, 1].sum()
    idx = _draws(len(x), seed)
    return round(float(delta), 6), _bounds(_ratios(y[:, 0], y[:, 1], idx) - _ratios(x[:, 0], x[:, 1], idx))
