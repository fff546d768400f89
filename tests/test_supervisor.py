"""`crvshub serve --workers N`: one listening socket per API process, restarts, graceful stop."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crvshub import supervisor
from tests.helpers import free_port, wait_for

CRVSHUB = str(Path(sys.executable).parent / "crvshub")
pytestmark = pytest.mark.skipif(not supervisor.reuse_port_supported(),
                                reason="SO_REUSEPORT is not available on this platform")


def test_connections_spread_over_the_listening_sockets() -> None:
    """The kernel hands new connections to every API process's socket, not to one of them."""
    port = free_port()
    listeners = [supervisor.bound_socket("127.0.0.1", port) for _ in range(2)]
    for sock in listeners:
        sock.listen(64)
        sock.setblocking(False)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    accepted = [0, 0]
    deadline = time.monotonic() + 5
    while sum(accepted) < len(clients) and time.monotonic() < deadline:
        for index, sock in enumerate(listeners):
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                continue
            conn.close()
            accepted[index] += 1
    for sock in [*clients, *listeners]:
        sock.close()
    assert sum(accepted) == 32
    assert min(accepted) >= 4, accepted  # an even spread, give or take the hash


def test_a_port_in_use_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(OSError, match="in use"):
            supervisor.bound_socket("127.0.0.1", taken.getsockname()[1]).close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _api_children(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            out.append(child)
    return out


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.slow
def test_serve_with_two_api_processes(database_url: str, tmp_path: Path) -> None:
    """Both processes serve; a killed one is replaced; SIGTERM stops everything in time."""
    port = free_port()
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([CRVSHUB, "serve", "--port", str(port), "--workers", "2"], env=env,
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc)
        wait_for(lambda: len(_api_children(proc.pid)) == 2, timeout=30)
        first = _api_children(proc.pid)

        # Keep-alive connections opened together land on both processes.
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                       for _ in range(24)]
        for conn in connections:
            conn.request("GET", "/healthz")
            assert conn.getresponse().read() == b'{"status":"ok"}'
        served_by = set()
        for conn in connections:
            assert conn.sock is not None
            local = conn.sock.getsockname()
            for pid in first:
                if _owns_connection(pid, local[1], port):
                    served_by.add(pid)
            conn.close()
        assert served_by == set(first)

        # A dead API process is replaced and the server keeps answering.
        os.kill(first[0], signal.SIGKILL)
        wait_for(lambda: len(_api_children(proc.pid)) == 2
                 and first[0] not in _api_children(proc.pid), timeout=30)
        _wait_ready(url, proc)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/healthz", timeout=1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _owns_connection(pid: int, client_port: int, server_port: int) -> bool:
    """Tell whether process `pid` holds the server side of the connection from client_port."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if (int(local.split(":")[1], 16) == server_port
                and int(remote.split(":")[1], 16) == client_port and inode in inodes):
            return True
    return False


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_serve_on_a_taken_port_says_so_and_exits_2(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run([CRVSHUB, "serve", "--port", str(port), "--workers", "2"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              check=False)
    assert done.returncode == 2
    assert f"error: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def _worker_children(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmdline and b"--parent-pid" in cmdline:
            out.append(child)
    return out


def _state(pid: int) -> str | None:
    """Return the process state letter (R, S, Z, ...), None once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _start_serve(database_url: str, tmp_path: Path, port: int,
                 **extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_LOG_LEVEL": "WARNING",
           "CRVSHUB_WORKER_HEARTBEAT_SECONDS": "0.5", "CRVSHUB_WORKER_STALE_SECONDS": "3",
           "CRVSHUB_PUBLIC_METRICS": "true", **extra}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([CRVSHUB, "serve", "--port", str(port), "--workers", "2"], env=env,
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait_ready(f"http://127.0.0.1:{port}", proc)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _ready_worker(url: str) -> int:
    try:
        return httpx.get(f"{url}/readyz?worker=1", timeout=2).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.slow
def test_a_stalled_or_killed_worker_shows_in_readyz_and_is_restarted(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start_serve(database_url, tmp_path, port)
    try:
        wait_for(lambda: len(_worker_children(proc.pid)) == 1, timeout=30)
        (first,) = _worker_children(proc.pid)
        wait_for(lambda: _ready_worker(url) == 200, timeout=30)

        os.kill(first, signal.SIGSTOP)  # stalled: alive but no longer working
        wait_for(lambda: _ready_worker(url) == 503, timeout=30)
        body = httpx.get(f"{url}/readyz?worker=1", timeout=2).json()
        assert "no outbox worker heartbeat" in body["worker"]["problems"][0]
        assert httpx.get(f"{url}/readyz", timeout=2).status_code == 200  # API-only readiness

        os.kill(first, signal.SIGKILL)  # dead: reaped and replaced
        wait_for(lambda: _state(first) is None, timeout=30)
        wait_for(lambda: len(_worker_children(proc.pid)) == 1, timeout=30)
        wait_for(lambda: _ready_worker(url) == 200, timeout=30)
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
        assert 'crvshub_process_restarts_total{kind="worker"} 1.0' in metrics
        assert proc.poll() is None
    finally:
        _stop(proc)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.slow
def test_api_processes_that_keep_dying_are_restarted_with_backoff(
    database_url: str, tmp_path: Path
) -> None:
    """Three deaths right after start (OOM kills) no longer stop the server for good."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start_serve(database_url, tmp_path, port, CRVSHUB_LOG_LEVEL="INFO")
    try:
        wait_for(lambda: len(_api_children(proc.pid)) == 2, timeout=30)
        seen = set(_api_children(proc.pid))
        victim = min(seen)
        for _ in range(3):  # kill a process, then its replacement as soon as it appears
            os.kill(victim, signal.SIGKILL)
            fresh = wait_for(lambda s=frozenset(seen): set(_api_children(proc.pid)) - s,
                             timeout=30)
            seen |= fresh
            (victim,) = fresh
        wait_for(lambda: len(_api_children(proc.pid)) == 2, timeout=30)
        assert proc.poll() is None
        _wait_ready(url, proc)
        wait_for(lambda: 'crvshub_process_restarts_total{kind="api"} 3.0'
                 in httpx.get(f"{url}/metrics", timeout=5).text, timeout=30)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
        assert proc.stderr is not None
        log = proc.stderr.read().decode()
        assert log.count('"process_died_restarting"') >= 3
        assert '"restart_in_seconds":2.0' in log  # the second quick death waited longer
    finally:
        _stop(proc)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.slow
def test_children_die_with_a_killed_serve_and_free_the_port(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    proc = _start_serve(database_url, tmp_path, port)
    try:
        wait_for(lambda: len(_api_children(proc.pid)) == 2
                 and len(_worker_children(proc.pid)) == 1, timeout=30)
        children = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # Zombies count as gone: whoever adopts them may reap them late.
        wait_for(lambda: all(_state(pid) in (None, "Z") for pid in children), timeout=40)
        supervisor.check_port_free("127.0.0.1", port)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        _stop(proc)


@pytest.mark.slow
def test_api_processes_that_cannot_start_at_all_stop_the_supervisor() -> None:
    """A fatal start (every API process exits by itself at once) is not retried forever."""
    options = {"app": "crvshub.no_such_module:create", "factory": True, "log_level": "critical"}
    runner = supervisor.Supervisor(options, "127.0.0.1", free_port(), 2)
    started = time.monotonic()
    assert runner.run() == 2
    assert time.monotonic() - started < 30
