"""Every kind of bad input becomes a one-line reason; the good files of the batch still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.load import Failure, Skipped, load_paths
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
    ("random.txt", bytes(range(1, 256)) * 4, "not valid UTF-8 (bad byte 0x80 at offset 127) and not Windows-1252"),
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
    assert [f.path.rsplit(":", 1)[1] for f in failures] == ["2", "3", "4[0]", "4[1]"]  # [1, 2]: two non-objects
    assert "invalid JSON" in failures[0].reason and "no 'text'" in failures[1].reason


def test_other_encodings_are_read_and_noted(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("Café owners protest\n\nThe café closed on Friday.".encode("latin-1"))
    (tmp_path / "utf16.txt").write_bytes("Über news\n\nThe ministry said 12 trains ran.".encode("utf-16"))
    (tmp_path / "bom.txt").write_bytes("\ufeffBOM title\n\nText with a\x07 bell and\r\nwindows lines.".encode())
    articles, failures = load(tmp_path)
    assert not failures
    by_id = {a.id: a for a in articles}
    assert by_id["latin1"].text == "The café closed on Friday." and "Windows-1252" in (by_id["latin1"].note or "")
    assert by_id["utf16"].title == "Über news" and by_id["utf16"].note == "decoded as UTF-16"
    assert by_id["bom"].title == "BOM title" and by_id["bom"].text == "Text with a bell and\nwindows lines."
    assert by_id["bom"].note is None


def test_jsonl_is_streamed_with_a_per_record_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("w") as handle:
        for i in range(30):
            handle.write(json.dumps({"id": f"r{i}", "title": f"T{i}", "text": "word " * 20_000}) + "\n")
    articles, failures = load(path, max_mb=0.2)  # the file is 3 MB, each record 0.1 MB: all go in
    assert len(articles) == 30 and not failures
    articles, failures = load(path, max_mb=0.05)
    assert not articles and len(failures) == 30 and failures[0].reason.startswith("record too large")


def test_nested_json_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    _, failures = load(tmp_path / "deep.json", tmp_path / "loop.txt")
    reasons = {Path(f.path).name: f.reason for f in failures}
    assert reasons["deep.json"] == "JSON nested too deeply"
    assert reasons["loop.txt"].startswith("cannot read: ")


def test_a_file_that_grows_after_the_size_check_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The size check and the read are two steps: the read itself is bounded (limit + 1 byte)."""
    path = tmp_path / "grows.txt"
    path.write_text("Title\n\nSmall at first.")
    real_open = Path.open

    def grow_then_open(self: Path, mode: str = "r", *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self == path and mode == "rb":  # another process appends after the size check, before the read
            with real_open(path, "a") as handle:
                handle.write("word " * 600_000)
        return real_open(self, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", grow_then_open)
    articles, failures = load(path, max_mb=1)
    assert not articles and len(failures) == 1
    assert failures[0].reason.startswith("file too large (it grew past 1 MB while being read")


def test_one_huge_jsonl_line_is_never_read_whole(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "feed.jsonl"
    with path.open("w") as handle:
        handle.write(json.dumps({"id": "ok1", "title": "One", "text": "First story."}) + "\n")
        handle.write(json.dumps({"id": "huge", "title": "Huge", "text": "word " * 2_000_000}) + "\n")  # 10 MB
        handle.write(json.dumps({"id": "ok2", "title": "Two", "text": "Second story."}) + "\n")
    tracemalloc.start()
    articles, failures = load(path, max_mb=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [a.id for a in articles] == ["ok1", "ok2"]
    assert [(f.path.rsplit(":", 1)[1], f.reason) for f in failures] == [("2", "record too large (10.0 MB > 1 MB)")]
    assert peak < 3_000_000, peak


def test_a_fifo_is_refused_as_not_a_regular_file(tmp_path: Path) -> None:
    """Its size is 0, so it was refused as 'empty file'; it must never be opened (open() waits for a writer)."""
    import os
    import threading

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    result: list = []
    worker = threading.Thread(target=lambda: result.extend(load(fifo)), daemon=True)
    worker.start()
    worker.join(timeout=5)
    if worker.is_alive():  # it blocked in open(): let it go, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a FIFO blocked the ingest")
    assert result[1][0].reason == "not a regular file"


def test_symlinks_out_of_the_folder_are_skipped_unless_followed(tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0\n\nroot:/root:/bin/bash daemon:x:1:1")
    (tmp_path / "outside" / "more.txt").write_text("More\n\nAnother file outside the folder.")
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "good.txt").write_text("Good\n\nA real article in the folder.")
    (folder / "passwd.txt").symlink_to(secret)
    (folder / "alias.txt").symlink_to(folder / "good.txt")  # inside the folder: read
    (folder / "elsewhere").symlink_to(secret.parent, target_is_directory=True)
    items = list(load_paths([folder]))
    articles = [i for i in items if isinstance(i, Article)]
    skipped = {Path(i.path).name: i.reason for i in items if isinstance(i, Skipped)}
    assert sorted(a.id for a in articles) == ["alias", "good"]
    assert not any("root:" in a.text for a in articles)
    assert skipped["passwd.txt"].startswith(f"symlink to a file outside {folder} ({secret}): not followed; "
                                            "pass --follow-symlinks")
    assert skipped["elsewhere"].startswith("symlink to a folder outside")
    followed = [i for i in load_paths([folder], follow_symlinks=True) if isinstance(i, Article)]
    assert sorted(a.id for a in followed) == ["alias", "good", "more", "passwd"]
    [named] = [i for i in load_paths([folder / "passwd.txt"]) if isinstance(i, Article)]  # named: the user chose it
    assert named.text.startswith("root:/root")


def test_a_symlinked_folder_loop_is_entered_once(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("A\n\nText of a.")
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)
    items = list(load_paths([folder], follow_symlinks=True))
    assert [i.id for i in items if isinstance(i, Article)] == ["a"]
    assert [Path(i.path).name for i in items if isinstance(i, Skipped)] == ["up"]
