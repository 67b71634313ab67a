"""The CLI in-process: ingest summary, list, ask --json, batch, helpful errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import main
from tests.conftest import SAMPLE_DIR


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSRAG_EMBEDDER", "hash")
    monkeypatch.chdir(tmp_path)


def test_ingest_list_ask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert main(["ingest", str(SAMPLE_DIR), str(tmp_path / "bad.txt")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("added 1, updated 0, unchanged 0, failed 1")
    assert "bad.txt: looks like a binary file" in out
    assert main(["list"]) == 0
    assert "russian-airstrikes-in-syria" in capsys.readouterr().out
    assert main(["ask", "--json", "What did Kerry say about Assad?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {"question", "text", "refused", "refusal_reason", "citations", "passages", "answerer",
            "rewritten_query", "timings_ms"} <= set(answer)
    assert not answer["refused"] and "Kerry" in answer["citations"][0]["quote"]
    assert main(["ask", "What did Kerry say about Assad?"]) == 0
    text = capsys.readouterr().out
    assert "[1]" in text and "Sources:" in text


def test_batch_keeps_order_and_reports_bad_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["ingest", str(SAMPLE_DIR)])
    capsys.readouterr()
    qs = tmp_path / "qs.jsonl"
    qs.write_text('{"id": "q1", "question": "What did Kerry say about Assad?"}\nnot json\n'
                  '{"id": "q3", "question": "What did Lavrov say?"}\n')
    assert main(["ask", "--questions", str(qs), "--json"]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x.get("id") for x in lines] == ["q1", None, "q3"]
    assert lines[1] == {"line": 2, "error": 'expected a JSON object with a "question" string'}


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What did Kerry say?"]) == 2
    assert capsys.readouterr().err.startswith("error: Nothing is indexed yet")
    assert main(["ingest", str(tmp_path / "missing")]) == 1
    assert "no such file or folder" in capsys.readouterr().out
    assert main(["remove", "ghost"]) == 2
    assert "No article with id 'ghost'" in capsys.readouterr().err


def test_help_teaches() -> None:
    with pytest.raises(SystemExit):
        main(["--help"])


def test_ingest_skips_symlinks_out_of_the_folder_unless_asked(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret\n\nroot:x:0:0:root:/root:/bin/bash")
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "good.txt").write_text("Good\n\nA real article.")
    (folder / "passwd.txt").symlink_to(secret)
    assert main(["ingest", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("added 1, updated 0, unchanged 0, failed 0, links skipped 1")
    assert f"skipped: {folder / 'passwd.txt'}: symlink to a file outside {folder}" in out
    assert main(["list"]) == 0 and "passwd" not in capsys.readouterr().out
    assert main(["ingest", "--follow-symlinks", str(folder)]) == 0
    assert capsys.readouterr().out.startswith("added 1, updated 0, unchanged 1")
    assert main(["list"]) == 0 and "passwd" in capsys.readouterr().out
