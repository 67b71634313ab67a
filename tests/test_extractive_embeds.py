"""Which sentences the extractive answerer embeds (app/answering/extractive/scoring.py: `dropped`): a sentence
the answerer discards whatever it scores (no number for "how many", not about the question's names) is not
embedded unless the agreement vote needs every score, and the answer is the one embedding everything gives."""

from __future__ import annotations

from typing import Any

import pytest

import app.answering.extractive.scoring as scoring
from app.answering.embed_cache import CachedEmbedder
from app.answering.extractive import ExtractiveAnswerer
from app.engine import Engine
from app.types import Passage
from tests.conftest import HASH_MIN_SUPPORT

SEATS = ("Tisza, the opposition party, won 138 of the 199 seats in parliament on Sunday. "
         "Tisza leaders thanked the voters who queued for hours in the rain at polling stations. "
         "Fidesz conceded defeat after sixteen years in power in Budapest. "
         "Turnout reached 79 percent, the highest since the end of communism, officials said.")
VOTED = "Tisza leaders thanked the voters who queued for hours in the rain at polling stations."
NO_NUMBER = "Fidesz conceded defeat after sixteen years in power in Budapest."


def _passages() -> list[Passage]:
    return [Passage(chunk_id="hu:0", article_id="hu", title="Tisza wins Hungary's election", start=0,
                    end=len(SEATS), text=SEATS, rank=1)]


def _answer(engine: Engine, question: str) -> tuple[Any, set[str]]:
    embedder = CachedEmbedder(getattr(engine.embedder, "inner", engine.embedder))
    answer = ExtractiveAnswerer(embedder, min_support=HASH_MIN_SUPPORT).answer(question, _passages())
    return answer, set(embedder._vectors)


def test_sentences_a_number_question_discards_are_not_embedded(engine: Engine,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, every candidate sentence was embedded (one model run each, ~85% of a first answer)."""
    question = "How many seats did Tisza win in parliament?"
    answer, embedded = _answer(engine, question)
    assert question in embedded
    assert any("138" in text for text in embedded)
    assert VOTED not in embedded and NO_NUMBER not in embedded  # no number: dropped whatever it scores
    real = scoring.score
    monkeypatch.setattr(scoring, "score", lambda *a, dropped=None, **kw: real(*a, **kw))  # embed everything
    everything, all_embedded = _answer(engine, question)
    assert VOTED in all_embedded
    assert answer.model_dump() == everything.model_dump()


def test_a_voted_question_still_embeds_every_sentence(engine: Engine) -> None:
    """Who/which-party questions vote: every candidate's score weighs in the softmax, so all are embedded."""
    _, embedded = _answer(engine, "Which party won the seats in parliament?")
    assert VOTED in embedded and NO_NUMBER in embedded
