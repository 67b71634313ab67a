"""Talking to the Gradio UI as any client can: a handler called by its fn_index over plain HTTP (what the page does,
and what a client can do with an endpoint hidden from the API page), the upload route, and the `gr.Request` a
handler receives, for calling handlers in-process."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

LOOPBACK = "127.0.0.1"


def request_from(ip: str = LOOPBACK, host: str = "127.0.0.1:7860", **headers: str) -> Any:
    """The `gr.Request` Gradio hands a handler for a client at `ip` that sent these headers (names with `_` for `-`)."""
    import gradio as gr

    sent = {"host": host, **{k.replace("_", "-").lower(): v for k, v in headers.items()}}
    return gr.Request(headers=sent, client={"host": ip, "port": 50000})


def http(url: str, local_address: str | None = None, timeout: float = 60.0, **headers: str) -> httpx.Client:
    """A client whose connections leave from `local_address` (e.g. this host's LAN address: "another machine")."""
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    return httpx.Client(base_url=url, timeout=timeout, transport=transport, headers=headers)


def fn_index(c: httpx.Client, api_name: str) -> int:
    """The handler's id in the page's config, whatever its api_visibility (the page needs them all)."""
    for dep in c.get("/config").json()["dependencies"]:
        if dep.get("api_name") == api_name:
            return int(dep["id"])
    raise LookupError(f"no Gradio handler named {api_name}")


def call(c: httpx.Client, api_name: str, data: list[Any]) -> list[Any]:
    """Run one handler through Gradio's queue (`/gradio_api/queue/join`, then its event stream); its outputs."""
    session = uuid.uuid4().hex[:12]
    r = c.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn_index(c, api_name),
                                               "session_hash": session, "event_data": None, "trigger_id": None})
    r.raise_for_status()
    with c.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success", True):
                        raise RuntimeError(f"{api_name} failed: {output}")
                    return list(output.get("data", []))
    raise RuntimeError(f"{api_name}: the event stream ended without a result")


def upload(c: httpx.Client, path: Path) -> httpx.Response:
    return c.post("/gradio_api/upload", files=[("files", (path.name, path.read_bytes()))])


def file_data(uploaded_path: str) -> dict[str, Any]:
    """How a handler's file input refers to a file the upload route stored."""
    return {"path": uploaded_path, "meta": {"_type": "gradio.FileData"}}
