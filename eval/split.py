"""The committed, seeded split of a question set into a calibration half (tune thresholds and weights on it) and
a validation half (report it; never tune on it): `newsrag eval --split calibration|validation`.

The split is stratified: answerable and unanswerable questions are shuffled apart with one seed and dealt
alternately, so both halves hold the same share of each. Re-create it (same seed, same file) with
`python -m eval.split ../shared/data/realtimeqa/questions_dev.jsonl`; only question ids are stored.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from app.errors import NewsragError

SEED = 20261201
DEFAULT = Path(__file__).resolve().parent / "datasets" / "realtimeqa-dev-split.json"
HALVES = ("calibration", "validation")


def make_split(records: list[dict], seed: int = SEED) -> dict[str, list[str]]:
    halves: dict[str, list[str]] = {h: [] for h in HALVES}
    rng = random.Random(seed)
    for answerable in (True, False):
        ids = sorted(str(r["id"]) for r in records if bool(r.get("answerable", True)) == answerable)
        rng.shuffle(ids)
        for i, qid in enumerate(ids):
            halves[HALVES[i % 2]].append(qid)
    return {h: sorted(v) for h, v in halves.items()}


def split_ids(half: str, path: Path = DEFAULT) -> set[str]:
    """The question ids of one half; a clear error when the file or the half is missing."""
    if half not in HALVES:
        raise NewsragError(f"unknown split {half!r} (choose {' or '.join(HALVES)})")
    if not path.exists():
        raise NewsragError(f"split file not found: {path} (make it with `python -m eval.split QUESTIONS.jsonl`)")
    return set(json.loads(path.read_text(encoding="utf-8"))[half])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("questions", type=Path)
    ap.add_argument("--out", type=Path, default=DEFAULT)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    records = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    split = make_split(records, args.seed)
    payload = {"seed": args.seed, "source": args.questions.name, **split}
    args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"{args.out}: " + ", ".join(f"{h} {len(split[h])}" for h in HALVES))


if __name__ == "__main__":
    main()
