"""Answering over the sample with the real MiniLM model: cited quotes, exact spans, refusals."""

from __future__ import annotations

import pytest

from app.answering.speakers import speaker_question
from app.engine import Engine
from app.errors import NewsragError, NotReady

pytestmark = pytest.mark.slow


def check_citations(engine: Engine, answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.citations
    for c in answer.citations:
        assert engine.article(c.article_id).text[c.start:c.end] == c.quote
        assert f"[{c.n}]" in answer.text


def test_kerry_on_assad(real_engine: Engine) -> None:
    answer = real_engine.ask("What did Kerry say about Assad?")
    assert not answer.refused
    assert "cannot be defeated as long as Bashar al-Assad remains president of Syria" in answer.citations[0].quote
    assert "Kerry" in answer.citations[0].quote
    check_citations(real_engine, answer)
    assert answer.passages[0].kind == "quote" and answer.passages[0].speaker == "John Kerry"
    assert set(answer.timings_ms) >= {"retrieve", "answer", "total"}
    assert answer.settings_hash


@pytest.mark.parametrize(("question", "needle"), [
    ("What did Lavrov say?", "standing channels of communication"),
    ("What did Steinmeier say?", "heated situation"),
    ("What did Josh Earnest say about Russia?", "ramp up"),
    ("How many civilians were killed in the raids?", "at least 33 civilians"),
    ("When did the Syrian civil war begin?", "2011"),
])
def test_factual_questions(real_engine: Engine, question: str, needle: str) -> None:
    answer = real_engine.ask(question)
    assert not answer.refused, answer.refusal_reason
    assert any(needle in c.quote for c in answer.citations), answer.text
    check_citations(real_engine, answer)


@pytest.mark.parametrize("question", [
    "Who won the 2018 football World Cup?",
    "What is the recipe for banana bread?",
    "What did Angela Merkel say about Greece?",
])
def test_off_topic_is_refused(real_engine: Engine, question: str) -> None:
    answer = real_engine.ask(question)
    assert answer.refused and answer.refusal_reason and not answer.citations
    assert answer.text.startswith("I can't answer that")


def test_empty_question_and_empty_index(real_engine: Engine, engine: Engine) -> None:
    with pytest.raises(NewsragError, match="empty"):
        real_engine.ask("   ")
    with pytest.raises(NotReady, match="Nothing is indexed yet"):
        engine.ask("What did Kerry say?")


def test_speaker_question_parsing() -> None:
    q = speaker_question("What did Mr Kerry say about Assad?")
    assert q and q.speaker == "Kerry" and q.topic == "Assad"
    assert speaker_question("what does the report say?") is None


def test_a_prolific_speaker_only_sends_the_most_on_topic_quotes_to_the_model() -> None:
    from app.answering.speakers import most_on_topic
    from index.types import Quote

    filler = [Quote(article_id=f"a{i}", speaker="Trump", verb="said", start=0, end=10,
                    text=f"Trump said the weather on day {i} was fine.") for i in range(50)]
    on_topic = Quote(article_id="z", speaker="Trump", verb="said", start=0, end=10,
                     text="Trump said tariffs on Canadian steel would rise.")
    kept = most_on_topic([*filler[:30], on_topic, *filler[30:]], "tariffs on steel", 8)
    assert len(kept) == 8
    assert on_topic in kept
    assert kept == sorted(kept, key=lambda q: [*filler[:30], on_topic, *filler[30:]].index(q))  # corpus order kept


def test_names_in_a_question_are_matched_across_accents_unicode_forms_and_possessives() -> None:
    import unicodedata

    from app.answering.names import question_names as names_in
    from app.answering.names import unmentioned
    from app.types import Passage

    q = "Where was ousted President Nicolás Maduro captured after Texas's ruling on Wednesday in the New York-area?"
    assert names_in(q) == ["President", "Nicolás", "Maduro", "Texas", "New", "York"]
    text = unicodedata.normalize("NFD", "Venezuelan President Nicolás Maduro was flown to New York from Texas.")
    passage = Passage(chunk_id="c", article_id="a", title="t", start=0, end=len(text), text=text)
    assert unmentioned(names_in(q), [passage]) == []
    assert unmentioned(["Caracas", "Venezuela", "FAA"], [passage]) == ["Caracas", "FAA"]  # demonym: Venezuelan


def test_a_question_in_the_article_is_never_the_answer(sample_engine) -> None:  # type: ignore[no-untyped-def]
    from app.answering.extractive import ExtractiveAnswerer
    from app.types import Passage

    text = ("Where will the 2026 Winter Olympics be held this February? The 2026 Winter Olympics will be held "
            "in Milan and Cortina d'Ampezzo, Italy, from February 6 to 22.")
    passage = Passage(chunk_id="c", article_id="a", title="Olympics", start=0, end=len(text), text=text)
    answer = ExtractiveAnswerer(sample_engine.embedder).answer("Where will the 2026 Winter Olympics be held?",
                                                                [passage])
    assert "?" not in answer.text and "Milan" in answer.text


def test_an_answer_about_another_year_or_edition_is_a_refusal(sample_engine) -> None:  # type: ignore[no-untyped-def]
    from app.answering.extractive import ExtractiveAnswerer, figures_in
    from app.types import Passage

    assert figures_in("Did the 97th Oscars, GLP-1 drugs or 14,000 children in 2026 cost $2.5 billion?") == \
        ["97", "14000", "2026", "2.5"]
    text = ("The nominations for the 94th Academy Awards were announced Tuesday and included films in a wide range "
            "of genres. The Power of the Dog led with twelve nominations.")
    passage = Passage(chunk_id="c", article_id="a", title="Oscars", start=0, end=len(text), text=text)
    answerer = ExtractiveAnswerer(sample_engine.embedder)
    stale = answerer.answer("The nominations for the 97th Academy Awards were announced. Which film led?", [passage])
    assert stale.refused and "97" in (stale.refusal_reason or "")
    current = answerer.answer("The nominations for the 94th Academy Awards were announced. Which film led?",
                              [passage])
    assert not current.refused
