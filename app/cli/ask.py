"""The asking commands: `newsrag ask` (one question or a batch) and `newsrag chat`, and the terminal streaming they
share: the answer shows as it streams, then is taken back and the final, checked Answer printed in its place."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import date
from typing import Any

from app.cli.live import LiveText, erase_codes, terminal_width
from app.engine import Engine
from app.errors import NewsragError
from app.limits import recent
from app.render import render
from app.types import Answer, Turn


def emit(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def ask(engine: Engine, args: argparse.Namespace) -> int:
    if args.questions:
        return ask_batch(engine, args)
    if not args.question:
        raise NewsragError('Give a question, e.g. newsrag ask "What did Kerry say about Assad?" '
                           "(or --questions FILE.jsonl).")
    if args.json:
        emit(engine.ask(args.question, answerer=args.answerer, k=args.k, **when(args)).model_dump())
        return 0
    print(render(stream_to_terminal(engine, args.question, [], args), width=answer_width()))
    return 0


def answer_width() -> int:
    """Answers are wrapped at 100 columns, or at the terminal's width when it is narrower."""
    return min(100, terminal_width(sys.stdout)) if sys.stdout.isatty() else 100


def ask_batch(engine: Engine, args: argparse.Namespace) -> int:
    try:
        lines = args.questions.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsragError(f"cannot read {args.questions}: {exc}") from None
    failures = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            question = record["question"] if isinstance(record, dict) else None
            if not isinstance(question, str):
                raise KeyError("question")
            answer = engine.ask(question, answerer=args.answerer, k=args.k, **when(args))
        except (json.JSONDecodeError, KeyError):
            failures += 1
            batch_error(args, lineno, 'expected a JSON object with a "question" string')
            continue
        except NewsragError as exc:
            failures += 1
            batch_error(args, lineno, str(exc))
            continue
        qid = record.get("id")
        if args.json:
            emit({**answer.model_dump(), **({"id": qid} if "id" in record else {})})
        else:  # what `newsrag ask` prints for one question, headed by the question (and its id)
            head = f"[{qid}] {question}" if "id" in record else question
            print(f"{'=' * 3} {head}\n{render(answer, width=answer_width())}\n", flush=True)
    return 1 if failures else 0


def batch_error(args: argparse.Namespace, lineno: int, message: str) -> None:
    if args.json:
        emit({"line": lineno, "error": message})
    else:
        print(f"{args.questions}:{lineno}: error: {message}", file=sys.stderr, flush=True)


def when(args: argparse.Namespace) -> dict[str, Any]:
    """--as-of, --since, --until, --source as the Engine's `as_of` and `filters` (dates checked here)."""
    days = {}
    for name in ("as_of", "since", "until"):
        value = getattr(args, name, None)
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            raise NewsragError(f"--{name.replace('_', '-')} {value!r} is not a date: write YYYY-MM-DD") from None
    filters = {"date_from": days["since"] and days["since"].isoformat(),
               "date_to": days["until"] and days["until"].isoformat(), "source": getattr(args, "source", None)}
    return {"as_of": days["as_of"], "filters": {k: v for k, v in filters.items() if v} or None}


def stream_to_terminal(engine: Engine, question: str, history: list[Turn], args: argparse.Namespace) -> Answer:
    """Show the answer as it streams on the terminal (stderr), then take it back: the caller prints the final,
    checked Answer. The search a follow-up was rewritten to comes first, as it does in the final answer."""
    live = LiveText(sys.stderr) if sys.stderr.isatty() else None
    final = None
    try:
        for event in engine.ask_stream(question, history, args.answerer, args.k, **when(args)):
            if live is None:
                if event.type == "done":
                    final = event.answer
                continue
            if event.type == "token":
                live.write(event.text)
            elif event.type == "notice":
                if event.reset:  # the LLM failed mid-answer: its partial text is withdrawn
                    live.erase()
                live.write(f"(searching for: {event.rewritten_query})\n" if event.rewritten_query
                           else f"note: {event.text}\n")
            elif event.type == "done":
                final = event.answer
    finally:
        if live is not None:
            live.erase()
    assert final is not None
    return final


def erase(shown: str, columns: int | None = None) -> str:
    """The escape codes that take `shown` back off the terminal (what LiveText.erase writes; app/cli/live.py)."""
    return erase_codes(shown, max(1, columns or shutil.get_terminal_size().columns))


def chat(engine: Engine, args: argparse.Namespace) -> int:
    print("Ask about the indexed articles. Follow-ups work (\"And Lavrov?\"). Empty line or Ctrl-D to quit.")
    history: list[Turn] = []
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = stream_to_terminal(engine, question, recent(history), args)  # a long chat stays in limits
        except NewsragError as exc:
            print(f"error: {exc}")
            continue
        print(render(answer, width=answer_width()))
        history += [Turn(role="user", content=question, rewritten_query=answer.rewritten_query),
                    Turn(role="assistant", content=answer.text)]
