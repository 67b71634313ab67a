"""The summary of a run: every metric as {value, n[, judge_failures, lower, upper]}, keyed by its name.

Everything but `latency_ms` is a function of the inputs: the offline judge gives the same summary every run.
"""

from __future__ import annotations

from typing import Any

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
    summary.update({name: stat.as_dict() for name, stat in metric_stats(records).items()})
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
