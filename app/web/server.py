"""The whole web face in one app: the API (app/web/api.py) plus the Gradio UI (app/web/ui/blocks.py) mounted at `/`.

`newsrag serve --workers N` runs `worker_app` in N uvicorn worker processes instead: each builds its own engine from
the same Settings (environment and .env), and all share one index on a Chroma server (NEWSRAG_CHROMA_URL).
"""

from __future__ import annotations

import socket
import sys
import threading

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from app.engine import Engine, build_engine
from app.errors import NewsragError
from app.quality.feedback import FeedbackStore, feedback_path
from app.settings import Settings, go_offline
from app.web import access_log, tokens
from app.web.api import create_app
from app.web.startup import Startup

MB = 1_000_000  # as index/load.py counts NEWSRAG_MAX_FILE_MB

# Gradio keeps each chat session (its event queue) in the memory of one process, and the kernel hands a browser's
# connections to any worker, so the UI is left out when several workers share the port; this page says so.
API_ONLY = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>newsrag</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>newsrag</h1><p>This server runs several API worker processes, so the chat UI (which keeps each session in one
process) is not served here; run <code>newsrag serve</code> with one worker for it. The API and its docs are at
<a href="/docs">/docs</a>, and the embeddable chat widget at <a href="/widget.js">/widget.js</a>.</p></body></html>"""


def build_server(settings: Settings, engine: Engine | None = None, ui: bool = True,
                 startup: Startup | None = None) -> FastAPI:
    """create_app + the Gradio UI at `/` (or a page pointing at the API and the widget when `ui` is False).

    The UI's handlers get the API's rate limiters and write rule (app/web/ui/access.py), and Gradio's upload route the
    API's file size limit."""
    go_offline()  # before gradio is imported
    engine = engine or build_engine(settings)
    feedback = FeedbackStore(feedback_path(settings.data_dir))
    app = create_app(engine, settings, feedback, startup)
    if not ui:
        page = HTMLResponse(API_ONLY)

        async def api_only() -> HTMLResponse:
            return page

        app.add_api_route("/", api_only, methods=["GET"], include_in_schema=False)
        return app
    import gradio as gr  # gradio takes seconds to import: only the process that serves the UI pays for it

    from app.web.ui.access import UIAccess  # with the UI (gradio): only when the UI is served
    from app.web.ui.blocks import build_ui  # imports gradio (seconds): only the process that serves the UI pays for it

    ctx = app.state.newsrag
    access = UIAccess(settings, ctx.asks, ctx.feedback_limit, startup)
    mounted: FastAPI = gr.mount_gradio_app(app, build_ui(engine, feedback, access=access), path="/",
                                           max_file_size=int(settings.max_file_mb * MB))
    return mounted


def worker_app() -> FastAPI:
    """The app factory each `newsrag serve --workers N` process runs (uvicorn imports it by name): an engine of its
    own from Settings, the model loaded before the worker starts taking connections, no Gradio UI."""
    from tqdm import tqdm  # tqdm is imported only by the commands that show a bar

    # tqdm's default lock is a multiprocessing one: a named semaphore the parent's resource tracker would report as
    # leaked when the workers stop. The libraries' (disabled) progress bars need only a thread lock here.
    tqdm.set_lock(threading.RLock())
    engine = build_engine(Settings())
    access_log.enable(engine.settings.access_log)
    try:
        engine.ready()
        tokens.encoding()  # /v1's token counter, before the worker takes connections (app/web/tokens.py)
    except Exception as exc:  # reported at /readyz and in answers; the worker still serves /healthz
        print(f"warning: worker not ready yet: {exc}", file=sys.stderr)
    return build_server(engine.settings, engine, ui=False)


def check_workers(settings: Settings, workers: int) -> None:
    """Several processes may share an index only through a Chroma server: an embedded (on-disk) Chroma is not safe
    to open from more than one process."""
    if workers < 1:
        raise NewsragError(f"--workers must be 1 or more, not {workers}.")
    if workers > 1 and not settings.chroma_url:
        raise NewsragError(
            f"--workers {workers} needs a Chroma server: the embedded Chroma in {settings.data_dir} must not be "
            "opened by several processes. Start one with `chroma run --path DIR --port 8000` and set "
            "NEWSRAG_CHROMA_URL=http://127.0.0.1:8000 (then ingest again into it), or serve with --workers 1.")


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port for uvicorn (port 0: a free one; the caller reads which), or a useful message
    instead of uvicorn's traceback when the port is taken."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NewsragError(f"Cannot listen on {host}:{port} ({exc.strerror}): pass --port N or set "
                           "NEWSRAG_PORT.") from None
    return sock


def check_port(host: str, port: int) -> None:
    """Fail early when the port is taken (`--workers N`: uvicorn's parent binds it itself)."""
    listen_socket(host, port).close()


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
