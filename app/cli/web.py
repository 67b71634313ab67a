"""The web commands: `newsrag serve` and `newsrag feedback export`."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
import webbrowser
from typing import Any

from app.engine import Engine
from app.errors import NewsragError
from app.quality.feedback import FeedbackStore, feedback_path
from app.quality.jsonl import write_jsonl
from app.settings import Settings
from app.web import access_log, tokens
from app.web.security import is_loopback, trusted_proxies
from app.web.server import build_server, check_port, check_workers, listen_socket, url_for
from app.web.startup import Startup

GRACE_S = 10  # on Ctrl-C / SIGTERM, open requests (an answer streaming) get this long to finish
# how long a worker may take to answer the parent's health ping (uvicorn's default, 5 s, can pass while a worker
# imports and loads the model on a busy machine, and the parent then kills it as hung) and, on SIGHUP, to start
HEALTHCHECK_S = 30


def listen_address(settings: Settings, args: argparse.Namespace) -> tuple[str, int]:
    """--host/--port or the settings, refused when a non-loopback bind would leave writes open (no admin token):
    without one a write is taken from any client that looks local, and a reverse proxy on this machine (nginx's
    default rewrites Host and adds no X-Forwarded-For) makes every remote client look local."""
    host = getattr(args, "host", None) or settings.host
    port = args.port if getattr(args, "port", None) is not None else settings.port
    trusted_proxies(settings)  # a malformed NEWSRAG_TRUSTED_PROXIES stops the start, not the first request
    if not is_loopback(host) and not settings.admin_token and not getattr(args, "allow_open_writes", False):
        raise NewsragError(
            f"Refusing to listen on {host} with article uploads and deletes open: no NEWSRAG_ADMIN_TOKEN is set, so "
            "any client that looks local may write, and behind a reverse proxy on this machine every client does. "
            "Set NEWSRAG_ADMIN_TOKEN=<a long random secret> (writes then need `Authorization: Bearer <secret>`), or "
            "pass --allow-open-writes to accept that (see docs/reliability.md).")
    return host, port


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header handling: only from NEWSRAG_TRUSTED_PROXIES. (uvicorn's own default trusts
    X-Forwarded-For from 127.0.0.1, so any local client could pick the address the rate limit and the admin rule
    see, e.g. a new one per request.)"""
    proxies = trusted_proxies(settings)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}


def serve(engine: Engine, args: argparse.Namespace, open_browser: bool = False) -> int:
    import uvicorn  # uvicorn: only when serving

    settings = engine.settings
    host, port = listen_address(settings, args)
    workers = getattr(args, "workers", 1)
    check_workers(settings, workers)
    if workers > 1:
        check_port(host, port)
        return serve_workers(settings, host, port, workers, open_browser)
    sock = listen_socket(host, port)  # bound before the message, so it names the port really used (--port 0)
    port = sock.getsockname()[1]
    startup = Startup()
    app = build_server(settings, engine, startup=startup)
    url = url_for(host, port)
    print(f"newsrag is serving on {url}  (web UI: /, API docs: {url}/docs, widget: {url}/widget.js); "
          "Ctrl-C to stop", flush=True)
    threading.Thread(target=_warm_up, args=(engine, startup, url), daemon=True).start()
    if open_browser and has_display():
        threading.Thread(target=_open_when_up, args=(host, port, url), daemon=True).start()
    access_log.enable(settings.access_log)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=GRACE_S, **proxy_options(settings))
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def serve_many(settings: Settings, args: argparse.Namespace, open_browser: bool = False) -> int:
    """`newsrag serve --workers N` (N > 1): checked, then handed to the workers; the parent builds no engine."""
    host, port = listen_address(settings, args)
    check_workers(settings, args.workers)
    check_port(host, port)
    return serve_workers(settings, host, port, args.workers, open_browser)


def serve_workers(settings: Settings, host: str, port: int, workers: int, open_browser: bool) -> int:
    """N uvicorn worker processes accepting on one socket the parent binds. Each runs `app.web.server:worker_app` and so
    builds its own engine from the same Settings (environment, .env); the index they share lives on the Chroma
    server, the manifest and the keyword index in NEWSRAG_DATA_DIR. The parent restarts a worker that dies, replaces
    them one by one on SIGHUP, and on Ctrl-C or SIGTERM stops them all and waits for them."""
    import uvicorn  # uvicorn: only when serving

    url = url_for(host, port)
    print(f"newsrag is serving on {url} with {workers} worker processes (API docs: {url}/docs, widget: "
          f"{url}/widget.js; the chat UI needs a single worker); Ctrl-C to stop", flush=True)
    if open_browser and has_display():
        threading.Thread(target=_open_when_up, args=(host, port, url), daemon=True).start()
    uvicorn.run("app.web.server:worker_app", factory=True, host=host, port=port, workers=workers, log_level="warning",
                timeout_graceful_shutdown=GRACE_S, timeout_worker_healthcheck=HEALTHCHECK_S, **proxy_options(settings))
    return 0


def _warm_up(engine: Engine, startup: Startup | None = None, url: str | None = None) -> None:
    """Load the model and open the stores (and, when one is configured, the LLM client: importing openai takes
    seconds, longer under load) now, so the first question does not wait for them, and before any request touches
    them (`startup` holds those back until then: app/web/startup.py). A failure shows up at /readyz or in the answer."""
    try:
        engine.ready()
        tokens.encoding()  # /v1's token counter (~50 MB once): loaded now, not under the first burst of requests
        if engine.settings.llm_base_url and engine.settings.llm_model:
            engine.answerer("llm")
    except Exception as exc:
        where = url or url_for(engine.settings.host, engine.settings.port)
        print(f"warning: not ready yet: {exc} (see {where}/readyz)", file=sys.stderr)
    finally:
        if startup is not None:
            startup.finish()


def has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_when_up(host: str, port: int, url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    target = "127.0.0.1" if host in ("0.0.0.0", "") else host
    while time.monotonic() < deadline:
        try:
            socket.create_connection((target, port), timeout=1).close()
        except OSError:
            time.sleep(0.3)
            continue
        webbrowser.open(url)
        return


def feedback(engine: Engine, args: argparse.Namespace) -> int:
    """`newsrag feedback export [--output FILE]`: one JSON object per line, oldest first."""
    write_jsonl(FeedbackStore(feedback_path(engine.settings.data_dir)).export(), args.output, "feedback records")
    return 0


HANDLERS = {"serve": serve, "feedback": feedback}
