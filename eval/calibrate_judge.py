"""Calibrate the citation verifier: precision/recall of HeuristicJudge on the labelled set, per threshold.

    python -m eval.calibrate_judge
"""

from __future__ import annotations

import time

from app.settings import go_offline
from eval.labels import load_pairs


def metrics(predicted: list[bool], gold: list[bool]) -> dict[str, float]:
    tp = sum(p and g for p, g in zip(predicted, gold, strict=True))
    fp = sum(p and not g for p, g in zip(predicted, gold, strict=True))
    fn = sum(g and not p for p, g in zip(predicted, gold, strict=True))
    tn = sum(not p and not g for p, g in zip(predicted, gold, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    # "unsupported recall": share of bad sentences the verifier catches
    caught = tn / (tn + fp) if tn + fp else 1.0
    return {"precision": precision, "recall": recall, "unsupported_caught": caught,
            "accuracy": (tp + tn) / len(gold)}


def main() -> None:
    go_offline()
    from app.answering.support import THRESHOLD, HeuristicJudge
    from index.embedding.minilm import MiniLMEmbedder

    pairs, skipped = load_pairs()
    judge = HeuristicJudge(MiniLMEmbedder(), threshold=0.0)
    t0 = time.perf_counter()
    verdicts = [judge.judge(p.sentence, p.passage) for p in pairs]
    per = (time.perf_counter() - t0) / max(1, len(pairs)) * 1000
    gold = [p.supported for p in pairs]
    print(f"{len(pairs)} labelled pairs ({skipped} skipped: articles absent); {per:.1f} ms per sentence")
    print("threshold  precision  recall  unsupported_caught  accuracy")
    for t in [x / 100 for x in range(30, 80, 5)]:
        pred = [v.supported and v.score >= t for v in verdicts]
        m = metrics(pred, gold)
        mark = " <- THRESHOLD" if abs(t - THRESHOLD) < 1e-9 else ""
        print(f"{t:9.2f}  {m['precision']:9.3f}  {m['recall']:6.3f}  {m['unsupported_caught']:18.3f}  "
              f"{m['accuracy']:8.3f}{mark}")
    for p, v in zip(pairs, verdicts, strict=True):
        if (v.supported and v.score >= THRESHOLD) != p.supported:
            print(f"  wrong: {p.id} ({p.kind}, gold {p.supported}): {v.reason}")


if __name__ == "__main__":
    main()
