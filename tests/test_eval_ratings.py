"""Human ratings: the SQLite store, `newsrag eval annotate` / `agreement` / `feedback-dataset`, and the Gradio
"Evaluate" tab's handlers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from app.errors import NewsragError
from app.quality.judges import make_judge
from app.quality.ratings import RatingsStore
from eval.agreement import agreement, render
from eval.annotate import annotate
from eval.dataset import Question
from eval.runner import EvalConfig, score_question
from tests.gradio_api import request_from

QUESTIONS = [Question("k1", "What did Kerry say about Assad?", ["cannot be defeated"], ["russian-airstrikes-in-syria"]),
             Question("c1", "How many civilians were reportedly killed in the raids?", ["33"]),
             Question("m1", "What did Angela Merkel say about the strikes?", answerable=False)]


@pytest.fixture
def results(sample_engine: Any, tmp_path: Path) -> Path:
    judge = make_judge("offline", sample_engine.settings, sample_engine.embedder)
    path = tmp_path / "results.jsonl"
    rows = [score_question(sample_engine, q, judge, EvalConfig()) for q in QUESTIONS]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path



def test_judge_verdicts_merged_by_several_processes_at_once_are_all_kept(results: Path, tmp_path: Path) -> None:
    """add_answer reads the item's judges and writes the merge back: without the write lock taken up front, two
    processes adding different judges at once lose one of them."""
    import multiprocessing

    store = RatingsStore(tmp_path / "ratings.sqlite")
    row = json.loads(results.read_text().splitlines()[0])
    judges = [f"judge{i}" for i in range(6)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        pool.starmap(_add_as_judge, [(store.path, row, j) for j in judges])
    [item] = store.items()
    assert sorted(item["judges"]) == judges


def _add_as_judge(path: Path, row: dict[str, Any], judge: str) -> None:
    from app.types import Answer

    store = RatingsStore(path)
    for _ in range(20):
        store.add_answer(Answer.model_validate(row["answer"]), row["claims"], origin="t",
                         judges={judge: [c["supported"] for c in row["claims"]]})

def test_store_import_rate_and_agree(results: Path, tmp_path: Path) -> None:
    store = RatingsStore(tmp_path / "ratings.sqlite")
    assert store.import_results(results, "offline") == 2  # the refusal has nothing to rate
    assert store.import_results(results, "offline") == 2 and len(store.items()) == 2  # idempotent
    first = store.next_item("alice")
    assert first is not None and first["question_id"] == "k1" and first["claims"][0]["citations"][0]["quote"]
    assert first["judges"]["offline"] == [True] * len(first["claims"])
    with pytest.raises(NewsragError, match="unknown label"):
        store.rate(first["id"], "alice", ["maybe"] * len(first["claims"]), "yes")
    with pytest.raises(NewsragError, match="rater"):
        store.rate(first["id"], " ", ["supported"] * len(first["claims"]), "yes")
    for item in store.items():
        n = len(item["claims"])
        store.rate(item["id"], "alice", ["supported"] * n, "yes")
        store.rate(item["id"], "bob", ["not_supported"] + ["supported"] * (n - 1), "no" if item["question_id"] == "c1"
                   else "yes", "too long")
    assert store.next_item("alice") is None
    report = agreement(store)
    assert report["raters"] == {"alice": {"sentences": 2, "answers": 2}, "bob": {"sentences": 2, "answers": 2}}
    pair = report["sentences"]["alice vs bob"]
    assert pair["n"] == 2 and pair["observed_agreement"] == 0.0 and pair["kappa"] == 0.0  # p_e = 0
    assert report["rater_vs_judge"]["alice vs offline"]["kappa"] is None  # both always "supported"
    assert report["rater_vs_judge"]["bob vs offline"]["n"] == 2
    assert report["answers"]["alice vs bob"]["observed_agreement"] == 0.5
    assert report["rater_vs_answer_contains"]["alice"]["n"] == 2
    assert "kappa n/a" in render(report)


def test_terminal_annotate(results: Path, tmp_path: Path) -> None:
    store = RatingsStore(tmp_path / "r.sqlite")
    store.import_results(results, "offline")
    keys = iter(["x", "s", "y", "great", "q"])  # an unknown key is asked again; q stops at the second item
    shown: list[str] = []
    assert annotate(store, "carol", read=lambda _: next(keys), write=shown.append) == 1
    assert any("Kerry" in line for line in shown) and any("[1]" in line for line in shown)
    assert store.answer_ratings()[0]["comment"] == "great"
    assert [r["label"] for r in store.sentence_ratings()] == ["supported"]


def test_cli_annotate_agreement_and_feedback(results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    monkeypatch.chdir(tmp_path)
    assert main(["eval", "annotate", "--import", str(results)]) == 0
    assert "imported 2 answers" in capsys.readouterr().err
    keys = iter(["s", "u", "", "s", "n", ""])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(keys))
    assert main(["eval", "annotate", "--rater", "dan"]) == 0
    assert "rated 2 answers" in capsys.readouterr().out
    assert main(["eval", "agreement", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["raters"]["dan"] == {"sentences": 2, "answers": 2} and report["items"] == 2
    assert main(["eval", "feedback-dataset"]) == 2
    assert "no feedback yet" in capsys.readouterr().err
    from app.quality.feedback import FeedbackStore, feedback_path

    fb = FeedbackStore(feedback_path(tmp_path / "data"))
    fb.add("Who is the defence secretary?", "Ash Carter [1]", "up",
           answer_json={"citations": [{"article_id": "russian-airstrikes-in-syria"}], "refused": False})
    fb.add("What about Lavrov?", "I can't answer", "down", comment="wrong")
    out = tmp_path / "fb.jsonl"
    assert main(["eval", "feedback-dataset", "-o", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["gold_article_ids"] == ["russian-airstrikes-in-syria"] and lines[0]["feedback"] == "up"
    assert lines[1]["gold_article_ids"] == [] and lines[1]["comment"] == "wrong"
    from eval.dataset import load_questions

    assert [q.id for q in load_questions(out)] == ["feedback-1", "feedback-2"]  # a dataset the eval reads


def test_evaluate_tab(sample_engine: Any, tmp_path: Path) -> None:
    gr = pytest.importorskip("gradio")
    from app.web.ui.evaluate import MAX_SENTENCES, build_eval_tab

    store = RatingsStore(tmp_path / "ui.sqlite")
    with gr.Blocks(), gr.Tab("Evaluate"):
        act = build_eval_tab(sample_engine, store)
    assert act.load_next("")[-1] == "Give your name first."
    assert act.load_next("erin")[-1].startswith("Nothing left to rate")
    view = act.ask("What did Kerry say about Assad?", "erin", request_from())
    iid, header, html = view[0], view[1], view[2]
    assert iid and "Kerry" in header and "Kerry" in html
    n = len(store.item(iid)["claims"])
    rows, sentences = view[3:3 + MAX_SENTENCES], view[3 + MAX_SENTENCES:3 + 2 * MAX_SENTENCES]
    assert [r["visible"] for r in rows] == [i < n for i in range(MAX_SENTENCES)]
    assert "<blockquote" in sentences[0]["value"]  # the passage the sentence cites, beside its rating
    labels = ["supported"] * n + [None] * (MAX_SENTENCES - n)
    assert "Please rate whether" in act.save(request_from(), iid, "erin", *labels, None, "")[-1]
    saved = act.save(request_from(), iid, "erin", *labels, "yes", "fine")
    assert saved[-1].startswith("Saved.") and saved[0] is None
    assert store.answer_ratings()[0]["rater"] == "erin"
    assert store.item(iid)["judges"]["offline"] == [True] * n
    assert act.ask("What did Angela Merkel say?", "erin", request_from())[-1].startswith("The answer was a refusal")
