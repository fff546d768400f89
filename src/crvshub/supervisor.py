"""Run the API in several processes that share the load evenly.

Hospital systems keep their HTTP connections open. When every API process accepts from one shared
listening socket, whichever process is idle at the moment a burst of connections arrives takes
all of them, and keeps them: one process saturates while the others wait. Here each API process
listens on its own socket bound to the same address with `SO_REUSEPORT`, and the kernel spreads
new connections evenly across them.

The supervisor holds a bound (not listening) socket on the address for as long as it runs, so
the port stays reserved, restarts an API process that dies, and stops them all gracefully on
SIGINT or SIGTERM.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import structlog

log = structlog.get_logger("crvshub.supervisor")

# A process that dies this soon after starting, twice in a row, is failing at start-up (bad
# configuration, database gone): stop instead of restarting it forever.
QUICK_DEATH_SECONDS = 5.0
BACKLOG = 2048


def reuse_port_supported() -> bool:
    """Tell whether this platform spreads connections over several listening sockets.

    Linux balances new connections across sockets bound with SO_REUSEPORT; macOS and the BSDs
    accept the option but hand every connection to one socket, so they keep uvicorn's own
    shared-socket mode.
    """
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bound_socket(host: str, port: int) -> socket.socket:
    """Return a TCP socket bound to host:port with SO_REUSEPORT (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_one(options: dict[str, Any], host: str, port: int) -> None:
    """Run one API process on its own listening socket (the target of each child process)."""
    import uvicorn

    sock = bound_socket(host, port)
    sock.listen(BACKLOG)
    uvicorn.Server(uvicorn.Config(**options)).run(sockets=[sock])


def _forget_metrics(pid: int | None) -> None:
    """Drop a dead process's live gauges from the merged metrics (multi-process mode)."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


@dataclass
class _Child:
    process: BaseProcess
    started: float = field(default_factory=time.monotonic)


class Supervisor:
    """Start `workers` API processes, keep them running, and stop them together."""

    def __init__(self, options: dict[str, Any], host: str, port: int, workers: int,
                 *, grace_seconds: float = 25.0) -> None:
        self.options = options
        self.host = host
        self.port = port
        self.workers = workers
        self.grace_seconds = grace_seconds
        self.stopping = threading.Event()
        self.children: list[_Child] = []
        self._context = multiprocessing.get_context("spawn")

    def _start_child(self) -> _Child:
        process = self._context.Process(
            target=serve_one, args=(self.options, self.host, self.port), name="crvshub-api",
        )
        process.start()
        return _Child(process)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; return the exit status."""
        reservation = bound_socket(self.host, self.port)
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        quick_deaths = 0
        status = 0
        try:
            self.children = [self._start_child() for _ in range(self.workers)]
            while not self.stopping.wait(0.5):
                for index, child in enumerate(self.children):
                    if child.process.is_alive():
                        continue
                    lived = time.monotonic() - child.started
                    quick_deaths = quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
                    log.error("api_process_died", pid=child.process.pid,
                              exitcode=child.process.exitcode, lived_seconds=round(lived, 1))
                    _forget_metrics(child.process.pid)
                    if quick_deaths >= 2:
                        log.error("api_processes_fail_at_start")
                        status = 1
                        self.stopping.set()
                        break
                    self.children[index] = self._start_child()
        finally:
            self._stop_all()
            reservation.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _stop_all(self) -> None:
        for child in self.children:
            if child.process.is_alive() and child.process.pid is not None:
                child.process.terminate()
        deadline = time.monotonic() + self.grace_seconds
        for child in self.children:
            child.process.join(max(0.0, deadline - time.monotonic()))
            if child.process.is_alive():
                child.process.kill()
                child.process.join()
