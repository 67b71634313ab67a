"""Ingest a corpus of 30 kinds of hostile input: the good all go in, each bad one is named, stores agree."""

from __future__ import annotations

import re
import time
import tracemalloc
from pathlib import Path

import pytest

from app.engine import Engine
from index.load import load_file
from tests import hostile

pytestmark = pytest.mark.slow


def test_hostile_corpus(engine: Engine, tmp_path: Path) -> None:
    expect = hostile.build(tmp_path / "corpus")
    assert len(expect) >= 30
    t0 = time.perf_counter()
    report = engine.ingest([tmp_path / "corpus"])
    elapsed = time.perf_counter() - t0
    def name(path: str) -> str:  # "dir/mixed.jsonl:2" -> "mixed.jsonl:2", "dir/list.json[1]" -> "list.json"
        path = re.sub(r"\[\d+\]$", "", path)
        line = ":" + path.rsplit(":", 1)[1] if ".jsonl:" in path else ""
        return Path(path.split(":")[0]).name + line

    failed = {name(f.path): f.reason for f in report.failed + report.duplicates + report.conflicts + report.skipped}
    for name, outcome in expect.items():
        if outcome in (hostile.OK, "skipped") or name == "tiny/*":
            assert name not in failed, (name, failed.get(name))
        else:
            assert outcome in failed.get(name, ""), (name, failed.get(name))
    ids = {row["id"] for row in engine.articles()}
    assert {"latin1", "utf16", "bom", "good-1", "good-2", "page", "oneline", "injection", "control", "rtl", "emoji",
            "crlf", "notes", "l1", "l2", "good-3", "src-obj", "front", "mixed", "Новости", "新闻"} <= ids
    assert "bad-url" not in ids and "outside" not in ids and not report.conflicts
    assert engine.article("front").title == "Front matter" and engine.article("src-obj").date == "2022-06-01"
    assert "Zürich" in engine.article("mixed").text and "café" in engine.article("mixed").text
    assert sum(i.startswith("t") and i[1:].isdigit() for i in ids) == 2000
    assert "hidden" not in ids and ".hidden" not in ids
    assert "\x07" not in engine.article("control").text and "\x1b" not in engine.article("control").text
    assert "alert" not in engine.article("page").text and "Menu" not in engine.article("page").text
    assert engine.store.ids() == engine.manifest.chunk_ids() and engine.verify().clean
    print(f"\n{len(expect)} kinds, {len(ids)} articles indexed, {len(failed)} refused, in {elapsed:.1f} s")


def test_refusing_huge_files_reads_nothing(tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as handle:
        handle.truncate(50_000_000)
    tracemalloc.start()
    with pytest.raises(Exception, match="file too large"):
        list(load_file(big))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000, peak
