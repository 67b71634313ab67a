"""`newsrag eval compare RUN_A RUN_B`: is B better than A, or is the difference noise?

Both runs are read from their `--out` folders (results.jsonl; summary.json for what was run) and paired on the
questions they share. Per metric: A's value, B's, the difference B - A and its paired bootstrap 95% interval
(eval/summary.py; each resample draws the same questions from both runs); a difference whose interval excludes
0 is marked. Then the questions that flipped: a verdict (hit@1/5/10, gold answer in the answer, refused, a claim
found unsupported) that differs between the runs, so the change can be read question by question.

`check_thresholds` is `newsrag eval --fail-under hit@5=0.8` (and `--fail-over`): a run judged against fixed limits,
for CI, where compare judges it against another run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.errors import NewsragError
from eval.summary import METRICS, contributions, paired_delta

FLIPS = ("hit@1", "hit@5", "hit@10", "answer_contains", "refused", "unsupported claim")


def load_run(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The records and run info of an eval `--out` folder (or of its results.jsonl)."""
    results = path / "results.jsonl" if path.is_dir() else path
    if not results.is_file():
        raise NewsragError(f"no eval run at {path}: expected a folder written by `newsrag eval --out DIR` "
                           "(with results.jsonl in it)")
    records = []
    for lineno, line in enumerate(results.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise NewsragError(f"{results}:{lineno}: not a JSON line (is this an eval results file?)") from None
    summary = results.parent / "summary.json"
    run = json.loads(summary.read_text(encoding="utf-8")).get("run", {}) if summary.is_file() else {}
    return records, run


def verdict(record: dict[str, Any], name: str) -> bool | None:
    if name in ("hit@1", "hit@5", "hit@10"):
        return (record.get("retrieval") or {}).get(name)
    if name == "unsupported claim":
        return any(c["supported"] is False for c in record["claims"])
    return record["verdicts"].get(name)


def compare(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, Any]:
    by_a, by_b = {str(r["id"]): r for r in a}, {str(r["id"]): r for r in b}
    common = [q for q in by_a if q in by_b]
    if not common:
        raise NewsragError("the two runs share no question id: compare runs of the same dataset")
    ca, cb = [contributions(by_a[q]) for q in common], [contributions(by_b[q]) for q in common]
    metrics = {}
    for name in METRICS:
        xa, xb = [c[name] for c in ca], [c[name] for c in cb]
        value_a, value_b = _ratio(xa), _ratio(xb)
        if value_a is None and value_b is None:
            continue
        delta, ci = paired_delta(xa, xb)
        metrics[name] = {"a": value_a, "b": value_b, "delta": delta, "ci95": ci,
                         "n": int(sum(d for _, d in xb)), "significant": bool(ci and (ci[0] > 0 or ci[1] < 0))}
    flipped = []
    for q in common:
        changes = {n: [verdict(by_a[q], n), verdict(by_b[q], n)] for n in FLIPS}
        changes = {n: v for n, v in changes.items() if v[0] is not None and v[1] is not None and v[0] != v[1]}
        if changes:
            flipped.append({"id": q, "question": by_b[q]["question"], "changes": changes})
    return {"questions": len(common), "only_a": sorted(set(by_a) - set(by_b)), "only_b": sorted(set(by_b) - set(by_a)),
            "metrics": metrics, "flipped": flipped}


def _ratio(pairs: list[tuple[float, float]]) -> float | None:
    den = sum(d for _, d in pairs)
    return round(sum(n for n, _ in pairs) / den, 6) if den else None


BETTER_WHEN_LOWER = {"false_refusal_rate"}


def render(result: dict[str, Any], name_a: str, name_b: str) -> str:
    def num(x: float | None, sign: bool = False) -> str:
        return "n/a" if x is None else (f"{x:+.3f}" if sign else f"{x:.3f}")

    lines = [f"A = {name_a}", f"B = {name_b}", f"{result['questions']} questions in both"
             + (f" ({len(result['only_a'])} only in A, {len(result['only_b'])} only in B: left out)"
                if result["only_a"] or result["only_b"] else ""), "",
             f"{'metric':<20} {'A':>7} {'B':>7} {'B - A':>8}  95% CI of B - A", "-" * 64]
    for name, m in result["metrics"].items():
        ci = f"[{m['ci95'][0]:+.3f}, {m['ci95'][1]:+.3f}]" if m["ci95"] else "-"
        mark = ""
        if m["significant"]:
            worse = (m["delta"] > 0) == (name in BETTER_WHEN_LOWER)
            mark = "  worse" if worse else "  better"
        lines.append(f"{name:<20} {num(m['a']):>7} {num(m['b']):>7} {num(m['delta'], True):>8}  {ci}{mark}")
    lines += ["", "better/worse: the 95% interval of the difference excludes 0; otherwise it may be noise.", "",
              f"Flipped questions ({len(result['flipped'])}):"]
    for f in result["flipped"]:
        said = "; ".join(f"{n} {_yes(v[0])} -> {_yes(v[1])}" for n, v in f["changes"].items())
        lines.append(f"  {f['id']}: {said}  ({f['question'][:70]})")
    if not result["flipped"]:
        lines.append("  none")
    return "\n".join(lines)


def _yes(v: bool | None) -> str:
    return "yes" if v else "no"


# -- the CLI's side: `newsrag eval compare`, and `newsrag eval --fail-under/--fail-over` ------------------------
def check_thresholds(summary: dict[str, Any], under: list[list[tuple[str, float]]],
                     over: list[list[tuple[str, float]]]) -> int:
    """0, or 1 after one stderr line per metric past its threshold (an unmeasured metric fails --fail-under)."""
    failed = []
    for limits, below in ((under, True), (over, False)):
        for name, limit in (x for group in limits for x in group):
            stat = summary.get(name) or {}
            value, ci = stat.get("value"), stat.get("ci95")
            if value is None:
                failed.append(f"FAIL {name}: not measured (n=0), needed {'>=' if below else '<='} {limit:g}")
            elif (value < limit) if below else (value > limit):
                shown = f" (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else ""
                failed.append(f"FAIL {name} = {value:.3f}{shown}, n={stat.get('n')}: "
                              f"{'below' if below else 'above'} {limit:g}")
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


def compare_command(args: argparse.Namespace) -> int:
    (a, run_a), (b, run_b) = load_run(args.run_a), load_run(args.run_b)
    result = compare(a, b)
    result.update({"a": str(args.run_a), "b": str(args.run_b), "run_a": run_a, "run_b": run_b})
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(render(result, _describe(args.run_a, run_a), _describe(args.run_b, run_b)))
    return 0


def _describe(path: Path, run: dict[str, Any]) -> str:
    bits = [f"{k} {run[k]}" for k in ("answerer", "k", "settings_hash", "split") if run.get(k) is not None]
    return f"{path}" + (f" ({', '.join(bits)})" if bits else "")
