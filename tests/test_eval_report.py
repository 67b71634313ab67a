"""The eval report's reading aids: bootstrap 95% intervals on every rate, the table of every question with filters,
`newsrag eval compare` (paired differences with intervals, flipped questions) and `--fail-under` for CI."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from eval.summary import METRICS, contributions, interval, metric_stats, paired_delta
from tests.browser import ARGS as CHROMIUM_ARGS
from tests.browser import CHROMIUM
from tests.conftest import ROOT, SAMPLE_DIR, offline_eval_env

DATASET = ROOT / "eval" / "datasets" / "sample.jsonl"
DISTRACTORS = ROOT / "eval" / "datasets" / "sample-distractors.jsonl"
EVAL = ["eval", "--dataset", str(DATASET), "--corpus", str(SAMPLE_DIR), "--corpus", str(DISTRACTORS)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two runs of the sample set: k = 6 and k = 1 (fewer passages: a real, measurable change)."""
    tmp = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        offline_eval_env(mp, tmp)
        for name, k in (("a", "6"), ("b", "1")):
            assert main([*EVAL, "--k", k, "--out", str(tmp / name), "--json"]) == 0
        yield {"tmp": tmp, "a": tmp / "a", "b": tmp / "b", "mp": mp}


def records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]


def summary(run: Path) -> dict[str, Any]:
    return json.loads((run / "summary.json").read_text())  # type: ignore[no-any-return]


def test_bootstrap_intervals_behave_like_intervals() -> None:
    half = [(1.0, 1.0)] * 50 + [(0.0, 1.0)] * 50
    lo, hi = interval(half)  # type: ignore[misc]
    assert 0.38 <= lo <= 0.42 and 0.58 <= hi <= 0.62  # the binomial's 0.5 +- 1.96 * 0.05
    assert interval(half) == [lo, hi], "seeded: the same records give the same interval"
    assert interval([(1.0, 1.0)] * 20) == [1.0, 1.0] and interval([(0.0, 0.0)] * 5) is None and interval([]) is None
    # clustered: 10 answers of 10 claims each, all or nothing, is far less certain than 100 independent claims
    clustered = [(10.0, 10.0)] * 5 + [(0.0, 10.0)] * 5
    c_lo, c_hi = interval(clustered)  # type: ignore[misc]
    assert c_hi - c_lo > 2 * (hi - lo)
    assert paired_delta(half, half) == (0.0, [0.0, 0.0])
    better = [(1.0, 1.0)] * 80 + [(0.0, 1.0)] * 20  # B fixes 30 questions A got wrong, breaks none
    delta, ci = paired_delta(half, better)
    assert delta == pytest.approx(0.3) and ci is not None and 0.2 < ci[0] < 0.3 < ci[1] < 0.4


def test_every_rate_has_an_interval_around_its_value(runs: dict[str, Any]) -> None:
    s, recs = summary(runs["a"]), records(runs["a"])
    stats = metric_stats(recs)
    for name in METRICS:
        num = sum(contributions(r)[name][0] for r in recs)
        den = sum(contributions(r)[name][1] for r in recs)
        assert (round(num / den, 6) if den else None) == stats[name].value, name  # what the interval resamples
        if s[name]["value"] is None:
            assert "ci95" not in s[name]
            continue
        lo, hi = s[name]["ci95"]
        assert lo <= s[name]["value"] <= hi, name
    lo, hi = s["answer_contains"]["ci95"]
    assert lo < s["answer_contains"]["value"] <= hi, "mixed outcomes: a real interval, not a point"
    report = (runs["a"] / "report.md").read_text()
    assert "| metric | value [95% CI] | n |" in report and f"| answer_contains | 0.900 [{lo:.3f}, " in report


def test_the_report_lists_every_question(runs: dict[str, Any]) -> None:
    recs = records(runs["a"])
    md = (runs["a"] / "report.md").read_text()
    table = md.split("## Every question (15)")[1]
    for r in recs:
        assert f"| {r['id']} | {r['question'][:40]}" in table
    assert "(refused) " in table and "contains gold yes" in table and "hit@5 yes, gold rank 1" in table
    html = (runs["a"] / "report.html").read_text()
    assert html.count("<tr data-tags=") == len(recs) and "id='nr-qfilter'" in html


def test_the_question_table_filters_in_a_browser(runs: dict[str, Any]) -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    recs = records(runs["a"])
    refused = sum(r["verdicts"]["refused"] for r in recs)
    failed = sum(bool(r["failures"]) for r in recs)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto((runs["a"] / "report.html").as_uri())
        shown = "() => [...document.querySelectorAll('#nr-questions tbody tr')].filter(r => !r.hidden).length"
        assert page.evaluate(shown) == len(recs) and page.inner_text("#nr-qcount") == f"{len(recs)} of 15 questions"
        page.select_option("#nr-qfilter", "refused")
        assert page.evaluate(shown) == refused > 0
        page.select_option("#nr-qfilter", "failed")
        assert page.evaluate(shown) == failed
        page.select_option("#nr-qfilter", "")
        page.fill("#nr-qsearch", recs[3]["id"])
        assert page.evaluate(shown) == 1 and page.inner_text("#nr-qcount") == "1 of 15 questions"
        browser.close()


def test_compare_gives_paired_deltas_and_the_flipped_questions(runs: dict[str, Any],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    data_dir = runs["tmp"] / "never-made"
    runs["mp"].setenv("NEWSRAG_DATA_DIR", str(data_dir))
    assert main(["eval", "compare", str(runs["a"]), str(runs["b"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert not data_dir.exists(), "comparing runs builds no engine"
    sa, sb = summary(runs["a"]), summary(runs["b"])
    assert result["questions"] == 15 and result["only_a"] == result["only_b"] == []
    for name, m in result["metrics"].items():
        assert (m["a"], m["b"]) == (sa[name]["value"], sb[name]["value"]), name
        if m["ci95"]:
            assert m["ci95"][0] <= m["delta"] <= m["ci95"][1]
    assert result["metrics"]["answer_contains"]["delta"] < 0, "one passage instead of six: fewer gold answers"
    by_id = {r["id"]: r for r in records(runs["a"])}, {r["id"]: r for r in records(runs["b"])}
    assert result["flipped"], "k = 1 changes some answers"
    for f in result["flipped"]:
        a, b = by_id[0][f["id"]], by_id[1][f["id"]]
        for name, (before, after) in f["changes"].items():
            if name == "answer_contains":
                assert (a["verdicts"][name], b["verdicts"][name]) == (before, after)
    assert main(["eval", "compare", str(runs["a"]), str(runs["b"])]) == 0
    text = capsys.readouterr().out
    assert "95% CI of B - A" in text and f"Flipped questions ({len(result['flipped'])}):" in text
    assert main(["eval", "compare", str(runs["a"]), str(runs["tmp"] / "nowhere")]) == 2
    assert "no eval run at" in capsys.readouterr().err


def test_fail_under_and_fail_over_set_the_exit_code(runs: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    s = summary(runs["a"])
    runs["mp"].setenv("NEWSRAG_DATA_DIR", str(runs["tmp"] / "data"))
    capsys.readouterr()
    ok = main([*EVAL, "--json", "--fail-under", "hit@5=0.5,answer_contains=0.1", "--fail-over",
               "false_refusal_rate=0.9"])
    assert ok == 0 and "FAIL" not in capsys.readouterr().err
    assert main([*EVAL, "--json", "--fail-under", "answer_contains=0.95", "--fail-over", "false_refusal_rate=0"]) == 1
    err = capsys.readouterr().err
    assert f"FAIL answer_contains = {s['answer_contains']['value']:.3f} (95% CI" in err and "below 0.95" in err
    assert ("FAIL false_refusal_rate" in err) == (s["false_refusal_rate"]["value"] > 0)
    with pytest.raises(SystemExit) as bad:
        main([*EVAL, "--fail-under", "hit@7=0.5"])
    assert bad.value.code == 2 and "METRIC one of hit@1" in capsys.readouterr().err
