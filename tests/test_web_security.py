"""The web face's defences, in-process over the real engine: security headers on every kind of response, upload file
names that try to leave the temp folder, the upload count limit, JSON errors without tracebacks, and the widget's
deny-by-default origin list. (CORS for listed origins, the admin token and size limits: tests/test_api.py.)"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.engine import Engine
from app.settings import Settings
from app.types import Event, TokenEvent
from app.web.admin import MAX_UPLOAD_FILES, upload_name
from app.web.api import create_app
from index.fields import make_id
from tests.conftest import sample_engine_in
from tests.live_server import uvicorn_server

BASE = "http://127.0.0.1:7860"
LOCAL = ("127.0.0.1", 50000)
KERRY = "What did Kerry say about Assad?"
STORY = b"Harbour news\n\nThe harbour master said the new pier opens on Friday, after two years of work.\n"
GENERIC_500 = "Something went wrong on the server (the details are in its log). Please try again."


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return sample_engine_in(tmp_path_factory.mktemp("websec") / "data")  # type: ignore[no-any-return]


def api(engine: Engine, **overrides: Any) -> TestClient:
    settings = engine.settings.model_copy(update=overrides)
    return TestClient(create_app(engine, settings), base_url=BASE, client=LOCAL, raise_server_exceptions=False)


def assert_secure(r: Any, page: bool = False) -> None:
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp, (r.url, csp)
    assert csp.startswith("default-src 'self'" if page else "default-src 'none'"), (r.url, csp)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert r.headers["x-frame-options"] == "DENY"


# -- headers -------------------------------------------------------------------------------------------------
@pytest.mark.slow  # builds the Gradio UI
def test_security_headers_on_pages_api_widget_and_errors(shared_engine: Engine) -> None:
    from app.web.server import build_server

    settings = shared_engine.settings.model_copy(update={"rate_limit_per_minute": 3})
    c = TestClient(build_server(settings, shared_engine), base_url=BASE, client=LOCAL)
    for path in ("/", "/docs"):
        r = c.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert_secure(r, page=True)
        assert "'unsafe-eval'" in r.headers["content-security-policy"]  # Gradio's HTML templates need it
    for path in ("/widget.js", "/openapi.json", "/healthz", "/readyz", "/api/articles", "/v1/models", "/api/nope",
                 "/config"):
        r = c.get(path)
        assert r.status_code in (200, 404), (path, r.status_code)
        assert_secure(r)
    assert c.get("/widget.js").headers["cross-origin-resource-policy"] == "cross-origin"  # still loads anywhere
    sse = c.post("/api/ask", json={"question": KERRY}, headers={"Accept": "text/event-stream"})
    assert sse.headers["content-type"].startswith("text/event-stream")
    for r in (sse, c.post("/api/ask", json={"question": KERRY}),
              c.post("/api/ask", json={"question": KERRY}, headers={"Origin": "https://evil.example"}),  # 403
              c.post("/api/ask", content=b"{bad", headers={"Content-Type": "application/json"}),  # 400
              c.post("/api/ask", json={"question": KERRY}), c.post("/api/ask", json={"question": KERRY})):  # 429
        assert_secure(r)
    assert r.status_code == 429 and r.headers["retry-after"]


def test_security_headers_on_an_internal_error(shared_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    c = api(shared_engine)

    def broken() -> list[dict]:
        raise RuntimeError(f"database disk image is malformed: {shared_engine.settings.data_dir}/manifest.sqlite")

    monkeypatch.setattr(shared_engine, "articles", broken)
    r = c.get("/api/articles")
    assert r.status_code == 500 and r.json() == {"error": GENERIC_500}
    assert_secure(r)


# -- no stack traces --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/articles", None),
    ("POST", "/api/ask", {"question": KERRY}),
    ("POST", "/v1/chat/completions", {"model": "newsrag", "messages": [{"role": "user", "content": KERRY}]}),
    ("POST", "/api/feedback", {"question": KERRY, "answer_text": "a", "rating": "up"}),
])
def test_internal_errors_say_nothing_about_the_code(shared_engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                    method: str, path: str, body: Any) -> None:
    secret = f"{Path(__file__).resolve()}: KeyError in _secret_helper"
    app = create_app(shared_engine, shared_engine.settings)
    c = TestClient(app, base_url=BASE, client=LOCAL, raise_server_exceptions=False)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise KeyError(secret)

    for name in ("articles", "ask"):
        monkeypatch.setattr(shared_engine, name, boom)
    monkeypatch.setattr(app.state.newsrag.feedback, "add", boom)
    r = c.request(method, path, json=body)
    openai_shape = {"message": GENERIC_500, "type": "server_error", "param": None, "code": None}
    assert r.status_code == 500 and r.json() == {"error": openai_shape if path.startswith("/v1/") else GENERIC_500}
    for leak in ("Traceback", "KeyError", "_secret_helper", str(Path(__file__).parent), 'File "'):
        assert leak not in r.text


def test_a_client_leaving_mid_stream_frees_its_worker(shared_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stream's worker thread stops (and closes the answer) when the client hangs up, instead of producing
    the rest of a long answer for nobody."""
    closed, produced = threading.Event(), []

    def endless(*args: Any, **kwargs: Any) -> Iterator[Event]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield TokenEvent(text=f"w{i} ")
                time.sleep(0.005)
        finally:
            closed.set()

    monkeypatch.setattr(shared_engine, "ask_stream", endless)
    with uvicorn_server(create_app(shared_engine, shared_engine.settings)) as url:
        with httpx.stream("POST", url + "/api/ask", json={"question": KERRY},
                          headers={"Accept": "text/event-stream"}) as r:
            assert next(r.iter_lines()) == "event: token"
        assert closed.wait(10), "the answer kept streaming to nobody"
    assert len(produced) < 10_000


def test_unknown_api_paths_and_methods_are_json_errors(shared_engine: Engine) -> None:
    c = api(shared_engine)
    r = c.get("/api/nope")
    assert r.status_code == 404 and r.json() == {"error": "No such API endpoint: the API is described at /docs."}
    r = c.put("/api/ask")
    assert r.status_code == 405 and r.json() == {"error": "PUT is not allowed here: use POST."}
    assert r.headers["allow"] == "POST"
    assert c.patch("/api/articles/some-id").headers["allow"] == "DELETE, GET"
    r = c.get("/api/articles/some-id")  # reading one article is public (its citations link to it)
    assert r.status_code == 404 and r.json() == {"error": "No article with id 'some-id' (see `newsrag list`)."}
    assert c.get("/v1/chat/completions").status_code == 405


# -- uploads --------------------------------------------------------------------------------------------------
def multipart(name: bytes, content: bytes = STORY) -> dict[str, Any]:
    """A raw multipart body, so the file name reaches the server byte for byte (clients would escape it)."""
    body = (b'--b\r\nContent-Disposition: form-data; name="files"; filename="' + name + b'"\r\n'
            b"Content-Type: text/plain\r\n\r\n" + content + b"\r\n--b--\r\n")
    return {"content": body, "headers": {"Content-Type": "multipart/form-data; boundary=b"}}


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("name", "article_id"), [
    (b"../../etc/passwd.txt", "passwd"),
    (b"../../../../../../../../tmp/evil.txt", "evil"),
    (b"/etc/passwd.txt", "passwd"),
    (b"..\\..\\x.txt", "x"),
    (b"..\\\\..\\\\y.txt", "y"),  # a quoted-string escape: the server sees ..\..\y.txt
    (b"C:\\\\Windows\\\\win.ini.txt", "win.ini"),
    (b"sub/dir/../../../z.md", "z"),
    (b"nul\x00byte.txt", "nulbyte"),
    (b"x" * 300 + b".txt", make_id("x" * 196)),  # the name is cut to 200 bytes, the id to 120 characters with a
    # hash of the name (index/fields.py)
    (b"..", None),
    (b"", None),
])
def test_upload_names_cannot_leave_the_temp_folder(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   name: bytes, article_id: str | None) -> None:
    uploads = tmp_path / "a" / "b" / "c" / "uploads"  # deep, so `../..` from the temp folder stays under tmp_path
    uploads.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    before = tree(tmp_path)
    r = api(engine).post("/api/articles", **multipart(name))
    if article_id is None:  # no usable name: stored as upload-0, refused for having no known suffix
        assert r.status_code == 422 and r.json()["failed"][0]["path"] == "upload-0"
    else:
        assert r.status_code == 200 and r.json()["added"] == [article_id], r.text
    data = Path(engine.settings.data_dir)
    assert {p for p in tree(tmp_path) - before if data not in p.parents} == set(), "written outside the data dir"
    assert list(uploads.iterdir()) == [], "the temp folder is gone"
    assert not Path("/etc/passwd.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_upload_name() -> None:
    assert upload_name("../../a.txt", 0) == "a.txt" and upload_name("..\\b.json", 0) == "b.json"
    assert upload_name(" \t.. ", 3) == "upload-3" and upload_name(None, 1) == "upload-1"
    long = upload_name("é" * 300 + ".jsonl", 0)
    assert long.endswith(".jsonl") and len(long.encode()) <= 200 and long.startswith("éé")
    assert upload_name("a\x1b[31mred\x7f.txt", 0) == "a[31mred.txt"


def test_upload_count_limit(engine: Engine) -> None:
    files = [("files", (f"f{i}.txt", b"T\n\nSome text.")) for i in range(MAX_UPLOAD_FILES + 1)]
    r = api(engine).post("/api/articles", files=files)
    assert r.status_code == 400 and r.json() == {"error": f"Too many files. Maximum number of files is "
                                                          f"{MAX_UPLOAD_FILES}."}
    assert engine.articles() == []
    r = api(engine).post("/api/articles", files=files[:MAX_UPLOAD_FILES])
    assert r.status_code == 200 and len(r.json()["added"]) + len(r.json()["duplicates"]) == MAX_UPLOAD_FILES


# -- widget origins: empty means nobody -------------------------------------------------------------------------
def test_no_widget_origins_by_default_means_no_site(shared_engine: Engine) -> None:
    assert Settings.model_fields["widget_origins"].default == ""
    c = api(shared_engine, widget_origins="")
    for origin in ("https://news.example.com", "null", "http://localhost:7860", "http://127.0.0.1:7861",
                   "http://127.0.0.1:7860.evil.example"):
        r = c.post("/api/ask", json={"question": KERRY}, headers={"Origin": origin})
        assert r.status_code == 403 and r.json() == {"error": "origin not allowed"}, origin
        assert "access-control-allow-origin" not in r.headers
    assert c.post("/api/ask", json={"question": KERRY}, headers={"Origin": BASE}).status_code == 200  # its own page
