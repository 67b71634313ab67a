"""`newsrag bench --quick --json` on the bundled sample: it runs end to end (newsrag and both llama-index baselines,
retrieval at one size, a cold start) and reports the summary keys with numbers for the ratios. Speeds are never
asserted here: they are measured by the bench itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import MODEL_CACHE, SAMPLE_DIR

KEYS = {"ingest_ratio", "ingest_ratio_default", "ingest_chunks_per_s", "baseline_chunks_per_s", "hit5",
        "baseline_hit5", "retrieval_p50_ms", "retrieval_p95_ms", "answer_p50_ms", "cold_start_s", "text_share",
        "baseline_default_text_share", "serving_peak_rss_mb", "ingest_profile_s"}


@pytest.mark.slow
def test_bench_quick_json_on_the_sample(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    if MODEL_CACHE.exists():
        shutil.copytree(MODEL_CACHE, cache / "models")  # the ONNX export is made once per machine
    out = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "app.cli", "bench", "--quick", "--json", "--corpus", str(SAMPLE_DIR),
                           "--sizes", "120", "--ingest-articles", "1", "--backends", "onnx-int8", "--cold-runs", "1",
                           "--out", str(out), "--cache", str(cache)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (tmp_path / "newsrag-data").exists()  # the bench never opens (or creates) the user's data dir
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(summary) >= KEYS
    for key in ("ingest_ratio", "ingest_ratio_default", "ingest_chunks_per_s", "baseline_chunks_per_s",
                "retrieval_p50_ms", "cold_start_s"):
        assert isinstance(summary[key], (int, float)) and summary[key] > 0, key
    assert summary["hit5"] is None  # the sample has no questions with gold articles
    assert summary["text_share"] > 0.99 > summary["baseline_default_text_share"]
    assert {p.name for p in out.iterdir()} >= {"bench-quick.json", "bench-quick.md"}
    report = (out / "bench-quick.md").read_text()
    assert "| ingest vs llama-index, all text embedded |" in report
    assert "fresh process: ingest s" in report  # `newsrag ingest ONE_FILE` in a new process, beside in-process
    fresh = json.loads((out / "bench-quick.json").read_text())["scale"][0]["add_one_fresh"]
    assert fresh["ingest_s"] > 0 and fresh["remove_s"] > 0 and len(fresh["ingest_runs_s"]) == 3


def test_ingest_race_rounds_rotate_and_take_ratios_within_each_round(tmp_path: Path) -> None:
    """The machine's load drifts between turns: ratios are taken inside a round, then the median over rounds."""
    from eval.bench.race import race

    speed = {("newsrag", 1): 6.0, ("newsrag", 2): 3.0, ("newsrag", 3): 9.0,  # round 2 was a slow round for all
             ("llamaindex-alltext", 1): 2.0, ("llamaindex-alltext", 2): 1.0, ("llamaindex-alltext", 3): 2.0,
             ("llamaindex-default", 1): 4.0, ("llamaindex-default", 2): 2.0, ("llamaindex-default", 3): 6.0}
    order: list[str] = []

    def child(module: str, spec: dict) -> dict:  # type: ignore[type-arg]
        name = Path(spec["data_dir"]).name
        order.append(name)
        r = int(name.rsplit("-r", 1)[1]) if "-r" in name else 1
        return {"articles_per_s": speed.get((spec["pipeline"], r), 1.0), "pipeline": spec["pipeline"]}

    out = race(["onnx-int8", "torch"], 3, tmp_path, {}, child, lambda m: None)
    assert order[:4] == ["newsrag-onnx-int8", "newsrag-torch", "llamaindex-alltext", "llamaindex-default"]
    assert order[4:7] == ["llamaindex-alltext-r2", "llamaindex-default-r2", "newsrag-onnx-int8-r2"]  # rotated, no torch
    assert order[7:] == ["llamaindex-default-r3", "newsrag-onnx-int8-r3", "llamaindex-alltext-r3"]
    assert [r["ingest_ratio"] for r in out["rounds"]["ratios"]] == [3.0, 3.0, 4.5]
    assert out["rounds"]["ingest_ratio"] == 3.0 and out["rounds"]["ingest_ratio_default"] == 1.5
    assert out["newsrag-onnx-int8"]["articles_per_s"] == 6.0  # the median round is the one shown
    assert out["newsrag-onnx-int8"]["rounds_articles_per_s"] == [6.0, 3.0, 9.0]
