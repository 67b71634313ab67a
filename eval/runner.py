"""Run a dataset through the engine and score every question: one record per question, then the summary.

A question the engine could not answer (an error) is kept: it scores as a miss in every metric that applies
to it and is listed in the report. Judge failures are counted beside each judged metric (eval/metrics.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.errors import NewsragError
from app.quality.citations import Evidence, answer_scores, judge_claims
from app.quality.judges import CountingJudge
from eval.dataset import Question
from eval.metrics import (
    DEPTH,
    HIT_KS,
    answer_contains,
    first_gold_rank,
    hit_at,
    mrr_at,
    question_day,
    recall_at,
    stale_answer,
    token_f1,
)

if TYPE_CHECKING:
    from app.engine import Engine
    from app.types import Answer

FALLBACK = "LLM unavailable"  # the notice app/answering/llm.py adds when it falls back to the extractive answer


@dataclass
class EvalConfig:
    answerer: str | None = None  # None: the engine's setting
    k: int | None = None  # None: NEWSRAG_TOP_K
    evidence: Evidence = "passage"
    dated: bool = True  # each question answered as of its `date` (RealTime QA's week); False: the newest article's


def score_question(engine: Engine, q: Question, judge: CountingJudge, cfg: EvalConfig) -> dict[str, Any]:
    record: dict[str, Any] = {"id": q.id, "question": q.question, "answerable": q.answerable, "answers": q.answers,
                              "gold_article_ids": q.gold_article_ids, "extra": q.extra,
                              "history": [t.model_dump() for t in q.history]}
    answer: Answer | None = None
    day = question_day(q)
    try:
        answer = engine.ask(q.question, q.history or None, cfg.answerer, cfg.k, as_of=day if cfg.dated else None)
        query = answer.rewritten_query or q.question
        k = cfg.k or engine.settings.top_k
        scoped = engine.scope(query, day if cfg.dated else None).filters  # as the answer was retrieved
        ranked = [p.article_id for p in engine.retriever.retrieve(query, max(DEPTH, k), scoped)][:DEPTH]
    except NewsragError as exc:
        record["error"] = str(exc)
        ranked = []
    record["answer"] = answer.model_dump() if answer else None
    record["stale"] = stale_answer(q.question, day, answer) if day else None
    seen = [p.article_id for p in answer.passages] if answer else []
    if q.gold_article_ids:
        gold = q.gold_article_ids
        record["retrieval"] = {"ranked": ranked, "first_gold_rank": first_gold_rank(ranked, gold),
                               **{f"hit@{k}": hit_at(ranked, gold, k) for k in HIT_KS},
                               "mrr@10": mrr_at(ranked, gold), "recall@k": recall_at(seen, gold, len(seen)),
                               "recall@10": recall_at(ranked, gold, DEPTH)}
    refused = bool(answer and answer.refused)
    shown = answer.text if answer and not refused else ""
    verdicts: dict[str, Any] = {"refused": refused}
    if q.answerable:
        verdicts["false_refusal"] = refused
        if q.answers:
            verdicts["answer_contains"] = answer_contains(shown, q.answers)
            verdicts["token_f1"] = round(token_f1(shown, q.answers), 6)
    else:
        verdicts["refusal_correct"] = refused
    record["verdicts"] = verdicts
    claims = judge_claims(answer, judge, cfg.evidence) if answer else []
    record["claims"] = [c.as_dict() for c in claims]
    record.update(answer_scores(claims))
    record["judge_failures"] = sum(c.supported is None for c in claims) + sum(
        v is None for c in claims if c.supported is not None for v in c.relevant.values())
    record["fallback"] = bool(answer and any(n.startswith(FALLBACK) for n in answer.notices))
    record["failures"] = failure_tags(record)
    return record


def failure_tags(r: dict[str, Any]) -> list[str]:
    """What went wrong with one question, most basic first (the report's failures table)."""
    tags = []
    if r.get("error"):
        tags.append("error")
    ret, v = r.get("retrieval"), r["verdicts"]
    if ret is not None and not ret["hit@10"]:
        tags.append("retrieval miss@10")
    elif ret is not None and not ret["recall@k"]:
        tags.append("gold not in the answerer's passages")
    if v.get("false_refusal"):
        tags.append("false refusal")
    if v.get("refusal_correct") is False:
        tags.append("answered an unanswerable question")
    if v.get("answer_contains") is False and not v.get("false_refusal"):
        tags.append("gold answer not in the answer")
    if any(c["supported"] is False for c in r["claims"]):
        tags.append("unsupported claim")
    if r.get("citation_precision") is not None and r["citation_precision"] < 1:
        tags.append("irrelevant citation")
    if r["judge_failures"]:
        tags.append("judge failure")
    if r.get("fallback"):
        tags.append("LLM fallback")
    return tags


def run_eval(engine: Engine, questions: list[Question], judge: CountingJudge, cfg: EvalConfig,
             progress: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    records = []
    for q in questions:
        records.append(score_question(engine, q, judge, cfg))
        if progress:
            progress()
    return records


def run_with_bar(engine: Engine, questions: list[Question], judge: CountingJudge, cfg: EvalConfig,
                 quiet: bool = False) -> list[dict[str, Any]]:
    from tqdm import tqdm

    with tqdm(total=len(questions), desc="questions", unit="q", file=sys.stderr,
              disable=True if quiet else None) as bar:
        return run_eval(engine, questions, judge, cfg, progress=lambda: bar.update(1))
