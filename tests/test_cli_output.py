"""What a new user sees on the terminal: version, help, settings mistakes, quiet libraries, batch output, the sources
list, refusals in words, and a streamed answer on a narrow terminal that leaves nothing behind."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import main
from app.render import render, sources
from app.settings import Settings, unknown_variables
from app.types import Answer, Citation
from tests.conftest import ROOT, SAMPLE_DIR

KERRY = "What did Kerry say about Assad?"


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    for key in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "NEWSRAG_LLM_BASE_URL", "NEWSRAG_LLM_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert re.fullmatch(r"newsrag \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def test_help_describes_the_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    for command, says in (("ingest", ["PATH", "a file (.txt", "or a folder", "--follow-symlinks"]),
                          ("remove", ["ID", "first column of `newsrag list`"]),
                          ("ask", ["--questions", "with its sources", "--json"])):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        for text in says:
            assert text in out, (command, text)


@pytest.mark.parametrize(("name", "value", "says"), [
    ("NEWSRAG_TOP_K", "abc", "NEWSRAG_TOP_K='abc' is not valid: expected a whole number (the default is 6"),
    ("NEWSRAG_MIN_SUPPORT", "high", "NEWSRAG_MIN_SUPPORT='high' is not valid: expected a number"),
    ("NEWSRAG_DROP_UNSUPPORTED", "maybe", "expected true or false"),
    ("NEWSRAG_EMBED_BACKEND", "gpu", "expected one of auto, torch, onnx or onnx-int8"),
    ("NEWSRAG_ANSWERER", "foo", "unknown answerer 'foo'"),
])
def test_a_bad_setting_is_one_line_naming_it(name: str, value: str, says: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(name, value)
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and says in err, err
    assert "Traceback" not in err and "pydantic" not in err


def test_an_unknown_setting_is_warned_about_with_the_nearest_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NEWSRAG_TOPK", "3")
    (tmp_path / ".env").write_text("NEWSRAG_ANSWERR=llm\nNEWSRAG_PORT=7861\n")
    assert main(["list"]) == 0
    err = capsys.readouterr().err
    assert "warning: NEWSRAG_TOPK (in the environment) is not a newsrag setting" in err
    assert "did you mean NEWSRAG_TOP_K?" in err
    assert "NEWSRAG_ANSWERR (in .env) is not a newsrag setting and is ignored (did you mean NEWSRAG_ANSWERER?)" in err
    assert "NEWSRAG_PORT" not in err
    # the tools' own variables and every real setting are not warned about
    every = {f"NEWSRAG_{f.upper()}": "" for f in Settings.model_fields}
    assert unknown_variables({"NEWSRAG_SHARED_DATA": "x", **every}, None) == []
    assert unknown_variables({"NEWSRAG_BANANA": "1"}, None)[0].endswith("ignored; the settings are listed in "
                                                                         ".env.example")


def test_openai_variables_are_read_when_the_newsrag_ones_are_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-openai-var")
    monkeypatch.setenv("NEWSRAG_LLM_BASE_URL", "")  # empty, as .env.example leaves it
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (s.llm_base_url, s.llm_api_key) == ("http://127.0.0.1:9/v1", "sk-from-openai-var")
    monkeypatch.setenv("NEWSRAG_LLM_BASE_URL", "http://127.0.0.1:8/v1")
    monkeypatch.setenv("NEWSRAG_LLM_API_KEY", "own")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (s.llm_base_url, s.llm_api_key) == ("http://127.0.0.1:8/v1", "own")
    assert "sk-from" not in s.fingerprint()


def test_library_logging_is_quiet_unless_verbose(tmp_path: Path) -> None:
    """llama-index logs at DEBUG while it splits; a library that called basicConfig() made each record a line."""
    code = ("import logging, sys; logging.basicConfig(level=logging.DEBUG); from app.cli.main import main; "
            "sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSRAG_DATA_DIR": str(tmp_path / "d"), "NEWSRAG_EMBEDDER": "hash"}
    (tmp_path / "other.txt").write_text("Other\n\nThe harbour master said the new pier opens on Friday.\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)

    quiet = run("ingest", str(SAMPLE_DIR))
    assert quiet.returncode == 0 and "llama_index" not in quiet.stderr and "DEBUG" not in quiet.stderr, quiet.stderr
    loud = run("-vv", "ingest", str(tmp_path / "other.txt"))
    assert loud.returncode == 0 and "debug: llama_index" in loud.stderr, loud.stderr  # (bm25s is gone)


def test_a_batch_without_json_prints_each_answer_with_its_sources(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", str(SAMPLE_DIR)])
    capsys.readouterr()
    qs = tmp_path / "qs.jsonl"
    qs.write_text(json.dumps({"id": "q1", "question": KERRY}) + "\nnot json\n"
                  + json.dumps({"question": "What is the recipe for banana bread?"}) + "\n")
    assert main(["ask", "--questions", str(qs)]) == 1
    out, err = capsys.readouterr()
    assert not out.lstrip().startswith("{") and "{\"" not in out
    first, second = out.split("=== ")[1:]
    assert first.startswith(f"[q1] {KERRY}\n") and re.search(r"\nSources:.*\n\[1\] Claims Russian airstrikes", first)
    assert second.startswith("What is the recipe for banana bread?\nI can't answer that")
    assert err == f"{qs}:2: error: expected a JSON object with a \"question\" string\n"


def _cite(n: int, start: int, end: int, quote: str, article: str = "a1", title: str = "Title A") -> Citation:
    return Citation(n=n, article_id=article, title=title, date="2015-10-01", source="BBC", start=start, end=end,
                    quote=quote)


def test_sources_are_grouped_by_article_each_quote_once() -> None:
    said = "“We will win,” the minister said on Monday in a speech to the parliament in the capital city."
    other = "The opposition leader called the speech a campaign stunt and demanded a vote on the budget."
    elsewhere = "Markets fell."
    answer = Answer(question="q", answerer="extractive",
                    text=f"{said} [1] {other} [2] Some said this again [3]. {elsewhere} [4]",
                    citations=[_cite(1, 0, 95, said), _cite(2, 100, 190, other), _cite(3, 0, 95, said),
                               _cite(4, 5, 18, elsewhere, "b2", "Title B")])
    text = sources(answer)
    assert text.count("Title A") == 1 and text.count("Title B") == 1
    assert text.startswith("[1, 2, 3] Title A (2015-10-01 · BBC)\n")
    assert "    [1, 3] “We will win,” the minister said on Monday in a …”" in text
    assert "““" not in text and text.count("We will win") == 1
    assert "    [2] “The opposition leader called" in text
    assert text.endswith("[4] Title B (2015-10-01 · BBC)\n    “Markets fell.”")
    assert all(len(line) <= 30 for line in sources(answer, 30).splitlines()), "titles wrap too, at the width"
    # a span the answer does not repeat word for word (an LLM's paraphrase cites it) is shown whole
    para = answer.model_copy(update={"text": "The minister expects to win [1].", "citations": answer.citations[:1]})
    assert sources(para) == f"[1] Title A (2015-10-01 · BBC)\n    {said}"


def test_refusals_say_why_in_words_and_keep_the_score_in_the_json(sample_engine) -> None:  # type: ignore[no-untyped-def]
    answer = sample_engine.ask("What is the recipe for banana bread?")
    assert answer.refused and answer.refusal_reason
    assert not re.search(r"\d", answer.refusal_reason) and "<" not in answer.text
    assert answer.refusal_score is not None and answer.refusal_score < sample_engine.settings.min_support
    assert "refusal_score" in answer.model_dump()
    assert "support" not in render(answer)


class Terminal(io.StringIO):
    """stdout and stderr of a terminal, as one stream (what a person sees)."""

    def isatty(self) -> bool:
        return True


def screen(output: str, width: int) -> list[str]:
    """What a VT100-like terminal of `width` columns shows after `output` (wrap, \\r, \\n, ESC[nA, ESC[J)."""
    rows: list[list[str]] = [[]]
    r = c = 0
    i = 0
    while i < len(output):
        ch = output[i]
        if ch == "\033":
            m = re.match(r"\033\[(\d*)([AJ])", output[i:])
            assert m, repr(output[i:i + 8])
            if m.group(2) == "A":
                r = max(0, r - int(m.group(1) or 1))
            else:
                del rows[r][c:]
                del rows[r + 1:]
            i += m.end()
            continue
        if ch == "\n":
            r, c = r + 1, 0
        elif ch == "\r":
            c = 0
        else:
            if c >= width:  # the pending wrap of a full row
                r, c = r + 1, 0
            while len(rows) <= r:
                rows.append([])
            rows[r] += [" "] * (c + 1 - len(rows[r]))
            rows[r][c] = ch
            c += 1
        while len(rows) <= r:
            rows.append([])
        i += 1
    return ["".join(row).rstrip() for row in rows]


def test_chat_on_a_narrow_terminal_leaves_only_the_formatted_answers(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", str(SAMPLE_DIR)])
    capsys.readouterr()
    width = 40
    monkeypatch.setenv("COLUMNS", str(width))
    term = Terminal()
    questions = iter([KERRY, "And Lavrov?", ""])

    def typed(prompt: str) -> str:
        question = next(questions)
        term.write(prompt + question + "\n")
        return question

    monkeypatch.setattr("builtins.input", typed)
    monkeypatch.setattr(sys, "stdout", term)
    monkeypatch.setattr(sys, "stderr", term)
    assert main(["chat"]) == 0
    live = screen(term.getvalue(), width)
    assert "\033[" in term.getvalue(), "the answer was streamed live"

    from app.engine import build_engine
    from app.settings import load_settings

    engine = build_engine(load_settings())
    first = engine.ask(KERRY)
    follow = engine.ask("And Lavrov?", [*_turns(KERRY, first)])
    expected = term.getvalue().split("\n", 1)[0] + f"\n\nyou> {KERRY}\n{render(first, width)}\n\nyou> And Lavrov?\n" \
        f"{render(follow, width)}\n\nyou> \n"
    assert live == screen(expected, width)
    joined = "\n".join(live)
    after = joined[joined.index("you> And Lavrov?"):]
    assert 0 < after.index("(searching for:") < after.index("I can't answer that")


def _turns(question: str, answer: Answer) -> list:  # type: ignore[type-arg]
    from app.types import Turn

    return [Turn(role="user", content=question, rewritten_query=answer.rewritten_query),
            Turn(role="assistant", content=answer.text)]
