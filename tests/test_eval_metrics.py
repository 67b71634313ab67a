"""The eval's metric functions against hand-computed cases, edge cases included."""

from __future__ import annotations

import json
import math

import pytest

from app.answering.support import Verdict
from app.quality.citations import answer_scores, claims_of, judge_claims
from app.quality.judges import CountingJudge, JudgeError, parse_verdict
from app.types import Answer, Citation, Passage
from eval.agreement import cohen_kappa
from eval.metrics import (
    answer_contains,
    first_gold_rank,
    hit_at,
    judged_mean,
    mean,
    mrr_at,
    normalise,
    percentile,
    recall_at,
    token_f1,
)
from eval.summary import summarise

# -- answers -------------------------------------------------------------------------------------------------


def test_normalise_and_contains() -> None:
    assert normalise("The U.S. [1] said “Nicolás” — an ally!") == "u s said nicolas ally"
    assert answer_contains("Maduro was captured in Venezuela. [1]", ["venezuela"])
    assert not answer_contains("Venezuelan forces were there.", ["Venezuela"])  # whole words only
    assert answer_contains("It hit eight targets", ["Eight", "8"])  # any of the golds
    assert not answer_contains("", ["x"])
    assert not answer_contains("anything", [])


def test_token_f1() -> None:
    # pred {cat, sat}, gold {cat, sat, on, mat}: p = 1, r = 0.5 -> 2/3
    assert token_f1("The cat sat.", ["cat sat on the mat"]) == pytest.approx(2 / 3)
    assert token_f1("The cat sat.", ["dog", "cat sat on the mat"]) == pytest.approx(2 / 3)  # best gold
    assert token_f1("", ["cat"]) == 0.0
    assert token_f1("cat", []) == 0.0
    assert token_f1("x b b", ["b b c"]) == pytest.approx(2 / 3)  # counts, not sets: common = 2


# -- retrieval -----------------------------------------------------------------------------------------------


def test_ranks() -> None:
    ranked = ["a", "b", "a", "c", "d"]
    assert first_gold_rank(ranked, ["c"]) == 4
    assert first_gold_rank(ranked, ["z"]) is None
    assert not hit_at(ranked, ["c"], 3) and hit_at(ranked, ["c"], 5)
    assert mrr_at(ranked, ["c", "b"]) == 0.5
    assert mrr_at(ranked, ["z"]) == 0.0
    assert mrr_at(ranked, ["d"], k=4) == 0.0  # beyond the depth
    assert recall_at(ranked, ["a", "c", "z"], 3) == pytest.approx(1 / 3)
    assert recall_at(ranked, ["a", "c", "z"], 5) == pytest.approx(2 / 3)
    assert recall_at([], ["a"], 10) == 0.0


# -- aggregation ---------------------------------------------------------------------------------------------


def test_stats_carry_n_and_never_nan() -> None:
    assert mean([]).value is None and mean([]).n == 0
    assert mean([True, False, True, True]).as_dict() == {"value": 0.75, "n": 4}
    s = judged_mean([1.0, 0.0, None])
    assert (s.value, s.n, s.judge_failures) == (0.5, 2, 1)
    assert s.lower == pytest.approx(1 / 3, abs=1e-6) and s.upper == pytest.approx(2 / 3, abs=1e-6)
    allfail = judged_mean([None, None])
    assert allfail.value is None and allfail.n == 0 and allfail.judge_failures == 2
    assert allfail.lower == 0.0 and allfail.upper == 1.0
    assert "judge failures" in allfail.show()


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(10, 0, -1)]
    assert percentile(values, 50) == 5.0
    assert percentile(values, 95) == 10.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_cohen_kappa() -> None:
    # po = 0.75; pe = 0.5*0.25 + 0.5*0.75 = 0.5 -> kappa 0.5
    assert cohen_kappa(["y", "y", "n", "n"], ["y", "n", "n", "n"]) == pytest.approx(0.5)
    assert cohen_kappa(["y", "n"], ["y", "n"]) == 1.0
    assert cohen_kappa(["y", "n"], ["n", "y"]) == -1.0
    assert cohen_kappa(["y", "y"], ["y", "y"]) is None  # p_e = 1: undefined, not 1 and not NaN
    assert cohen_kappa([], []) is None


# -- claims and ALCE citation scores -------------------------------------------------------------------------

P1 = Passage(chunk_id="a:0", article_id="a", title="A", start=0, end=30, text="Alpha beta gamma. Zeta eta.")
P2 = Passage(chunk_id="b:0", article_id="b", title="B", start=100, end=114, text="Delta epsilon.")


def cite(n: int, p: Passage, rel: tuple[int, int] | None = None) -> Citation:
    s, e = rel or (0, len(p.text))
    return Citation(n=n, article_id=p.article_id, title=p.title, start=p.start + s, end=p.start + e,
                    quote=p.text[s:e])


def answer(text: str, citations: list[Citation], refused: bool = False) -> Answer:
    return Answer(question="q?", text=text, citations=citations, passages=[P1, P2], answerer="test", refused=refused)


class WordsJudge:
    """Supported when every word of the claim occurs in the evidence; raises on a claim containing 'boom'."""

    def judge(self, sentence: str, passage: str) -> Verdict:
        if "boom" in sentence.lower():
            raise RuntimeError("judge down")
        words = {w.strip(".,").lower() for w in sentence.split()}
        have = {w.strip(".,").lower() for w in passage.split()}
        ok = words <= have
        return Verdict(ok, float(ok), "all words found" if ok else "missing words")


def scored(a: Answer, evidence: str = "passage") -> tuple[list, dict]:
    claims = judge_claims(a, CountingJudge(WordsJudge(), "words"), evidence)  # type: ignore[arg-type]
    return claims, answer_scores(claims)


def test_no_citations() -> None:
    claims, scores = scored(answer("Alpha beta.", []))
    assert claims[0].supported is False and claims[0].reason == "no citation"
    assert scores == {"citation_recall": 0.0}  # precision not applicable: no citations


def test_duplicate_citations_count_once() -> None:
    claims, scores = scored(answer("Alpha beta [1][1].", [cite(1, P1)]))
    assert claims[0].citations == [1] and claims[0].duplicates == 1
    assert scores == {"citation_recall": 1.0, "citation_precision": 1.0}


def test_empty_answer_and_refusal_have_no_claims() -> None:
    assert scored(answer("", []))[1] == {}
    assert claims_of(answer("I can't answer that [1].", [cite(1, P1)], refused=True)) == []


def test_needed_and_unneeded_citations() -> None:
    # both needed: alpha only in [1], delta only in [2]
    claims, scores = scored(answer("Alpha delta [1][2].", [cite(1, P1), cite(2, P2)]))
    assert claims[0].supported and claims[0].relevant == {1: True, 2: True}
    assert scores["citation_precision"] == 1.0
    # [2] does not support alone and [1] still does without it: irrelevant
    claims, scores = scored(answer("Alpha beta [1][2].", [cite(1, P1), cite(2, P2)]))
    assert claims[0].relevant == {1: True, 2: False} and scores["citation_precision"] == 0.5
    # an unsupported claim: every citation irrelevant; two claims average
    _, scores = scored(answer("Alpha beta [1]. Omega [2].", [cite(1, P1), cite(2, P2)]))
    assert scores == {"citation_recall": 0.5, "citation_precision": 0.5}


def test_unknown_citation_number() -> None:
    claims, scores = scored(answer("Alpha [3].", [cite(1, P1)]))
    assert claims[0].supported is False and "does not have" in claims[0].reason
    assert scores == {"citation_recall": 0.0, "citation_precision": 0.0}


def test_evidence_passage_or_quote() -> None:
    a = answer("Alpha zeta [1].", [cite(1, P1, (0, 17))])  # the quote is "Alpha beta gamma."
    assert scored(a, "passage")[0][0].supported is True
    assert scored(a, "quote")[0][0].supported is False


def test_multi_sentence_quote_shares_its_marker() -> None:
    a = answer("Alpha beta gamma. Zeta eta [1].", [cite(1, P1)])
    claims = claims_of(a)
    assert [c.citations for c in claims] == [[1], [1]] and claims[0].inherited


def test_judge_failure_is_counted_not_scored() -> None:
    claims, scores = scored(answer("Alpha beta [1]. Boom delta [2].", [cite(1, P1), cite(2, P2)]))
    assert claims[0].supported is True and claims[1].supported is None
    assert claims[1].reason.startswith("judge failure: RuntimeError")
    assert scores == {"citation_recall": None, "citation_precision": None}
    record = {"id": "x", "verdicts": {"refused": False}, "claims": [c.as_dict() for c in claims],
              "judge_failures": 1, "answer": {"refused": False, "timings_ms": {}}, **scores}
    summary = summarise([record], {}, {"name": "words", "calls": 2, "failures": 1})
    assert summary["faithfulness"] == {"value": 1.0, "n": 1, "judge_failures": 1, "lower": 0.5, "upper": 1.0,
                                       "ci95": [1.0, 1.0]}  # one judged claim: the resamples agree
    assert summary["citation_recall"]["value"] is None and summary["citation_recall"]["judge_failures"] == 1
    text = json.dumps(summary)
    assert "NaN" not in text and not any(isinstance(v, float) and math.isnan(v) for v in summary.values())


def test_parse_verdict() -> None:
    assert parse_verdict("SUPPORTED: all there").supported is True
    assert parse_verdict("\n**NOT_SUPPORTED** - wrong date").supported is False
    assert parse_verdict("Unsupported: missing").supported is False
    for garbage in ("", None, "I think so", "The claim is SUPPORTED"):
        with pytest.raises(JudgeError):
            parse_verdict(garbage)
