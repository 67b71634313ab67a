"""Follow-up questions are rewritten into standalone ones (deterministic rules, no LLM)."""

from __future__ import annotations

import pytest

from app.answering.condense import RuleCondenser
from app.engine import Engine
from app.types import Turn, payload


def run(questions: list[str]) -> list[str | None]:
    """Feed a conversation through the rules the way the engine does; return each rewrite."""
    condenser, history, out = RuleCondenser(), [], []
    for q in questions:
        rewritten = condenser.rewrite(q, history) if history else None
        out.append(rewritten)
        history += [Turn(role="user", content=q, rewritten_query=rewritten), Turn(role="assistant", content="...")]
    return out


@pytest.mark.parametrize(("conversation", "expected"), [
    (["What did Kerry say about Assad?", "And Lavrov?"], "What did Lavrov say about Assad?"),
    (["What did Kerry say about Assad?", "What about Putin?"], "What did Putin say about Assad?"),
    (["What did Kerry say about Assad?", "And Lavrov?", "And Steinmeier?"], "What did Steinmeier say about Assad?"),
    (["What did Ash Carter say?", "What did he direct officials to do?"],
     "What did Ash Carter direct officials to do?"),
    (["Who is Josh Earnest?", "What did he say about Russia?"], "What did Josh Earnest say about Russia?"),
    (["What did Putin say about Assad?", "Where did his forces strike?"], "Where did Putin's forces strike?"),
    (["What did Kerry say about Assad?", "And Lavrov?", "When did he phone Kerry?"], "When did Lavrov phone Kerry?"),
    (["What did Kerry say about Assad?", "When did that war start?"], "When did that war start (regarding Assad)?"),
    (["How many civilians were killed in Homs?", "Who reported it?"], "Who reported it (regarding Homs)?"),
])
def test_follow_ups_are_rewritten(conversation: list[str], expected: str) -> None:
    assert run(conversation)[-1] == expected


@pytest.mark.parametrize(("conversation", "expected"), [
    # The failures: "she" became Trump, and "Why did he fire her?" became "Why did Trump fire Trump's?".
    (["Why did Trump fire Erika McEntarfer?", "How long has she worked in the federal government?"],
     "How long has Erika McEntarfer worked in the federal government?"),
    (["Why did Trump fire Erika McEntarfer?", "Why did he fire her?"], "Why did Trump fire Erika McEntarfer?"),
    (["What did Trump say about Erika McEntarfer?", "What did she say about her firing?"],
     "What did Erika McEntarfer say about Erika McEntarfer's firing?"),
    (["What did Trump say about Erika McEntarfer?", "Did he give a reason?"], "Did Trump give a reason?"),
    (["What did Orbán say after the election?", "And Magyar?"], "What did Magyar say after the election?"),
])
def test_pronouns_go_to_the_person_they_can_stand_for(conversation: list[str], expected: str) -> None:
    assert run(conversation)[-1] == expected


def test_pronouns_resolve_against_the_people_named_in_the_previous_answer() -> None:
    history = [Turn(role="user", content="Who runs the Bureau of Labor Statistics?"),
               Turn(role="assistant", content="President Donald Trump fired BLS Commissioner Erika McEntarfer on "
                                              "Aug. 1. [1]")]
    assert RuleCondenser().rewrite("How long had she led the bureau?", history) == \
        "How long had Erika McEntarfer led the bureau?"


def test_when_it_is_unclear_who_a_pronoun_stands_for_it_is_not_rewritten() -> None:
    assert run(["Did Alex Kim meet Sam Lee on Friday?", "What did he say?"])[-1] is None  # Kim or Lee
    history = [Turn(role="user", content="What happened at the meeting?"),
               Turn(role="assistant", content="John Reed and Paul Stone left early. [1]")]
    assert RuleCondenser().rewrite("Why did he leave?", history) is None  # Reed or Stone


def test_standalone_follow_up_is_left_alone() -> None:
    assert run(["What did Kerry say about Assad?", "How many flights did the Russian defence ministry report?"]) \
        == [None, None]
    assert run(["What did Kerry say about Assad?", "What is the recipe for banana bread?"]) == [None, None]


def test_engine_records_and_uses_the_rewrite(sample_engine: Engine) -> None:
    history = [Turn(role="user", content="What did Kerry say about Assad?"), Turn(role="assistant", content="...")]
    events = list(sample_engine.ask_stream("And Lavrov?", history))
    assert events[0].type == "notice" and payload(events[0])["rewritten_query"] == "What did Lavrov say about Assad?"
    answer = sample_engine.ask("And Lavrov?", history)
    assert answer.rewritten_query == "What did Lavrov say about Assad?" and answer.question == "And Lavrov?"
    # Lavrov is quoted in the sample, but not about Assad: an honest refusal that says so.
    assert answer.refused and "quote Sergei Lavrov, but not about Assad" in (answer.refusal_reason or "")
    follow = sample_engine.ask("What did he say?", [*history, Turn(role="user", content="What did Lavrov say?",
                                                                  rewritten_query=None)])
    assert follow.rewritten_query == "What did Lavrov say?"
    assert any("standing channels" in c.quote for c in follow.citations)
