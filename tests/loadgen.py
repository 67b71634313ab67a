"""Load-test helpers: a real `newsrag serve` in a subprocess (its RSS read from /proc), and HTTP clients that each
come from their own loopback address (127.0.x.y), as distinct machines would, so the per-IP rate limit applies to
each client as it would in production. Used by tests/test_server_load.py."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.live_server import bound_socket

KERRY = "What did Kerry say about Assad?"
QUESTIONS = [KERRY, "What did Sergei Lavrov say?", "How many civilians were reportedly killed in the raids?",
             "What did Ash Carter say about the Russian strikes?", "Where did the air strikes hit?",
             "What is the recipe for banana bread?", "What did the White House spokesman say?"]
HISTORY = [{"role": "user", "content": KERRY}, {"role": "assistant", "content": "Kerry said ... [1]"}]


@dataclass
class Server:
    url: str
    pid: int
    data_dir: Path
    log: Path

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc/<pid>/status (VmRSS, in kB)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for pid {self.pid}")


@contextmanager
def newsrag_serve(data_dir: Path, env: dict[str, str], timeout: float = 120.0,
                  args: tuple[str, ...] = ()) -> Iterator[Server]:
    """`python -m app.cli serve` on a free port (loopback unless `args` has `--host`); waits for /readyz; killed
    afterwards. `url` is always the loopback one."""
    sock = bound_socket("0.0.0.0")  # free on every interface, so free whatever --host says
    port = sock.getsockname()[1]
    sock.close()  # uvicorn binds by address; SO_REUSEADDR was set and the port was free a moment ago
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    full = {**base, "NEWSRAG_DATA_DIR": str(data_dir), "NEWSRAG_EMBEDDER": "hash", **env}
    log = data_dir.parent / "serve.log"
    with log.open("wb") as err:  # cwd: no stray .env is read
        proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args],
                                cwd=data_dir.parent, env=full, stdout=subprocess.DEVNULL, stderr=err)
    server = Server(f"http://127.0.0.1:{port}", proc.pid, data_dir, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"newsrag serve exited ({proc.returncode}): {log.read_text()[-2000:]}")
            try:
                if httpx.get(server.url + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"newsrag serve was not ready within {timeout:.0f} s")
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def client(url: str, ip: str, timeout: float = 60.0) -> httpx.Client:
    """An HTTP client whose connections come from `ip` (any 127.x.y.z reaches the server on 127.0.0.1)."""
    return httpx.Client(base_url=url, timeout=timeout, transport=httpx.HTTPTransport(local_address=ip))


@dataclass
class Result:
    kind: str
    status: int | None
    seconds: float
    error: str | None = None  # None: the response was what the kind promises
    body: Any = None


def request(c: httpx.Client, kind: str, question: str = KERRY, answerer: str | None = None) -> Result:
    """One request of a kind (json, sse, openai, follow-up, feedback), checked for what a client relies on."""
    t0 = time.perf_counter()
    try:
        r, body, error = _send(c, kind, question, answerer)
    except Exception as exc:
        return Result(kind, None, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")
    return Result(kind, r.status_code, time.perf_counter() - t0, error, body)


def _send(c: httpx.Client, kind: str, question: str, answerer: str | None) -> tuple[httpx.Response, Any, str | None]:
    if kind == "feedback":
        r = c.post("/api/feedback", json={"question": question, "answer_text": "Kerry said ... [1]", "rating": "up"})
        return r, None, None if r.status_code == 201 and isinstance(r.json().get("id"), int) else r.text[:200]
    if kind == "openai":
        messages = [{"role": "user", "content": question}]
        r = c.post("/v1/chat/completions", json={"model": "newsrag", "messages": messages})
        ok = r.status_code == 200 and r.json()["choices"][0]["message"]["content"] and "newsrag" in r.json()
        return r, None, None if ok else r.text[:200]
    payload: dict[str, Any] = {"question": question, **({"answerer": answerer} if answerer else {})}
    if kind == "follow-up":
        payload = {"question": "And Lavrov?", "history": HISTORY}
    headers = {"Accept": "text/event-stream"} if kind == "sse" else {}
    r = c.post("/api/ask", json=payload, headers=headers)
    if r.status_code != 200:
        return r, None, r.text[:200]
    answer = json.loads(r.text.rsplit("data: ", 1)[1])["answer"] if kind == "sse" else r.json()
    ok = answer["question"] and (answer["refused"] or answer["citations"])
    ok = ok and (kind != "follow-up" or "Lavrov" in (answer["rewritten_query"] or ""))
    return r, answer, None if ok and (kind != "sse" or "event: done" in r.text) else r.text[:200]


def kind_of(j: int) -> str:
    """The mix one client sends: of each 10 requests, 4 JSON asks, 2 streamed, 2 OpenAI-style, 2 follow-ups."""
    return ["json", "sse", "openai", "follow-up", "json", "json", "sse", "openai", "follow-up", "json"][j % 10]


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]
