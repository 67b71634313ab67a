"""One local model server per data dir: started on first use on a free loopback port, reused by later commands,
stopped by `newsrag llm-server stop` or by itself when idle.

The state file `<data dir>/llm-server.json` says which process serves which model on which port; a lock file
makes two commands that start at once share one server instead of starting two. A state file whose process is
gone (killed, rebooted) is ignored and replaced. Before signalling a pid, its command line is checked, so a pid
reused by an unrelated process is never killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from app.errors import NewsragError

STATE_FILE, LOG_FILE, LOCK_FILE = "llm-server.json", "llm-server.log", "llm-server.lock"
LAUNCHER = "app.answering.local.serve"


class LocalServerError(NewsragError):
    """The local model server could not be started or reached."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    port: int
    model: str
    alias: str
    threads: int
    ctx: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def is_ours(pid: int) -> bool:
    """pid is alive and runs our launcher (not an unrelated process that got a recycled pid)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return True  # no /proc (macOS): the alive check is all there is
    return LAUNCHER in cmdline


def health(port: int, timeout: float = 2.0) -> bool:
    """llama.cpp answers /health with 200 once the model is loaded (503 while loading)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(f"http://127.0.0.1:{port}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


class LocalServer:
    def __init__(self, data_dir: Path, model: Path, threads: int = 1, ctx: int = 4096, idle_minutes: float = 30.0,
                 alias: str = "newsrag-local", startup_timeout: float = 180.0):
        self.data_dir, self.model, self.threads, self.ctx = Path(data_dir), Path(model), threads, ctx
        self.idle_minutes, self.alias = idle_minutes, alias
        self.startup_timeout = startup_timeout
        self.state, self.log = self.data_dir / STATE_FILE, self.data_dir / LOG_FILE

    def ensure(self) -> ServerInfo:
        """The running server for this data dir and model, started if there is none (waits until it is ready)."""
        info = self.running()
        if info is not None and health(info.port):
            return info
        with self._locked():  # one starter at a time; a second command waits and then reuses its server
            info = self._read()
            if info is not None and is_ours(info.pid):
                if self._matches(info) and self._wait_ready(info, None):
                    return info
                self._terminate(info.pid)  # another model or settings, or alive but not answering: replace it
            self.state.unlink(missing_ok=True)
            return self._start()

    def running(self) -> ServerInfo | None:
        """The server the state file names, if its process is alive and serves this model with these settings."""
        info = self._read()
        return info if info is not None and is_ours(info.pid) and self._matches(info) else None

    def stop(self) -> ServerInfo | None:
        """Stop this data dir's server; returns what was stopped (None if nothing ran)."""
        with self._locked():
            info = self._read()
            self.state.unlink(missing_ok=True)
            if info is None or not is_ours(info.pid):
                return None
            self._terminate(info.pid)
            return info

    # -- internals -------------------------------------------------------------------------------------
    def _read(self) -> ServerInfo | None:
        try:
            return ServerInfo(**json.loads(self.state.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _matches(self, info: ServerInfo) -> bool:
        return (info.model, info.alias, info.threads, info.ctx) == (str(self.model.resolve()), self.alias,
                                                                    self.threads, self.ctx)

    def _start(self) -> ServerInfo:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        cmd = [sys.executable, "-m", LAUNCHER, "--model", str(self.model), "--alias", self.alias, "--port", str(port),
               "--threads", str(self.threads), "--ctx", str(self.ctx), "--idle-minutes", f"{self.idle_minutes:g}",
               "--state", str(self.state)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_project_root(), os.environ.get("PYTHONPATH"))
                                                            if p)}
        with self.log.open("ab") as log:
            # its own session: Ctrl-C in the terminal that started it does not reach it; it outlives the command
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True, cwd=self.data_dir)
        info = ServerInfo(pid=proc.pid, port=port, model=str(self.model.resolve()), alias=self.alias,
                          threads=self.threads, ctx=self.ctx)
        if not self._wait_ready(info, proc):
            self._terminate(proc.pid)
            raise LocalServerError(f"the local model server did not start (see {self.log}): {self._tail()}")
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(info)))
        tmp.replace(self.state)
        return info

    def _wait_ready(self, info: ServerInfo, proc: subprocess.Popen[bytes] | None) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if health(info.port):
                return True
            if proc is not None and proc.poll() is not None:
                return False
            if proc is None and not is_ours(info.pid):
                return False
            time.sleep(0.2)
        return False

    def _terminate(self, pid: int, grace: float = 10.0) -> None:
        if not is_ours(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _tail(self, n: int = 3) -> str:
        try:
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "no log"
        return " | ".join(lines[-n:])[-400:] or "no output"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / LOCK_FILE).open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    """Alive and not a zombie (a child we started and have not reaped still has a pid)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _project_root() -> str:
    """So the launcher imports this checkout's `app` even when newsrag runs from another directory."""
    return str(Path(__file__).resolve().parents[3])
