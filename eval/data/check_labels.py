"""Validate eval/data/support_labels.jsonl and print each passage with its label for proof-reading.

    python eval/data/check_labels.py [--quiet] [--labels PATH] [--data DIR]

The labels hold only (article_id, start, end) for each passage: the article texts are read from the shared
data directory (default: `../shared/data` beside the repository, or $NEWSRAG_SHARED_DATA):
  * source "sample":     seed/<article_id>.txt, body without its title line (first non-blank line), stripped
  * source "realtimeqa": realtimeqa/articles.jsonl, field `text` of the line with that `id`
Exits 1 if a record is malformed or a span is out of range / not trimmed; warns on unusual span lengths.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LABELS = Path(__file__).with_name("support_labels.jsonl")
SUPPORTED_KINDS = {"verbatim", "paraphrase", "partial_quote"}
UNSUPPORTED_KINDS = {"wrong_entity", "wrong_number", "wrong_date", "negated", "unrelated", "overclaim"}
MIN_SPAN, MAX_SPAN = 100, 600


def default_data_dir() -> Path:
    if env := os.environ.get("NEWSRAG_SHARED_DATA"):
        return Path(env)
    for candidate in (REPO.parent / "shared" / "data", Path("/work/shared/data")):
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "data"


def sample_body(raw: str) -> str:
    """The article text of a seed file: everything after its first non-blank line (the title), stripped."""
    lines = raw.splitlines(keepends=True)
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    return "".join(lines[i + 1 :]).strip()


class Articles:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._rtqa: dict[str, str] | None = None
        self._sample: dict[str, str] = {}

    def text(self, source: str, article_id: str) -> str:
        if source == "sample":
            if article_id not in self._sample:
                raw = (self.data_dir / "seed" / f"{article_id}.txt").read_text(encoding="utf-8")
                self._sample[article_id] = sample_body(raw)
            return self._sample[article_id]
        if source == "realtimeqa":
            if self._rtqa is None:
                with (self.data_dir / "realtimeqa" / "articles.jsonl").open(encoding="utf-8") as f:
                    self._rtqa = {(d := json.loads(line))["id"]: d["text"] for line in f if line.strip()}
            return self._rtqa[article_id]
        raise KeyError(f"unknown source {source!r}")


def check(record: dict[str, Any], articles: Articles) -> tuple[list[str], list[str], str]:
    """Return (errors, warnings, passage text) for one label record."""
    errors: list[str] = []
    warnings: list[str] = []
    if not isinstance(record.get("sentence"), str) or not record["sentence"].strip():
        errors.append("empty sentence")
    supported, kind = record.get("supported"), record.get("kind")
    if not isinstance(supported, bool):
        errors.append("supported is not a bool")
    elif kind not in (SUPPORTED_KINDS if supported else UNSUPPORTED_KINDS):
        errors.append(f"kind {kind!r} does not fit supported={supported}")
    p = record.get("passage") or {}
    start, end = p.get("start"), p.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return [*errors, "start/end are not ints"], warnings, ""
    try:
        text = articles.text(p.get("source", ""), p.get("article_id", ""))
    except (KeyError, OSError) as e:
        return [*errors, f"article not found: {e}"], warnings, ""
    if not 0 <= start < end <= len(text):
        return [*errors, f"span {start}:{end} out of range (article has {len(text)} chars)"], warnings, ""
    passage = text[start:end]
    if passage != passage.strip():
        errors.append("span starts or ends with whitespace")
    if not MIN_SPAN <= len(passage) <= MAX_SPAN:
        warnings.append(f"span length {len(passage)} outside {MIN_SPAN}-{MAX_SPAN}")
    return errors, warnings, passage


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--data", type=Path, default=None, help="shared data dir (seed/, realtimeqa/)")
    ap.add_argument("--quiet", action="store_true", help="only the summary and problems")
    args = ap.parse_args(argv)
    articles = Articles(args.data or default_data_dir())
    records = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    n_errors = 0
    ids: Counter[str] = Counter(r.get("id", "") for r in records)
    for dup in (i for i, c in ids.items() if c > 1):
        print(f"ERROR duplicate id {dup}")
        n_errors += 1
    for r in records:
        errors, warnings, passage = check(r, articles)
        n_errors += len(errors)
        if not args.quiet:
            p = r.get("passage", {})
            label = "SUPPORTED  " if r.get("supported") else "UNSUPPORTED"
            where = f"[{p.get('article_id')} {p.get('start')}:{p.get('end')}]"
            print(f"=== {r.get('id')}  {label} {r.get('kind')}  {where}")
            print(textwrap.indent(textwrap.fill(passage.replace("\n", " "), 106), "  | "))
            print(f"  > {r.get('sentence')}")
        for msg in errors:
            print(f"ERROR {r.get('id')}: {msg}")
        for msg in warnings:
            print(f"warning {r.get('id')}: {msg}")
    by_source = Counter(r.get("passage", {}).get("source") for r in records)
    kinds = Counter(r.get("kind") for r in records)
    n_supported = sum(1 for r in records if r.get("supported") is True)
    n_articles = len({(r["passage"]["source"], r["passage"]["article_id"]) for r in records if "passage" in r})
    print(f"\n{len(records)} labels ({n_supported} supported, {len(records) - n_supported} unsupported) "
          f"from {n_articles} articles; by source {dict(by_source)}")  # fmt: skip
    print("kinds:", dict(sorted(kinds.items())))
    print(f"{n_errors} error(s)")
    return 1 if n_errors else 0


if __name__ == "__main__":
    sys.exit(main())
