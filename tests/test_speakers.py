"""The speaker lane (app/answering/speakers.py): "What did X say ...?" in its usual phrasings, answered from X's
own quotes only. The articles are short and hand-written; they reproduce patterns of real news that went wrong."""

from __future__ import annotations

import unicodedata

import pytest

from app.answering.speakers import speaker_matches, speaker_question
from app.engine import Engine

GUARD = """Governor objects as troops head to Chicago

CHICAGO — The president is taking command of 300 Illinois National Guard troops over Gov. JB Pritzker’s \
objections, the governor announced Saturday.

“This morning they gave me an ultimatum: call up the National Guard, or we will,” Pritzker said in a statement. \
“Sending soldiers into our own state against our will is outrageous.”

Pritzker’s office said the order would be challenged in court.

City officials said schools would stay open on Monday.
"""
HUNGARY = """Orbán concedes defeat in Hungary's election

Hungarian Prime Minister Viktor Orbán conceded defeat on Sunday after 16 years in power.

Tisza, the opposition party, is projected to win 138 of the 199 seats in parliament.

"The results are not final yet, but the situation is clear," Orbán said at his party's offices after the \
election. "The result is painful for us."

In Washington, House Minority Leader Hakeem Jeffries said Orbán's loss was a warning to Republicans.

"An authoritarian has lost the election. The extremists in Congress are next in November," Jeffries wrote on X. \
"Winter is coming."
"""


@pytest.mark.parametrize(("question", "speaker", "about"), [
    ("What did Mr Kerry say about Assad?", "Kerry", "about Assad"),
    ("What did Orbán say after the election?", "Orbán", "after the election"),
    ("What did Pritzker say about the National Guard?", "Pritzker", "about the National Guard"),
    ("what has Lavrov said on Syria", "Lavrov", "about Syria"),
    ("What did President Trump tell reporters about Iran?", "Trump", "about Iran"),
    ("How did Schumer react to the ruling?", "Schumer", "to the ruling"),
    ("What did Zelensky say in Brussels?", "Zelensky", "in Brussels"),
    ("What did Merkel say when she met Putin?", "Merkel", "when she met Putin"),
    ("And what did Steinmeier say?", "Steinmeier", ""),
    ("What is Macron saying about tariffs?", "Macron", "about tariffs"),
])
def test_any_what_did_x_say_phrasing_is_a_speaker_question(question: str, speaker: str, about: str) -> None:
    asked = speaker_question(question)
    assert asked is not None and asked.speaker == speaker and asked.about == about


@pytest.mark.parametrize("question", ["what does the report say?", "What did the Russian foreign minister say?",
                                      "How many seats did Fidesz win?", "What did they say?"])
def test_questions_that_name_no_speaker_are_not_speaker_questions(question: str) -> None:
    assert speaker_question(question) is None


def test_a_speaker_is_matched_by_last_name_across_accents_never_by_first_name() -> None:
    assert speaker_matches("Kerry", "John Kerry") and not speaker_matches("Kerry", "Kerry Washington")
    assert speaker_matches("Orban", "Viktor Orbán")
    assert speaker_matches("Orbán", unicodedata.normalize("NFD", "Viktor Orbán"))
    assert speaker_matches("Viktor Orban", "Viktor Orbán") and not speaker_matches("Anna Orban", "Viktor Orbán")
    assert speaker_matches("Jeffries", "Chuck Schumer and Hakeem Jeffries")
    assert not speaker_matches("Pritzker", "Pritzker’s office")


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    from app.engine import build_engine
    from tests.conftest import make_settings

    root = tmp_path_factory.mktemp("speakers")
    folder = root / "in"
    folder.mkdir()
    (folder / "guard.txt").write_text(GUARD, encoding="utf-8")
    (folder / "hungary.txt").write_text(HUNGARY, encoding="utf-8")
    engine = build_engine(make_settings(root / "data", embedder="minilm"))
    assert len(engine.ingest([folder]).added) == 2
    return engine


def quoted(engine: Engine, question: str) -> list[str]:
    answer = engine.ask(question)
    assert not answer.refused, answer.refusal_reason
    for c in answer.citations:
        assert engine.article(c.article_id).text[c.start:c.end] == c.quote
    return [c.quote for c in answer.citations]


@pytest.mark.slow
def test_pritzker_on_the_national_guard_is_answered_from_his_quotes(news: Engine) -> None:
    # The failure: no quote passage was retrieved ("Pritzker’s" was stored as the speaker) and a narrator
    # sentence was the answer.
    answer = news.ask("What did Pritzker say about the National Guard?")
    assert answer.passages[0].kind == "quote" and answer.passages[0].speaker == "JB Pritzker"
    assert "ultimatum" in answer.citations[0].quote


@pytest.mark.slow
@pytest.mark.parametrize("question", ["What did Orbán say after the election?", "What did Orban say after the vote?",
                                      "What did Viktor Orbán say at his party's offices?"])
def test_orban_after_the_election_is_answered_with_his_words_only(news: Engine, question: str) -> None:
    # The failure: "say after" was not a speaker question, and a sentence of Hakeem Jeffries', cut mid-quote,
    # was shown in the answer about Orbán.
    quotes = quoted(news, question)
    assert any("not final yet" in q for q in quotes)
    assert not any("Jeffries" in q or "Winter" in q or "authoritarian" in q for q in quotes)
    answer = news.ask(question)
    speakers = {p.speaker for p in answer.passages if p.kind == "quote"}
    assert speakers == {"Viktor Orbán"}


@pytest.mark.slow
def test_without_quotes_of_the_speaker_no_other_persons_words_are_shown(real_engine: Engine) -> None:
    from app.answering.extractive import ExtractiveAnswerer
    from app.types import Passage

    text = ("Hungarian Prime Minister Viktor Orbán conceded defeat after the election on Sunday. "
            "“The extremists are next,” Jeffries wrote after the election. "
            "House Minority Leader Hakeem Jeffries said Orbán had lost the election because voters were tired.")
    passage = Passage(chunk_id="c", article_id="a", title="Election", start=0, end=len(text), text=text)
    answerer = ExtractiveAnswerer(real_engine.embedder, min_support=0.0)  # show the best there is, however weak
    answer = answerer.answer("What did Orbán say after the election?", [passage])
    assert not answer.refused and "conceded defeat" in answer.citations[0].quote
    assert not any("Jeffries" in c.quote for c in answer.citations)


@pytest.mark.slow
def test_a_quotes_speaker_is_shown_with_it_in_the_terminal_and_the_web_ui(news: Engine) -> None:
    from app.render import render
    from app.web.ui.views import source_card_html

    answer = news.ask("What did Pritzker say about the National Guard?")
    first = answer.citations[0]
    assert first.speaker == "JB Pritzker"
    assert "JB Pritzker: “" in render(answer)
    assert "quoting JB Pritzker" in source_card_html(first, 0, news.article(first.article_id).text)
    plain = news.ask("How many Guard troops is the president taking command of?")
    assert plain.citations and all(c.speaker is None for c in plain.citations)  # not a quote passage
