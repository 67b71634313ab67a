"""Every kind of bad input becomes a one-line reason; the good files of the batch still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.load import Failure, load_paths
from index.types import Article
from tests.conftest import SAMPLE


def load(*paths: Path, max_mb: float = 20.0) -> tuple[list[Article], list[Failure]]:
    items = list(load_paths(list(paths), max_mb))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Failure)]


def test_txt_title_is_first_nonempty_line() -> None:
    [article], failures = load(SAMPLE)
    assert not failures
    assert article.title == "Claims Russian airstrikes in Syria not targeting IS"
    assert article.text.startswith("Air strikes plunge")
    assert article.id == "russian-airstrikes-in-syria"


def test_markdown_json_jsonl_html(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Budget vote\n\nThe council approved the budget on Monday.\n")
    (tmp_path / "b.json").write_text(json.dumps({"id": "b1", "title": "Storm", "text": "A storm hit the coast.",
                                                 "date": "2026-01-02", "source": "example.org"}))
    (tmp_path / "c.jsonl").write_text(json.dumps({"title": "One", "text": "First story."}) + "\n\n"
                                      + json.dumps({"id": "c2", "title": "Two", "text": "Second story."}) + "\n")
    (tmp_path / "d.html").write_text(
        "<html><head><title>Bridge reopens</title><script>var tracking = 1;</script></head><body>"
        "<nav>Home | Sports | Weather</nav><article><h1>Bridge reopens</h1>"
        + "".join(f"<p>The river bridge reopened after repairs that took {n} months, officials said.</p>"
                  for n in range(3, 9))
        + "</article><footer>Copyright</footer></body></html>")
    articles, failures = load(tmp_path)
    assert not failures
    by_id = {a.id: a for a in articles}
    assert by_id["a"].title == "Budget vote"
    assert by_id["b1"].date == "2026-01-02" and by_id["b1"].source == "example.org"
    assert {"c-1", "c2"} <= set(by_id)
    html = by_id["d"]
    assert "bridge reopened" in html.text and "tracking" not in html.text and "Sports" not in html.text


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n ", "empty file"),
    ("latin1.txt", "Caf\xe9 owners protest\n\nThe caf\xe9 closed.".encode("latin-1"), "not valid UTF-8"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("report.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
    ("title-only.txt", b"Just a title\n", "no article text"),
])
def test_bad_files_get_one_line_reasons(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(content)
    articles, failures = load(tmp_path / name, SAMPLE)
    assert len(articles) == 1, "the good file of the batch still loads"
    assert len(failures) == 1 and reason in failures[0].reason and "\n" not in failures[0].reason


def test_huge_file_and_missing_path(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("Title\n\n" + "word " * 300_000)
    _, failures = load(big, tmp_path / "nope.txt", max_mb=1)
    reasons = sorted(f.reason for f in failures)
    assert reasons[0].startswith("file too large (1.5 MB > 1 MB")
    assert reasons[1] == "no such file or folder"


def test_malformed_json_lines_keep_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text('{"title": "Ok", "text": "Fine story."}\n{broken\n{"title": "No text"}\n[1, 2]\n')
    articles, failures = load(path)
    assert [a.title for a in articles] == ["Ok"]
    assert [f.path.rsplit(":", 1)[1] for f in failures] == ["2", "3", "4", "4"]  # [1, 2] holds two non-objects
    assert "invalid JSON" in failures[0].reason and "no 'text'" in failures[1].reason
