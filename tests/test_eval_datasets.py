"""The committed eval datasets: readable by the eval, questions only, and the unanswerable set reproducible."""

from __future__ import annotations

import json

import pytest

from eval.dataset import load_questions
from eval.make_unanswerable import candidates, generate
from tests.conftest import ROOT, SHARED

DATASETS = ROOT / "eval" / "datasets"
CORPUS = SHARED / "realtimeqa" / "articles.jsonl"


def test_sample_dataset() -> None:
    qs = load_questions(DATASETS / "sample.jsonl")
    assert len(qs) == 15 and sum(q.answerable for q in qs) == 10
    assert all(q.answers and q.gold_article_ids for q in qs if q.answerable)
    assert any(q.history for q in qs)


def test_unanswerable_dataset() -> None:
    qs = load_questions(DATASETS / "unanswerable.jsonl")
    assert len(qs) >= 50 and not any(q.answerable or q.answers or q.gold_article_ids for q in qs)
    assert len({q.question for q in qs}) == len(qs)
    kinds = {q.extra["kind"] for q in qs}
    assert kinds == {"says-about", "visit", "org-place", "future"}
    assert all(q.extra["entity_articles"] >= 3 for q in qs if q.extra["kind"] != "future")
    assert all(len(q.question) < 120 for q in qs)  # questions, not article text


def test_generator_checks_absence() -> None:
    texts = ["Jerome Powell spoke about rates.", "Jerome Powell and beekeeping.", "Jerome Powell again, in Tuvalu.",
             "NASA launched. NASA landed. NASA in Bhutan.", "NASA again", "NASA once more"]
    questions = {c["question"] for c in candidates(texts)}
    assert "What did Jerome Powell say about the price of saffron?" in questions
    assert "What did Jerome Powell say about beekeeping?" not in questions  # they co-occur in an article
    assert "When did Jerome Powell last visit Tuvalu?" not in questions
    assert "How many people does NASA employ in Bhutan?" not in questions
    assert "How many people does NASA employ in Nauru?" in questions
    assert not any("Trump" in q for q in questions)  # absent from this corpus: never asked about
    rows = generate(texts, n=6)
    assert len(rows) == 6 and rows == generate(texts, n=6)  # deterministic
    assert max(sum(r["entity"] == e for r in rows) for e in {r["entity"] for r in rows}) <= 2


@pytest.mark.slow
def test_unanswerable_dataset_regenerates_exactly() -> None:
    if not CORPUS.exists():
        pytest.skip(f"the shared RealTime QA corpus is absent ({CORPUS})")
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    committed = [json.loads(line) for line in (DATASETS / "unanswerable.jsonl").read_text().splitlines()]
    assert generate(texts, n=len(committed)) == committed
