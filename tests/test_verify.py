"""The citation verifier on the labelled set (eval/data/support_labels.jsonl): precision/recall above a floor."""

from __future__ import annotations

import pytest

from app.answering.claims import normalise_markers, split_claims
from app.answering.support import HeuristicJudge, numbers, unbound_numbers
from eval.calibrate_judge import metrics
from eval.labels import load_pairs

pytestmark = pytest.mark.slow

# Floors sit ~0.07 under what the calibrated judge measures (P 0.94, R 0.92, unsupported caught 0.94 on
# 100 pairs): the set is small, so one or two pairs flipping by a library update must not fail CI, while a
# real regression (e.g. the entity or number checks switched off: P drops to ~0.83) must.
FLOORS = {"precision": 0.87, "recall": 0.85, "unsupported_caught": 0.87}
# Without ../shared/data/realtimeqa only the 26 sample pairs remain (measured P 0.92, R 0.85, caught 0.92);
# one pair there moves recall by 0.077, so the floors are one pair below what is measured.
SAMPLE_ONLY_FLOORS = {"precision": 0.84, "recall": 0.76, "unsupported_caught": 0.84}


def test_precision_recall_on_labelled_set(real_engine) -> None:  # type: ignore[no-untyped-def]
    pairs, skipped = load_pairs()
    assert len(pairs) >= 26, "the sample pairs are always there"
    judge = HeuristicJudge(real_engine.embedder)
    predicted = [judge.judge(p.sentence, p.passage).supported for p in pairs]
    m = metrics(predicted, [p.supported for p in pairs])
    print(f"\nverifier on {len(pairs)} labelled pairs ({skipped} skipped): "
          + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))
    if skipped:
        print(f"RealTime QA articles not found at ../shared/data/realtimeqa: {skipped} pairs skipped")
    for key, floor in (SAMPLE_ONLY_FLOORS if skipped else FLOORS).items():
        assert m[key] >= floor, (key, m)


def test_marker_normalisation() -> None:
    assert normalise_markers("Syria. [1]") == "Syria [1]. "
    assert normalise_markers("as [1, 2] said") == "as [1][2] said"
    assert split_claims("A said x [1]. B said y. [2][3] Done") == ["A said x [1].", "B said y [2][3].", "Done"]


def test_number_checks() -> None:
    assert numbers("about 20 flights, eight targets") == {"20", "eight"}
    passage = "it carried out about 20 flights over Syria, hitting eight Islamic State targets"
    assert unbound_numbers("it hit 20 Islamic State targets", passage) == ["20"]
    assert unbound_numbers("it flew about 20 flights", passage) == []
