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
