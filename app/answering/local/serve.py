"""The local model server process: llama.cpp's own OpenAI-compatible HTTP server (the `xllamacpp` package, a
prebuilt wheel: no compiler needed) on one loopback port, until SIGTERM or until it has been idle too long.

Started by app/answering/local/server.py (`python -m app.answering.local.serve --model M --port P ...`) in its
own session, so that it outlives the `newsrag ask` that started it and later commands reuse the loaded model.
It stops itself after --idle-minutes without a request (it holds ~1.3 GB of memory) and removes its state file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

IDLE_POLL_S = 20.0


def params(args: argparse.Namespace) -> Any:
    import xllamacpp as xlc  # imported here: a 100 MB native library, only in the server process

    p = xlc.CommonParams()
    p.model.path = str(args.model)
    p.model_alias = {args.alias}
    p.hostnames = ["127.0.0.1"]  # loopback only: the model is for this machine's newsrag, not the network
    p.port = args.port
    p.n_ctx = args.ctx
    p.n_parallel = 1  # one answer at a time: two would halve each one's speed on two cores
    p.cpuparams.n_threads = args.threads
    p.cpuparams_batch.n_threads = args.threads
    p.ui = False
    p.endpoint_metrics = True  # the idle watch reads the request counters
    return p


def activity(port: int) -> dict[str, float] | None:
    """llama.cpp's request counters from /metrics (None when they cannot be read)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^llamacpp:(\w+)\s+(\S+)$", text, re.M)}


def busy(before: dict[str, float] | None, now: dict[str, float] | None) -> bool:
    """A request is in flight, or one ran since the last look."""
    if now is None:
        return False
    return now.get("requests_processing", 0) > 0 or before != now


def remove_state(state: Path | None) -> None:
    """Remove the state file if it still names this process (a newer server may have replaced it)."""
    if state is None:
        return
    try:
        if json.loads(state.read_text()).get("pid") == os.getpid():
            state.unlink()
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.answering.local.serve")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--alias", default="newsrag-local")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--idle-minutes", type=float, default=0, help="stop after this long without a request (0: never)")
    ap.add_argument("--state", type=Path, help="the state file to remove on exit")
    args = ap.parse_args(argv)

    stop = {"now": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    import xllamacpp as xlc  # a 100 MB native library, only in the server process

    server = xlc.Server(params(args))  # loads the model and starts listening (in its own threads)
    print(f"listening on {server.listening_address}", flush=True)
    poll = min(IDLE_POLL_S, max(0.5, args.idle_minutes * 15))  # a few looks per idle period
    last, idle_since = activity(args.port), time.monotonic()
    next_look = idle_since + poll
    try:
        while not stop["now"]:
            time.sleep(0.5)
            if args.idle_minutes <= 0 or time.monotonic() < next_look:
                continue
            next_look = time.monotonic() + poll
            now = activity(args.port)
            if busy(last, now):
                last, idle_since = now, time.monotonic()
            elif time.monotonic() - idle_since >= args.idle_minutes * 60:
                print(f"idle for {args.idle_minutes:g} min: stopping", flush=True)
                break
    finally:
        remove_state(args.state)
    del server  # stops the HTTP server and frees the model
    return 0


if __name__ == "__main__":
    sys.exit(main())
