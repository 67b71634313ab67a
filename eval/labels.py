"""The labelled (sentence, passage, supported?) set for the citation verifier, with passages resolved.

Sample passages come from the bundled article; RealTime QA passages are read from ../shared/data at run time
(only ids and offsets are stored in the project). Pairs whose article is absent are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "eval" / "data" / "support_labels.jsonl"
SAMPLE = ROOT / "examples" / "articles" / "russian-airstrikes-in-syria.txt"
REALTIMEQA = ROOT.parent / "shared" / "data" / "realtimeqa"


@dataclass
class Pair:
    id: str
    sentence: str
    passage: str
    supported: bool
    kind: str


def sample_text() -> str:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.strip())
    return "".join(lines[first + 1:]).strip()


def realtimeqa_articles(ids: set[str], directory: Path = REALTIMEQA) -> dict[str, str]:
    path = directory / "articles.jsonl"
    if not path.exists():
        return {}
    out = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if any(f'"{i}"' in line[:80] for i in ids):
                rec = json.loads(line)
                if rec["id"] in ids:
                    out[rec["id"]] = rec["text"]
    return out


def load_pairs(labels: Path = LABELS) -> tuple[list[Pair], int]:
    """(pairs, skipped): skipped counts pairs whose article is not available here."""
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    rtqa = realtimeqa_articles({r["passage"]["article_id"] for r in rows if r["passage"]["source"] == "realtimeqa"})
    sample = sample_text()
    pairs, skipped = [], 0
    for r in rows:
        p = r["passage"]
        text = sample if p["source"] == "sample" else rtqa.get(p["article_id"])
        if text is None:
            skipped += 1
            continue
        pairs.append(Pair(r["id"], r["sentence"], text[p["start"]:p["end"]], bool(r["supported"]), r["kind"]))
    return pairs, skipped
