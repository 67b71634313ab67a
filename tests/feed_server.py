"""A loopback HTTP server for the feed and page tests: serves what a test puts in `routes`, answers conditional
GETs (ETag / Last-Modified) with 304, can be slow or redirect, and logs every request (path and headers).
Never the internet: it binds 127.0.0.1 on a free port and stops when the test ends."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: bool = True  # send an ETag (and answer If-None-Match with 304)
    last_modified: str | None = None  # send it (and answer If-Modified-Since with 304 when equal)
    delay_s: float = 0.0  # before the headers
    drip_s: float = 0.0  # between 1 KB pieces of the body
    location: str | None = None  # a redirect target (status 301/302)


@dataclass
class FeedServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def start(self) -> FeedServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                time.sleep(route.delay_s)
                tag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
                fresh = (route.etag and self.headers.get("If-None-Match") == tag) or (
                    route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified)
                self.send_response(304 if fresh else route.status)
                if route.etag:
                    self.send_header("ETag", tag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                if route.location:
                    self.send_header("Location", route.location)
                if fresh:
                    self.end_headers()
                    return
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    for i in range(0, len(route.body), 1024):
                        self.wfile.write(route.body[i:i + 1024])
                        self.wfile.flush()
                        time.sleep(route.drip_s)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a limit): fine
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
