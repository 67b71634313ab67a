"""Load against a real `newsrag serve` subprocess on loopback (hash embedder, the sample ingested, the default rate
limit of 30 questions a minute per client IP): 50 concurrent clients x 20 questions, each client from its own loopback
address; then one client over the rate limit; then LLM calls hanging past the timeout while extractive asks go on.
Prints the figures docs/reliability.md quotes. (tests/test_load.py is about loading article files.)"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.engine import build_engine
from app.web.security import TOO_MANY
from tests.conftest import SAMPLE_DIR, make_settings
from tests.fake_openai import FakeOpenAI, Reply
from tests.loadgen import QUESTIONS, Result, Server, client, kind_of, newsrag_serve, percentile, request

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    sys.platform != "linux", reason="needs /proc for RSS and the whole 127.0.0.0/8 on loopback (Linux)")]

CLIENTS, QUESTIONS_EACH, RATINGS_EACH, WARM_UP_EACH = 50, 20, 2, 2
MAX_SECONDS = 180.0  # the 1,100 requests; generous because CI machines are shared (figures: docs/reliability.md)
RSS_GROWTH = 0.10  # after a concurrent warm-up; measured +1 to +4 % of ~235 MB. A server patched to keep every
# Answer (30 kB each) measured +12.9 %, which the 15 % first tried would have let through
LLM_TIMEOUT, HANG, LLM_ASKS = 1.5, 8.0, 4
Job = tuple[str, str]  # (kind, question)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, FakeOpenAI]]:
    data = tmp_path_factory.mktemp("load") / "data"
    assert build_engine(make_settings(data)).ingest([SAMPLE_DIR]).added
    with FakeOpenAI() as fake, newsrag_serve(data, {
            "NEWSRAG_LLM_BASE_URL": fake.base_url, "NEWSRAG_LLM_MODEL": "fake-model",
            "NEWSRAG_LLM_TIMEOUT": str(LLM_TIMEOUT), "NEWSRAG_RATE_LIMIT_PER_MINUTE": "30"}) as server:
        yield server, fake


def run_clients(url: str, ips: list[str], jobs: Callable[[int], list[Job]],
                answerer: str | None = None) -> list[Result]:
    """One thread per address, all at once; each sends its jobs in order and waits for each reply."""
    start = threading.Barrier(len(ips))

    def one(i: int) -> list[Result]:
        with client(url, ips[i]) as c:
            start.wait()
            return [request(c, kind, question, answerer) for kind, question in jobs(i)]

    with ThreadPoolExecutor(len(ips)) as pool:
        return [r for rs in pool.map(one, range(len(ips))) for r in rs]


def questions(i: int, n: int) -> list[Job]:
    return [(kind_of(j), QUESTIONS[(i + j) % len(QUESTIONS)]) for j in range(n)]


def main_jobs(i: int) -> list[Job]:
    jobs = questions(i, QUESTIONS_EACH)
    for k in range(RATINGS_EACH):  # a thumbs-up now and then: concurrent SQLite writes in the server
        jobs.insert((k + 1) * QUESTIONS_EACH // (RATINGS_EACH + 1), ("feedback", QUESTIONS[i % len(QUESTIONS)]))
    return jobs


def test_fifty_clients_twenty_questions_each(served: tuple[Server, FakeOpenAI]) -> None:
    server, _ = served
    ips = [f"127.0.1.{i + 1}" for i in range(CLIENTS)]
    warm = run_clients(server.url, ips, lambda i: questions(i, WARM_UP_EACH))  # threads, arenas, caches
    assert [r.error for r in warm if r.error] == []
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            samples.append((time.monotonic(), server.rss_mb()))

    rss_start = server.rss_mb()
    sampler = threading.Thread(target=sample, daemon=True)
    t0 = time.monotonic()
    sampler.start()
    results = run_clients(server.url, ips, main_jobs)
    elapsed = time.monotonic() - t0
    done.set()
    sampler.join()
    rss_end = server.rss_mb()
    rss_mid = min(samples, key=lambda s: abs(s[0] - (t0 + elapsed / 2)))[1] if samples else rss_end
    rss_peak = max([rss_end, *(s[1] for s in samples)])

    errors = [(r.kind, r.status, r.error) for r in results if r.error]
    asks = [r.seconds for r in results if r.kind != "feedback"]
    n_feedback = sum(r.kind == "feedback" for r in results)
    p50, p95, worst = percentile(asks, 50), percentile(asks, 95), max(asks)
    growth = rss_end / rss_start - 1
    print(f"\n{len(asks)} questions + {n_feedback} ratings from {CLIENTS} clients in {elapsed:.1f} s "
          f"({len(results) / elapsed:.0f} requests/s): {len(errors)} errors; latency p50 {p50 * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {worst * 1000:.0f} ms; server RSS {rss_start:.0f} MB after warm-up, "
          f"{rss_mid:.0f} MB midway, {rss_end:.0f} MB at the end (peak {rss_peak:.0f} MB, {growth:+.1%})")
    kinds = sorted({r.kind for r in results})
    p95s = [percentile([r.seconds for r in results if r.kind == k], 95) for k in kinds]
    print("p95 by kind: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in zip(kinds, p95s, strict=True)))
    assert errors == [], errors[:5]
    assert len(asks) == CLIENTS * QUESTIONS_EACH and n_feedback == CLIENTS * RATINGS_EACH
    assert elapsed < MAX_SECONDS
    assert growth < RSS_GROWTH, (rss_start, rss_mid, rss_end)
    with sqlite3.connect(server.data_dir / "feedback.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == n_feedback


def test_one_client_over_the_rate_limit_gets_429s(served: tuple[Server, FakeOpenAI]) -> None:
    server, _ = served
    same_ip = ["127.0.2.1"] * 8  # eight connections from one machine, 40 questions in all: 30 pass
    results = run_clients(server.url, same_ip, lambda i: questions(i, 5))
    statuses = Counter(r.status for r in results)
    limited = [r for r in results if r.status == 429]
    print(f"\nrate limit 30/min, one client sends 40: {dict(statuses)}")
    assert statuses == {200: 30, 429: 10}, statuses
    assert all(r.error and TOO_MANY in r.error for r in limited)
    with client(server.url, "127.0.2.1") as c:
        r = c.post("/api/ask", json={"question": "What did Kerry say?"})
        assert r.status_code == 429 and r.json() == {"error": TOO_MANY}
        assert 1 <= int(r.headers["retry-after"]) <= 60
    with client(server.url, "127.0.2.2") as c:  # the next machine is not affected
        assert c.post("/api/ask", json={"question": "What did Kerry say?"}).status_code == 200


def test_hanging_llm_falls_back_while_others_are_served(served: tuple[Server, FakeOpenAI]) -> None:
    server, fake = served
    fake.push(Reply(content="Kerry said the group cannot be defeated [1]."))  # the LLM path works, and is warm
    with client(server.url, "127.0.3.100") as c:
        r = request(c, "json", QUESTIONS[0], answerer="llm")
        assert r.error is None and not any("LLM unavailable" in n for n in r.body["notices"]), r
    fake.requests.clear()
    fake.push(*[Reply(hang=HANG)] * LLM_ASKS)
    pending = threading.Event()
    pending.set()
    extractive: list[Result] = []

    def llm_ask(i: int) -> Result:
        with client(server.url, f"127.0.3.{i + 1}") as c:
            return request(c, "json", QUESTIONS[0], answerer="llm")

    def keep_asking(i: int) -> None:
        with client(server.url, f"127.0.4.{i + 1}") as c:
            for _ in range(25):  # under the 30-a-minute limit even on a fast machine
                if not pending.is_set():
                    break
                extractive.append(request(c, "json", QUESTIONS[i % len(QUESTIONS)], answerer="extractive"))

    with ThreadPoolExecutor(LLM_ASKS + 8) as pool:
        others = [pool.submit(keep_asking, i) for i in range(8)]
        time.sleep(0.2)
        llm = list(pool.map(llm_ask, range(LLM_ASKS)))
        pending.clear()
        for f in others:
            f.result()
    served_meanwhile = [r.seconds for r in extractive]
    print(f"\nLLM hanging {HANG:g} s, timeout {LLM_TIMEOUT:g} s: {LLM_ASKS} fallbacks in "
          f"{min(r.seconds for r in llm):.1f}-{max(r.seconds for r in llm):.1f} s; meanwhile {len(extractive)} "
          f"extractive answers, p95 {percentile(served_meanwhile, 95) * 1000:.0f} ms, 0 errors")
    for r in llm:
        assert r.status == 200 and r.error is None and r.body["answerer"] == "extractive"
        assert r.body["notices"] == [f"LLM unavailable: no reply within {LLM_TIMEOUT:g} s; showing quotes instead"]
        assert LLM_TIMEOUT <= r.seconds < HANG - 2  # cut off by the timeout, not by the fake finally replying
    assert len(fake.requests) == LLM_ASKS  # one call per question, no retries piling up on a slow endpoint
    assert [r.error for r in extractive if r.error] == [] and len(extractive) >= 8
    assert percentile(served_meanwhile, 95) < LLM_TIMEOUT, "extractive asks waited behind the hanging LLM calls"


def test_serve_warms_up_the_llm_client(tmp_path: Path) -> None:
    """Importing openai takes seconds (7 s under this test's load): `newsrag serve` pays it at start, not the first
    user to ask the LLM."""
    from app.cli.web import _warm_up

    engine = build_engine(make_settings(tmp_path / "data", llm_base_url="http://127.0.0.1:9/v1", llm_model="m"))
    _warm_up(engine)
    assert "llm" in engine._answerers
