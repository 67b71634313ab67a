"""Agreement between raters, and between raters and each judge: Cohen's kappa with its n.

Units: one claim of one item (labels supported / not_supported / unsure), and one item as a whole (correct
yes / no / unsure). Rater against rater uses every label; rater against a judge (or against the automatic
answer_contains) uses only the units where the rater was sure and the judge gave a verdict; the units left
out are counted (`unsure`, `judge_failures`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from app.quality.ratings import RatingsStore


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """(p_o - p_e) / (1 - p_e); None when there are no units or p_e == 1 (both used one and the same label)."""
    if len(a) != len(b):
        raise ValueError("the two raters must label the same units")
    n = len(a)
    if not n:
        return None
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[c] * cb[c] for c in set(ca) | set(cb)) / (n * n)
    if pe >= 1.0:
        return None
    return round((po - pe) / (1 - pe), 6)


def _pair(a: Sequence[str], b: Sequence[str], **extra: Any) -> dict[str, Any]:
    observed = round(sum(x == y for x, y in zip(a, b, strict=True)) / len(a), 6) if a else None
    return {"n": len(a), "observed_agreement": observed, "kappa": cohen_kappa(a, b), **extra}


def agreement(store: RatingsStore) -> dict[str, Any]:
    items = {i["id"]: i for i in store.items()}
    sent: dict[str, dict[tuple[str, int], str]] = {}
    for r in store.sentence_ratings():
        sent.setdefault(r["rater"], {})[(r["item_id"], r["sentence"])] = r["label"]
    whole: dict[str, dict[str, str]] = {}
    for r in store.answer_ratings():
        whole.setdefault(r["rater"], {})[r["item_id"]] = r["correct"]
    raters = sorted(set(sent) | set(whole))
    out: dict[str, Any] = {"items": len(items), "raters": {r: {"sentences": len(sent.get(r, {})),
                                                               "answers": len(whole.get(r, {}))} for r in raters},
                           "sentences": {}, "answers": {}, "rater_vs_judge": {}, "rater_vs_answer_contains": {}}
    for r1, r2 in combinations(raters, 2):
        units = sorted(set(sent.get(r1, {})) & set(sent.get(r2, {})))
        out["sentences"][f"{r1} vs {r2}"] = _pair([sent[r1][u] for u in units], [sent[r2][u] for u in units])
        common = sorted(set(whole.get(r1, {})) & set(whole.get(r2, {})))
        out["answers"][f"{r1} vs {r2}"] = _pair([whole[r1][i] for i in common], [whole[r2][i] for i in common])
    judges = sorted({j for i in items.values() for j in i["judges"]})
    for rater in raters:
        for judge in judges:
            a, b, unsure, failures = [], [], 0, 0
            for (iid, idx), label in sorted(sent.get(rater, {}).items()):
                verdicts = items[iid]["judges"].get(judge)
                if verdicts is None or idx >= len(verdicts):
                    continue
                if label == "unsure":
                    unsure += 1
                elif verdicts[idx] is None:
                    failures += 1
                else:
                    a.append(label)
                    b.append("supported" if verdicts[idx] else "not_supported")
            out["rater_vs_judge"][f"{rater} vs {judge}"] = _pair(a, b, unsure=unsure, judge_failures=failures)
        a, b, unsure = [], [], 0
        for iid, correct in sorted(whole.get(rater, {}).items()):
            auto = items[iid]["auto"].get("answer_contains")
            if auto is None:
                continue
            if correct == "unsure":
                unsure += 1
                continue
            a.append(correct)
            b.append("yes" if auto else "no")
        out["rater_vs_answer_contains"][rater] = _pair(a, b, unsure=unsure)
    return out


def render(report: dict[str, Any]) -> str:
    def fmt(d: dict[str, Any]) -> str:
        kappa = "n/a" if d["kappa"] is None else f"{d['kappa']:.3f}"
        observed = "n/a" if d["observed_agreement"] is None else f"{d['observed_agreement']:.3f}"
        rest = "".join(f", {k} {d[k]}" for k in ("unsure", "judge_failures") if d.get(k))
        return f"kappa {kappa}, agreement {observed} (n={d['n']}{rest})"

    lines = [f"{report['items']} items; raters: " + (", ".join(
        f"{r} ({v['sentences']} sentences, {v['answers']} answers)" for r, v in report["raters"].items()) or "none")]
    for title, key in (("claims, rater vs rater", "sentences"), ("answers correct, rater vs rater", "answers"),
                       ("claims, rater vs judge", "rater_vs_judge"),
                       ("answers correct, rater vs answer_contains", "rater_vs_answer_contains")):
        if report[key]:
            lines.append(f"{title}:")
            lines += [f"  {name}: {fmt(d)}" for name, d in report[key].items()]
    return "\n".join(lines)
