"""How much one question may carry: the question, the conversation history, a feedback record. One set of constants
for every face (API, /v1, CLI, UI, eval): the API models validate with them, and the engine checks them again, since
the CLI and the UI call the engine directly.

Why these numbers: a question is a sentence or two (2,000 characters is a long paragraph). A history message is an
earlier question or answer; an answer, even with its "Sources:" list as OpenAI clients send it back, stays well under
10,000 characters. The follow-up rewrite reads at most the last 6 messages, so 50 are plenty. Before these limits one
4 MB history message took 35 s and +450 MB to answer (issue 13)."""

from __future__ import annotations

from collections.abc import Sequence

from app.errors import NewsragError
from app.types import Turn

MAX_QUESTION_CHARS = 2_000
MAX_HISTORY_TURNS = 50
MAX_TURN_CHARS = 10_000  # per history message (its content, and its rewritten_query)
MAX_HISTORY_CHARS = 50_000  # all history messages together
MAX_FEEDBACK_ANSWER_CHARS = 200_000  # the Answer JSON a rating may carry (50 passages of ~1,000 characters fit)


class TooLarge(NewsragError):
    """A request over one of the limits above; the message names the limit."""

    status = 422


def question_problem(question: str) -> str | None:
    if len(question) > MAX_QUESTION_CHARS:
        return f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}"
    return None


def history_problem(history: Sequence[Turn]) -> str | None:
    """What is wrong with the history's size (None when it is within every limit)."""
    if len(history) > MAX_HISTORY_TURNS:
        return (f"the history has {len(history):,} messages; the limit is {MAX_HISTORY_TURNS} (send the most "
                "recent ones)")
    total = 0
    for i, turn in enumerate(history, 1):
        size = max(len(turn.content), len(turn.rewritten_query or ""))
        if size > MAX_TURN_CHARS:
            return f"history message {i} is {size:,} characters; the limit is {MAX_TURN_CHARS:,} per message"
        total += len(turn.content) + len(turn.rewritten_query or "")
    if total > MAX_HISTORY_CHARS:
        return f"the history has {total:,} characters in all; the limit is {MAX_HISTORY_CHARS:,}"
    return None


def check_size(question: str, history: Sequence[Turn] | None) -> None:
    """Raise TooLarge (422) when the question or the history is over a limit."""
    if problem := question_problem(question):
        raise TooLarge(f"The question is too long: {problem}.")
    if history and (problem := history_problem(history)):
        raise TooLarge(f"The conversation is too long: {problem}. Start a new conversation, or send less history.")


def recent(history: Sequence[Turn]) -> list[Turn]:
    """The most recent turns of a conversation that fit the limits, each message cut to MAX_TURN_CHARS: for the
    faces that keep a conversation going (the terminal chat, the web UI), so a long chat never hits the limits."""
    out: list[Turn] = []
    total = 0
    for turn in reversed(history[-MAX_HISTORY_TURNS:]):
        content = turn.content[:MAX_TURN_CHARS]
        rewritten = turn.rewritten_query[:MAX_TURN_CHARS] if turn.rewritten_query else turn.rewritten_query
        total += len(content) + len(rewritten or "")
        if total > MAX_HISTORY_CHARS:
            break
        out.append(turn.model_copy(update={"content": content, "rewritten_query": rewritten}))
    return out[::-1]
