"""The whole web face in one app: the API (app/api.py) plus the Gradio UI (app/ui.py) mounted at `/`."""

from __future__ import annotations

import importlib
import importlib.util
import socket
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from app.api import create_app
from app.engine import Engine, build_engine
from app.feedback import FeedbackStore, feedback_path
from app.settings import Settings, go_offline

PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>newsrag</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>newsrag</h1><p>The web UI is coming. Meanwhile: the API and its docs are at <a href="/docs">/docs</a>,
and the embeddable chat widget at <a href="/widget.js">/widget.js</a>.</p></body></html>"""


def build_server(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """create_app + the Gradio UI at `/` (or a placeholder page until app/ui.py provides `build_ui`)."""
    go_offline()  # before gradio is imported
    engine = engine or build_engine(settings)
    feedback = FeedbackStore(feedback_path(settings.data_dir))
    app = create_app(engine, settings, feedback)
    build_ui = _ui_builder()
    if build_ui is None:
        app.add_api_route("/", _placeholder, methods=["GET"], include_in_schema=False)
        return app
    import gradio as gr

    mounted: FastAPI = gr.mount_gradio_app(app, build_ui(engine, feedback), path="/")
    return mounted


def _ui_builder() -> Any:
    if importlib.util.find_spec("app.ui") is None:
        return None
    return getattr(importlib.import_module("app.ui"), "build_ui", None)


async def _placeholder() -> HTMLResponse:
    return HTMLResponse(PLACEHOLDER)


def check_port(host: str, port: int) -> None:
    """Fail early with a useful message instead of uvicorn's traceback when the port is taken."""
    from app.errors import NewsragError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise NewsragError(f"Cannot listen on {host}:{port} ({exc.strerror}): pass --port N or set "
                               "NEWSRAG_PORT.") from None


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
