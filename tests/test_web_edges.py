"""Issue 13, sections 1 and 5: the Gradio UI as a second write API, and the server's edges (forwarded headers, the
start-up race, a non-loopback bind with writes open).

In-process: the one admin rule on FastAPI and Gradio requests alike, the UI's handlers against it, the start-up gate.
Against real `newsrag serve` processes (slow): bound to 0.0.0.0 and called from this host's LAN address, which the
server sees as another machine, through Gradio's own HTTP API (handlers by fn_index, the upload route) and
gradio_client. The figures are in docs/reliability.md ("Issue 13")."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from app.engine import Engine, build_engine
from app.quality.feedback import FeedbackStore
from app.web.api import create_app
from app.web.security import TOKEN_COOKIE, TOO_MANY, ApiError, require_admin
from app.web.startup import STARTING, Startup
from app.web.ui.access import LOCAL_ONLY, NEED_TOKEN, WRONG_TOKEN, UIAccess
from app.web.ui.callbacks import UIActions
from tests.chroma_server import stop
from tests.conftest import MODEL_CACHE, SAMPLE_DIR, make_settings
from tests.gradio_api import LOOPBACK, call, file_data, http, request_from, upload
from tests.live_server import lan_address
from tests.loadgen import KERRY, Server, newsrag_serve

TOKEN = "s3cret/+=;"  # characters a cookie must carry encoded
REMOTE = "203.0.113.7"
STORY = "Harbour news\n\nThe harbour master said the new pier opens on Friday, after two years of work.\n"


def status_of(call_it: Any) -> int | None:
    try:
        call_it()
    except ApiError as exc:
        return exc.status
    return None


def starlette_request(ip: str, headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "client": (ip, 50000),
                    "query_string": b""})


# -- one rule for every face --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("token", "proxies", "ip", "headers", "expected"), [
    (None, "", LOOPBACK, {}, None),
    (None, "", "192.0.2.2", {}, 403),  # another machine
    (None, "", LOOPBACK, {"Host": "attacker.example:7860"}, 403),  # DNS rebinding
    (None, "", LOOPBACK, {"Origin": "https://evil.example"}, 403),  # a page in the browser
    (None, "127.0.0.1", LOOPBACK, {}, 403),  # a trusted proxy speaks for its clients, never for this machine
    (TOKEN, "", REMOTE, {}, 401),
    (TOKEN, "", REMOTE, {"Authorization": f"Bearer {TOKEN}"}, None),
    (TOKEN, "", REMOTE, {"Authorization": "Bearer nope"}, 403),
    (TOKEN, "", REMOTE, {"Cookie": f"{TOKEN_COOKIE}={quote(TOKEN)}", "Origin": "http://127.0.0.1:7860"}, None),
    (TOKEN, "", REMOTE, {"Cookie": f"{TOKEN_COOKIE}={quote(TOKEN)}"}, None),
    (TOKEN, "", REMOTE, {"Cookie": f"{TOKEN_COOKIE}={quote(TOKEN)}", "Origin": "https://evil.example"}, 403),
    (TOKEN, "", REMOTE, {"Cookie": f"{TOKEN_COOKIE}=nope"}, 403),
])
def test_one_admin_rule_for_fastapi_and_gradio_requests(tmp_path: Path, token: str | None, proxies: str, ip: str,
                                                         headers: dict[str, str], expected: int | None) -> None:
    settings = make_settings(tmp_path, admin_token=token, trusted_proxies=proxies)
    sent = {"Host": "127.0.0.1:7860", **headers}
    api = status_of(lambda: require_admin(starlette_request(ip, sent), settings))
    ui = status_of(lambda: require_admin(request_from(ip, host=sent.pop("Host"), **sent), settings))
    assert api == ui == expected


@pytest.fixture
def sink(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite")


def story(tmp_path: Path, name: str = "harbour.txt") -> str:
    """A fresh copy of the story, as Gradio hands an uploaded file over: in a folder of its own."""
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / name
    path.write_text(STORY)
    return str(path)


def test_ui_add_and_remove_follow_the_api_rule(engine: Engine, sink: FeedbackStore, tmp_path: Path) -> None:
    act = UIActions(engine, sink)  # no token set: writes only from this machine
    for request in (request_from(REMOTE), request_from(host="attacker.example:7860"),
                    request_from(origin="https://evil.example")):
        summary, *_ = act.ingest([story(tmp_path)], request)
        assert summary.startswith("error: Read-only: articles can be added or removed only from the server's own")
        note, token_row, upload_box, removal = act.articles_access(request)
        assert note["visible"] and note["value"] == LOCAL_ONLY and not token_row["visible"]
        assert not upload_box["visible"] and not removal["visible"]
    assert engine.articles() == []
    summary, _, rows = act.ingest([story(tmp_path)], request_from())
    assert summary.startswith("added 1") and [r[0] for r in rows] == ["harbour"]
    assert act.articles_access(request_from())[2]["visible"]
    assert act.remove("harbour", request_from(REMOTE))[0].startswith("error: Read-only")
    assert act.remove("harbour", request_from())[0] == "removed harbour"

    guarded = UIActions(engine, sink, UIAccess.standalone(engine.settings.model_copy(update={"admin_token": TOKEN})))
    for request, why in [(request_from(REMOTE), NEED_TOKEN), (request_from(REMOTE, authorization="Bearer no"),
                                                              WRONG_TOKEN),
                         (request_from(), NEED_TOKEN)]:  # with a token set, loopback needs it too
        assert guarded.ingest([story(tmp_path, "again.txt")], request)[0].startswith("error: Read-only")
        note, token_row, upload_box, _ = guarded.articles_access(request)
        assert note["value"] == why and token_row["visible"] and not upload_box["visible"]
    assert engine.articles() == []
    with_cookie = request_from(REMOTE, cookie=f"{TOKEN_COOKIE}={quote(TOKEN)}")
    assert guarded.ingest([story(tmp_path, "last.txt")], with_cookie)[0].startswith("added 1")
    assert guarded.articles_access(with_cookie)[2]["visible"]


# -- start-up -----------------------------------------------------------------------------------------------------
def test_requests_before_the_warm_up_get_503_with_retry_after(sample_engine: Engine, sink: FeedbackStore,
                                                                tmp_path: Path) -> None:
    startup = Startup()
    c = TestClient(create_app(sample_engine, sample_engine.settings, startup=startup),
                   base_url="http://127.0.0.1:7860", client=(LOOPBACK, 50000))
    chat = {"model": "newsrag", "messages": [{"role": "user", "content": KERRY}]}
    for r in (c.get("/readyz"), c.post("/api/ask", json={"question": KERRY}), c.delete("/api/articles/x")):
        assert r.status_code == 503 and r.json() == {"error": STARTING} and r.headers["retry-after"] == "2"
    r = c.post("/v1/chat/completions", json=chat)  # OpenAI's shape, as everywhere under /v1
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    assert r.json() == {"error": {"message": STARTING, "type": "server_error", "param": None,
                                  "code": "service_unavailable"}}
    assert c.get("/healthz").status_code == 200 and c.get("/widget.js").status_code == 200
    act = UIActions(sample_engine, sink, dataclasses.replace(UIAccess.standalone(sample_engine.settings),
                                                             startup=startup))
    *_, (_, chat_out, _, _) = act.respond(KERRY, [], [], "extractive", 6, request_from())
    assert STARTING in chat_out[-1]["content"]
    assert act.ingest([story(tmp_path)], request_from())[0] == f"error: {STARTING}"
    startup.finish()
    assert c.get("/readyz").status_code == 200 and c.post("/api/ask", json={"question": KERRY}).status_code == 200


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**base, "NEWSRAG_EMBEDDER": "hash", **env})


def test_serve_refuses_a_non_loopback_bind_with_writes_open(tmp_path: Path) -> None:
    env = {"NEWSRAG_DATA_DIR": str(tmp_path / "data")}
    done = run_cli(["serve", "--host", "0.0.0.0", "--port", "0"], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "NEWSRAG_ADMIN_TOKEN" in done.stderr and "--allow-open-writes" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = run_cli(["serve", "--port", "0"], {**env, "NEWSRAG_TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, tmp_path)
    assert done.returncode == 2 and "NEWSRAG_TRUSTED_PROXIES: 'nginx' is not an IP address" in done.stderr


# -- real servers, reached as another machine ---------------------------------------------------------------------
LAN = lan_address()
needs_lan = pytest.mark.skipif(LAN is None, reason="this host has no non-loopback address (hostname -I)")


@contextmanager
def served(tmp_path_factory: pytest.TempPathFactory, name: str, env: dict[str, str],
           args: tuple[str, ...] = ()) -> Iterator[tuple[Server, Path]]:
    data = tmp_path_factory.mktemp(name) / "data"
    assert build_engine(make_settings(data)).ingest([SAMPLE_DIR]).added
    temp = data.parent / "gradio-tmp"
    with newsrag_serve(data, {"GRADIO_TEMP_DIR": str(temp), **env}, args=args) as server:
        yield server, temp


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """`--host 0.0.0.0` with a token, 5 questions a minute, files up to 1 MB."""
    with served(tmp_path_factory, "guarded", {"NEWSRAG_ADMIN_TOKEN": TOKEN, "NEWSRAG_RATE_LIMIT_PER_MINUTE": "5",
                                              "NEWSRAG_MAX_FILE_MB": "1"}, ("--host", "0.0.0.0")) as server:
        yield server


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """On loopback behind a "proxy" at 127.0.0.1 (NEWSRAG_TRUSTED_PROXIES), no token, 5 questions a minute."""
    with served(tmp_path_factory, "proxied", {"NEWSRAG_TRUSTED_PROXIES": "127.0.0.1",
                                              "NEWSRAG_RATE_LIMIT_PER_MINUTE": "5"}) as server:
        yield server


@pytest.fixture(scope="module")
def open_writes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """`--host 0.0.0.0 --allow-open-writes`: no token, so writes only from this machine."""
    with served(tmp_path_factory, "open", {}, ("--host", "0.0.0.0", "--allow-open-writes")) as server:
        yield server


def remote(server: Server, **headers: str) -> httpx.Client:
    assert LAN is not None
    return http(server.url.replace("127.0.0.1", LAN), local_address=LAN, **headers)


def ids(server: Server) -> list[str]:
    return [a["id"] for a in httpx.get(server.url + "/api/articles").json()["articles"]]


@pytest.mark.slow
@needs_lan
def test_gradio_writes_from_another_machine_need_the_token(guarded: tuple[Server, Path], tmp_path: Path) -> None:
    from gradio_client import Client

    server, _ = guarded
    (tmp_path / "planted.txt").write_text(STORY)
    with remote(server) as anyone, remote(server, authorization=f"Bearer {TOKEN}") as admin:
        assert upload(anyone, tmp_path / "planted.txt").status_code == 401
        assert upload(remote(server, cookie=f"{TOKEN_COOKIE}=nope"), tmp_path / "planted.txt").status_code == 403
        stored = upload(admin, tmp_path / "planted.txt")
        assert stored.status_code == 200
        files = [file_data(stored.json()[0])]
        out = call(anyone, "ingest", [files, ""])  # the handler by its fn_index: hidden or not, any client can call it
        assert out[0].startswith("error: Read-only: adding or removing articles needs the admin token"), out[0]
        assert "planted" not in ids(server)
        assert call(admin, "ingest", [files, ""])[0].startswith("added 1")
        assert "planted" in ids(server)
        assert call(anyone, "remove", ["planted", ""])[0].startswith("error: Read-only")
        assert "planted" in ids(server)
        assert call(admin, "remove", ["planted", ""])[0] == "removed planted"
        api = Client(str(anyone.base_url), verbose=False).view_api(return_format="dict", print_info=False)
        assert not {"/ingest", "/remove"} & set(api["named_endpoints"])  # not advertised either


@pytest.mark.slow
@needs_lan
def test_gradio_upload_respects_max_file_mb(guarded: tuple[Server, Path], tmp_path: Path) -> None:
    server, temp = guarded
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 3_000_000)  # the limit is 1 MB here
    with remote(server, authorization=f"Bearer {TOKEN}") as admin:
        r = upload(admin, big)
    assert r.status_code == 413 and "maximum allowed size" in r.text
    kept = [p for p in temp.rglob("*") if p.is_file() and p.stat().st_size >= 1_000_000]
    assert kept == [], "the oversize file stayed in Gradio's temp folder"


@pytest.mark.slow
@needs_lan
def test_every_answering_face_shares_one_rate_limit(guarded: tuple[Server, Path]) -> None:
    from gradio_client import Client

    server, _ = guarded
    with remote(server) as c:
        ui = Client(str(c.base_url), verbose=False)
        replies = [str(ui.predict(KERRY, [], "extractive", 6, api_name="/respond")[1][-1]) for _ in range(6)]
        answered = sum("cannot be defeated" in r for r in replies)
        rater = ui.predict(KERRY, "dana", api_name="/ask")  # the Evaluate tab's Ask
        api = c.post("/api/ask", json={"question": KERRY})
    print(f"\n/respond from {LAN}: {answered} of 6 answered at 5 a minute; then /ask and /api/ask: {api.status_code}")
    assert answered == 5 and TOO_MANY in replies[-1]
    assert TOO_MANY in str(rater[-1])
    assert api.status_code == 429 and api.json()["error"] == TOO_MANY


@pytest.mark.slow
def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(guarded: tuple[Server, Path],
                                                              proxied: tuple[Server, Path]) -> None:
    server, _ = guarded  # NEWSRAG_TRUSTED_PROXIES unset
    with http(server.url) as c:  # from 127.0.0.1, which uvicorn's default trusts to say who the client is
        codes = Counter(c.post("/api/ask", json={"question": KERRY}, headers={"X-Forwarded-For": f"10.0.0.{i}"})
                        .status_code for i in range(8))
    print(f"\n8 asks from 127.0.0.1, each with its own X-Forwarded-For: {dict(codes)}")
    assert codes == {200: 5, 429: 3}

    with http(proxied[0].url) as c:
        def ask(client_ip: str) -> int:
            return c.post("/api/ask", json={"question": KERRY}, headers={"X-Forwarded-For": client_ip}).status_code

        assert [ask("10.0.0.1") for _ in range(6)] == [200] * 5 + [429]
        assert ask("10.0.0.2") == 200  # the proxy's other client has its own budget
        article = [("files", ("a.txt", STORY.encode()))]
        forwarded = c.post("/api/articles", files=article, headers={"X-Forwarded-For": REMOTE})
        direct = c.post("/api/articles", files=article)  # no X-Forwarded-For: still the proxy, not this machine
        assert forwarded.status_code == 403 and direct.status_code == 403, (forwarded.text, direct.text)


@pytest.mark.slow
@needs_lan
def test_without_a_token_gradio_writes_come_only_from_this_machine(open_writes: tuple[Server, Path],
                                                                   tmp_path: Path) -> None:
    server, _ = open_writes
    (tmp_path / "planted.txt").write_text(STORY)
    with remote(server) as anyone, http(server.url) as local:
        assert upload(anyone, tmp_path / "planted.txt").status_code == 403
        stored = upload(local, tmp_path / "planted.txt")
        files = [file_data(stored.json()[0])]
        assert call(anyone, "ingest", [files, ""])[0].startswith("error: Read-only: articles can be added or removed")
        assert anyone.post("/api/articles", files=[("files", ("b.txt", STORY.encode()))]).status_code == 403
        assert "planted" not in ids(server)
        assert call(local, "ingest", [files, ""])[0].startswith("added 1")
        assert call(anyone, "remove", ["planted", ""])[0].startswith("error: Read-only")
        assert call(local, "remove", ["planted", ""])[0] == "removed planted"


@pytest.mark.slow
def test_early_requests_get_503_with_retry_after_never_500(tmp_path: Path) -> None:
    """The real model makes the warm-up last long enough for requests to arrive during it (3 of 3 starts failed
    before the fix); `--port 0` checks that the start-up message names the port really used."""
    data = tmp_path / "data"
    env = {"NEWSRAG_DATA_DIR": str(data), "NEWSRAG_EMBEDDER": "minilm", "NEWSRAG_MODEL_CACHE_DIR": str(MODEL_CACHE)}
    assert run_cli(["ingest", str(SAMPLE_DIR)], env, tmp_path, timeout=600).returncode == 0
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    log = tmp_path / "serve.log"
    with log.open("w") as err_file:  # a file, not a pipe nobody reads while the server runs
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", "0"], cwd=tmp_path, text=True,
                                env={**base, **env}, stdout=subprocess.PIPE, stderr=err_file)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split("serving on ", 1)[1].split()[0]
        assert not url.endswith(":0"), line
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered /healthz"
                time.sleep(0.02)

        def early(path: str) -> httpx.Response:
            if path == "/readyz":
                return httpx.get(url + path, timeout=60)
            return httpx.post(url + path, json={"question": KERRY}, timeout=60)

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(early, ["/readyz", "/api/ask"] * 4))
        seen = Counter((r.url.path, r.status_code) for r in responses)
        print(f"\nearly requests: {dict(seen)}")
        for r in responses:
            assert r.status_code in (200, 503), (r.url.path, r.status_code, r.text)
            if r.status_code == 503:
                assert r.json() == {"error": STARTING} and r.headers["retry-after"] == "2"
        while (ready := httpx.get(url + "/readyz", timeout=60)).status_code == 503:
            assert time.monotonic() < deadline + 120, ready.text
            time.sleep(0.2)
        assert ready.status_code == 200 and httpx.post(url + "/api/ask", json={"question": KERRY}).status_code == 200
    finally:
        stop(proc, timeout=15)
    err = log.read_text()
    assert "Traceback" not in err and "not ready yet" not in err, err[-2000:]
