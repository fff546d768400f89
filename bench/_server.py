"""Start `crvshub serve` for a benchmark the README way, and wait until it answers."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

CRVSHUB = str(Path(sys.executable).parent / "crvshub")
# The server refuses to run without an operator key; a benchmark makes a throwaway one.
os.environ.setdefault("CRVSHUB_SECRET_KEY", secrets.token_urlsafe(48))


def start_serve(
    settings: dict[str, str], port: int, workers: int, *, cwd: Path | None = None,
    prepare: bool = False, timeout: float = 60.0,
) -> subprocess.Popen[bytes]:
    """Run (optionally `migrate` and `seed`, then) `crvshub serve`; return once /healthz is 200."""
    env = {**os.environ, **settings}
    if prepare:
        for step in ("migrate", "seed"):
            subprocess.run([CRVSHUB, step], env=env, cwd=cwd, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc = subprocess.Popen(
        [CRVSHUB, "serve", "--port", str(port), "--workers", str(workers)], env=env, cwd=cwd,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the CRVS Hub server did not start")
