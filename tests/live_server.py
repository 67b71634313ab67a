"""Real servers on loopback for the tests: uvicorn in a thread on a pre-bound free port, and a static file server."""

from __future__ import annotations

import functools
import http.server
import ipaddress
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket on a free port (bound now, so no other test can take the port meanwhile)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def lan_address() -> str | None:
    """This host's first non-loopback IPv4 address (`hostname -I`). A server bound to 0.0.0.0 is reached on it as
    from another machine of the network (the client's address is not loopback) without leaving this one."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for word in out.split():
        try:
            address = ipaddress.ip_address(word)
        except ValueError:
            continue
        if address.version == 4 and not address.is_loopback:
            return word
    return None


@contextmanager
def uvicorn_server(app: Any, sock: socket.socket | None = None, timeout: float = 30.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread; yields its base URL and stops it afterwards."""
    import uvicorn

    sock = sock or bound_socket()
    host, port = sock.getsockname()[:2]
    # proxy_headers=False: as `newsrag serve` runs it (uvicorn would trust X-Forwarded-For from 127.0.0.1)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server(directory: Path, sock: socket.socket | None = None) -> Iterator[str]:
    """http.server serving `directory` (the widget's host page) on loopback."""
    sock = sock or bound_socket()
    host, port = sock.getsockname()[:2]
    sock.close()  # http.server binds by address; the port was free a moment ago and SO_REUSEADDR is set
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
