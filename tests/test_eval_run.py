"""`newsrag eval` end to end on the bundled sample + synthetic distractors (hash embedder: fast, offline):
reports, determinism, caching, judge failures against a real local HTTP server returning garbage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from tests.conftest import ROOT, SAMPLE_DIR, offline_eval_env
from tests.fake_openai import FakeOpenAI, Reply

DATASET = ROOT / "eval" / "datasets" / "sample.jsonl"
DISTRACTORS = ROOT / "eval" / "datasets" / "sample-distractors.jsonl"
ARGS = ["eval", "--dataset", str(DATASET), "--corpus", str(SAMPLE_DIR), "--corpus", str(DISTRACTORS)]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("eval")
    with pytest.MonkeyPatch.context() as mp:
        offline_eval_env(mp, tmp)
        yield tmp


def run_json(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main([*ARGS, *extra, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def stable(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "latency_ms"}


@pytest.fixture(scope="module")
def first(env: Path) -> dict[str, Any]:
    out = env / "out"
    assert main([*ARGS, "--out", str(out), "--json"]) == 0
    return json.loads((out / "summary.json").read_text())


def test_report_files_and_summary(env: Path, first: dict[str, Any]) -> None:
    out = env / "out"
    for name in ("results.jsonl", "summary.json", "report.md", "report.html", "plots/hit_at_k.png"):
        assert (out / name).exists(), name
    assert first["questions"] == 15 and first["errors"] == 0
    assert first["run"]["articles"] == 4 and first["run"]["gold_ids_not_indexed"] == 0
    for name in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "recall@k", "answer_contains", "token_f1",
                 "refusal_accuracy", "false_refusal_rate", "faithfulness", "citation_recall", "citation_precision"):
        assert set(first[name]) >= {"value", "n"}, name
    assert first["hit@10"]["n"] == 10 and first["refusal_accuracy"]["n"] == 5
    assert first["answer_contains"]["value"] >= 0.7
    assert first["refusal_accuracy"]["value"] >= 0.6  # u01-u03 name people or things no article mentions
    assert first["faithfulness"]["value"] == 1.0  # extractive answers are verbatim
    assert first["judge"]["failures"] == 0 and first["judge"]["calls"] > 0
    assert set(first["latency_ms"]) >= {"retrieve", "answer", "total"}
    assert all(v["n"] == 15 for v in first["latency_ms"].values())
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Failures (" in html
    md = (out / "report.md").read_text()
    assert "| hit@5 |" in md and "newsrag eval" in md


def test_results_carry_answers_verdicts_and_reasons(env: Path, first: dict[str, Any]) -> None:
    records = [json.loads(line) for line in (env / "out" / "results.jsonl").read_text().splitlines()]
    by_id = {r["id"]: r for r in records}
    assert by_id["u01"]["answer"]["refused"] and by_id["u01"]["verdicts"]["refusal_correct"] is True
    s01 = by_id["s01"]
    assert s01["verdicts"]["answer_contains"] is True and s01["retrieval"]["first_gold_rank"] == 1
    assert s01["claims"][0]["supported"] is True and s01["claims"][0]["reason"].startswith("supported")
    assert by_id["s08"]["history"] and by_id["s08"]["answer"]["rewritten_query"]  # the follow-up was rewritten
    assert by_id["u04"]["extra"] == {"kind": "present entity, absent fact"}
    assert all(isinstance(r["failures"], list) for r in records)


def test_two_runs_identical_summary(env: Path, first: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    again = run_json(capsys)  # the corpus is cached: no second ingest
    assert stable(again) == stable(first)
    fresh = run_json(capsys, "--data-dir", str(env / "fresh-index"))  # a fresh index of the same corpus
    assert stable(fresh) == stable(first)


def test_limit_k_and_quote_evidence(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = run_json(capsys, "--limit", "3", "--k", "2", "--evidence", "quote")
    assert summary["questions"] == 3 and summary["run"]["k"] == 2 and summary["run"]["evidence"] == "quote"
    assert summary["hit@10"]["n"] == 3


def test_judge_failures_counted_against_a_garbage_endpoint(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI([Reply("SUPPORTED: the passage says so"), Reply(malformed=True), Reply(status=500),
                     Reply("Sure! Here is my analysis of the claim...")]) as fake:
        summary = run_json(capsys, "--judge", "llm", "--judge-base-url", fake.base_url, "--judge-model", "judge")
        calls = len(fake.requests)
    judge = summary["judge"]
    assert judge["name"] == "llm:judge" and judge["calls"] == calls and judge["failures"] == calls - 1
    faith = summary["faithfulness"]
    claims = summary["counts"]["claims"]
    assert faith["n"] >= 1 and faith["n"] + faith["judge_failures"] == claims  # nothing silently dropped
    assert faith["value"] == 1.0 and faith["lower"] == pytest.approx(faith["n"] / claims, abs=1e-6)
    recall = summary["citation_recall"]
    assert recall["judge_failures"] >= 1 and recall["n"] + recall["judge_failures"] == summary["counts"]["answered"]
    assert "NaN" not in json.dumps(summary)
    # the judge saw the prompt file's instructions and the claim
    assert "SUPPORTED" in fake.requests[0]["messages"][0]["content"]
    assert "<claim>" in fake.requests[0]["messages"][1]["content"]


def test_all_judge_calls_fail_gives_null_not_zero(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI() as fake:  # every reply is "No scripted reply.": malformed
        summary = run_json(capsys, "--limit", "4", "--judge", "llm", "--judge-base-url", fake.base_url,
                           "--judge-model", "judge")
    faith = summary["faithfulness"]
    assert faith["value"] is None and faith["n"] == 0 and faith["judge_failures"] == summary["counts"]["claims"] > 0
    assert (faith["lower"], faith["upper"]) == (0.0, 1.0)


def test_an_index_the_embedder_would_not_reproduce_is_refused(env: Path, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    run_json(capsys)  # the cached index (built by the module fixture)
    monkeypatch.setattr("eval.dataset.embedder_probe", lambda engine: "other-numerics")
    assert main([*ARGS, "--json"]) == 2
    assert "the embedder's output has changed" in capsys.readouterr().err


def test_helpful_errors(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval"]) == 2
    assert "needs --dataset" in capsys.readouterr().err
    assert main(["eval", "--dataset", str(DATASET), "--corpus", str(env / "missing.jsonl")]) == 2
    assert "corpus not found" in capsys.readouterr().err
    bad = env / "bad.jsonl"
    bad.write_text('{"question": "ok?"}\n{"answers": ["x"]}\n')
    assert main(["eval", "--dataset", str(bad), "--corpus", str(SAMPLE_DIR)]) == 2
    assert "line 2: 'question' must be a non-empty string" in capsys.readouterr().err
    assert main([*ARGS, "--judge", "llm"]) == 2  # no endpoint configured: says which setting is missing
    assert "NEWSRAG_LLM_BASE_URL" in capsys.readouterr().err


@pytest.mark.slow
def test_real_model_sample_eval_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import MODEL_CACHE

    monkeypatch.setenv("NEWSRAG_EMBEDDER", "minilm")
    monkeypatch.setenv("NEWSRAG_MODEL_CACHE_DIR", str(MODEL_CACHE))
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    first, second = run_json(capsys), run_json(capsys)
    assert stable(first) == stable(second)
    assert first["hit@5"]["value"] == 1.0 and first["answer_contains"]["value"] >= 0.7, first
    assert first["refusal_accuracy"]["value"] >= 0.6 and first["faithfulness"]["value"] >= 0.9, first
