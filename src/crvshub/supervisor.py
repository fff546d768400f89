"""Run the API in several processes that share the load evenly, plus the outbox worker.

Hospital systems keep their HTTP connections open. When every API process accepts from one shared
listening socket, whichever process is idle at the moment a burst of connections arrives takes
all of them, and keeps them: one process saturates while the others wait. Here each API process
listens on its own socket bound to the same address with `SO_REUSEPORT`, and the kernel spreads
new connections evenly across them. Where the kernel does not balance such sockets (macOS, the
BSDs) or the port is chosen by the system (port 0), the processes share one listening socket.

The supervisor holds a bound (not listening) socket on the address for as long as it runs, so
the port stays reserved; restarts any process that dies (API or worker), with a backoff when it
keeps dying at start; and stops them all gracefully on SIGINT or SIGTERM. Its children stop by
themselves when the supervisor dies, even by SIGKILL (see `watch_parent`).

Restart rule: a process that dies is started again, at once if it had run for
`QUICK_DEATH_SECONDS` or more, otherwise after 1 s, 2 s, 4 s ... up to `MAX_BACKOFF_SECONDS`.
The one exception is an obviously fatal start: when every API process of the very first start
exits by itself (not by a signal) within `QUICK_DEATH_SECONDS`, the configuration or the code is
wrong, a restart cannot help, and the supervisor stops with status 2.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import structlog

log = structlog.get_logger("crvshub.supervisor")

QUICK_DEATH_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 30.0
BACKLOG = 2048
PR_SET_PDEATHSIG = 1
# An orphaned child that has not finished its graceful stop by then exits at once.
ORPHAN_GRACE_SECONDS = 30.0


def reuse_port_supported() -> bool:
    """Tell whether this platform spreads connections over several listening sockets.

    Linux balances new connections across sockets bound with SO_REUSEPORT; macOS and the BSDs
    accept the option but hand every connection to one socket, so they share one socket instead.
    """
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bound_socket(host: str, port: int, *, reuse_port: bool = True) -> socket.socket:
    """Return a TCP socket bound to host:port, with SO_REUSEPORT by default (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def check_port_free(host: str, port: int) -> None:
    """Raise OSError when another program (or another `serve`) already holds host:port.

    Binding without SO_REUSEPORT fails on a port that any socket listens on, including the
    SO_REUSEPORT sockets of a CRVS Hub already running there.
    """
    bound_socket(host, port, reuse_port=False).close()


def _set_parent_death_signal(signum: int) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies; tell if it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_orphaning(parent_pid: int, signalled: bool) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    if not signalled:
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(ORPHAN_GRACE_SECONDS)
    os._exit(1)


def watch_parent(parent_pid: int) -> None:
    """Stop this process gracefully when `parent_pid` (its supervisor) dies, even by SIGKILL.

    On Linux the kernel sends SIGTERM (parent-death signal); everywhere a thread also polls the
    parent id, sends SIGTERM where the kernel cannot, and exits hard if the stop hangs.
    """
    signalled = _set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_orphaning, args=(parent_pid, signalled),
                     name="parent-watch", daemon=True).start()


def _count_restart(kind: str) -> None:
    """Count a restart in the metrics the API processes publish (merged through files)."""
    from prometheus_client import values

    from crvshub.observability import PROCESS_RESTARTS

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and values.ValueClass is values.MutexValue:
        # The metrics module was imported before `serve` chose the folder: write there from now.
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    PROCESS_RESTARTS.labels(kind).inc()


def serve_one(options: dict[str, Any], host: str, port: int, parent_pid: int,
              shared: socket.socket | None = None) -> None:
    """Run one API process on its own listening socket (the target of each child process)."""
    import uvicorn

    watch_parent(parent_pid)
    sock = shared
    if sock is None:
        sock = bound_socket(host, port)
        sock.listen(BACKLOG)
    uvicorn.Server(uvicorn.Config(**options)).run(sockets=[sock])


def _forget_metrics(pid: int | None) -> None:
    """Drop a dead process's live gauges from the merged metrics (multi-process mode)."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class _Handle:
    """A child process started either by multiprocessing (API) or as a command (worker)."""

    def __init__(self, process: BaseProcess | subprocess.Popen[bytes]) -> None:
        self.process = process

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        """Tell whether the process runs (reaping it if it has exited)."""
        if isinstance(self.process, subprocess.Popen):
            return self.process.poll() is None
        return self.process.is_alive()

    @property
    def exitcode(self) -> int | None:
        """Return the exit status, negative for the signal that killed it, None if running."""
        if isinstance(self.process, subprocess.Popen):
            return self.process.returncode
        return self.process.exitcode

    def join(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the process to end."""
        if isinstance(self.process, subprocess.Popen):
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                return
        else:
            self.process.join(timeout)


@dataclass
class _Slot:
    """One place for a process of a kind; it keeps its restart history across restarts."""

    kind: str
    handle: _Handle | None = None
    started: float = 0.0
    starts: int = 0
    quick_deaths: int = 0
    restart_at: float = 0.0
    failed_first_start: bool = False
    stable: bool = False


@dataclass
class Supervisor:
    """Start `workers` API processes and optionally one outbox worker; keep them running."""

    options: dict[str, Any]
    host: str
    port: int
    workers: int
    with_worker: bool = False
    grace_seconds: float = 25.0
    stopping: threading.Event = field(default_factory=threading.Event)
    slots: list[_Slot] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._shared: socket.socket | None = None

    def _start(self, slot: _Slot) -> None:
        if slot.starts > 0:
            _count_restart(slot.kind)
        if slot.kind == "worker":
            command = [sys.executable, "-m", "crvshub", "worker", "--parent-pid", str(os.getpid())]
            handle = _Handle(subprocess.Popen(command))  # noqa: S603 (our own interpreter)
        else:
            process = self._context.Process(
                target=serve_one, name="crvshub-api",
                args=(self.options, self.host, self.port, os.getpid(), self._shared),
            )
            process.start()
            handle = _Handle(process)
        slot.handle, slot.started, slot.starts = handle, time.monotonic(), slot.starts + 1

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping.set()

    def _listen(self) -> socket.socket:
        """Reserve the port; in shared-socket mode that socket is the one children accept on."""
        if reuse_port_supported() and self.port != 0:
            return bound_socket(self.host, self.port)
        self._shared = bound_socket(self.host, self.port, reuse_port=False)
        self._shared.listen(BACKLOG)
        return self._shared

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; return the exit status (2: fatal start)."""
        reservation = self._listen()
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        status = 0
        try:
            kinds = ["api"] * self.workers + (["worker"] if self.with_worker else [])
            self.slots = [_Slot(kind) for kind in kinds]
            for slot in self.slots:
                self._start(slot)
            while not self.stopping.wait(0.5):
                status = self.tend()
                if status:
                    break
        finally:
            self._stop_all()
            reservation.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def tend(self) -> int:
        """Reap dead children and restart them when their backoff is over; 2 on fatal start."""
        now = time.monotonic()
        for slot in self.slots:
            handle = slot.handle
            if handle is not None and handle.alive():
                slot.stable = slot.stable or now - slot.started >= QUICK_DEATH_SECONDS
                continue
            if handle is not None:
                self._on_death(slot, handle, now)
            if now >= slot.restart_at and not self.stopping.is_set():
                self._start(slot)
        api = [slot for slot in self.slots if slot.kind == "api"]
        if api and all(slot.failed_first_start and not slot.stable for slot in api):
            log.error("api_processes_fail_at_start",
                      hint="every API process exited at its first start: check the log above")
            return 2
        return 0

    def _on_death(self, slot: _Slot, handle: _Handle, now: float) -> None:
        lived = now - slot.started
        code = handle.exitcode
        quick = lived < QUICK_DEATH_SECONDS
        slot.quick_deaths = slot.quick_deaths + 1 if quick else 0
        delay = min(MAX_BACKOFF_SECONDS, 2.0 ** (slot.quick_deaths - 1)) if quick else 0.0
        if slot.starts == 1 and quick and code is not None and code > 0:
            slot.failed_first_start = True
        slot.restart_at, slot.handle = now + delay, None
        _forget_metrics(handle.pid)
        log.error("process_died_restarting", kind=slot.kind, pid=handle.pid, exitcode=code,
                  lived_seconds=round(lived, 1), restart_in_seconds=delay,
                  restarts=slot.starts)

    def _stop_all(self) -> None:
        handles = [slot.handle for slot in self.slots if slot.handle is not None]
        for handle in handles:
            if handle.alive():
                handle.process.terminate()
        deadline = time.monotonic() + self.grace_seconds
        for handle in handles:
            handle.join(max(0.0, deadline - time.monotonic()))
            if handle.alive():
                handle.process.kill()
                handle.join(5.0)
