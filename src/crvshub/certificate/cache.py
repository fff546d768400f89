"""Per-process memory of recent verifications and the log of checks not yet written.

A certificate printed on paper is checked again and again (at a school gate, a clinic, a
passport office); most checks repeat one seen a moment ago. Answers are remembered for at most
`TTL_SECONDS`, so a revocation or correction shows on /verify within that time in every
process (a payload whose signature held is remembered longer: only its status is read again),
and the check log is written in batches (at most once per `FLUSH_SECONDS` per process,
in the transaction of the request that finds it due): a verification from memory opens no
database transaction at all.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TTL_SECONDS = 1.0
FLUSH_SECONDS = 1.0
MAX_ENTRIES = 10_000
MAX_PENDING = 500
MAX_SIGNED = 20_000


@dataclass(frozen=True)
class PendingCheck:
    """One verification to log."""

    certificate_id: str | None
    at: datetime
    ip: str | None
    outcome: str


class VerifyCache:
    """Recent answers by payload, and the checks waiting to be logged."""

    def __init__(self, *, ttl: float = TTL_SECONDS) -> None:
        self._ttl = ttl
        self._answers: dict[str, tuple[float, Any, str | None]] = {}
        self._pending: list[PendingCheck] = []
        self._flushed = time.monotonic()
        self._lock = threading.Lock()
        # Payloads whose signature held: a signature never stops holding (keys are never
        # deleted), so this outlives the TTL and a status refresh is one indexed read.
        self._signed: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def signed(self, jws: str, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Return the claims of a JWS whose signature held before, else `check()` (may raise)."""
        found = self._signed.get(jws)
        if found is not None:
            return found
        claims = check()
        with self._lock:
            self._signed[jws] = claims
            if len(self._signed) > MAX_SIGNED:
                self._signed.popitem(last=False)
        return claims

    def get(self, token: str) -> tuple[Any, str | None] | None:
        """Return a remembered (answer, certificate id), or None."""
        found = self._answers.get(token)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1], found[2]

    def put(self, token: str, answer: Any, certificate_id: str | None) -> None:
        """Remember an answer for the TTL."""
        with self._lock:
            if len(self._answers) >= MAX_ENTRIES:
                now = time.monotonic()
                self._answers = {k: v for k, v in self._answers.items() if v[0] >= now}
                if len(self._answers) >= MAX_ENTRIES:
                    self._answers.clear()
            self._answers[token] = (time.monotonic() + self._ttl, answer, certificate_id)

    def forget(self) -> None:
        """Drop every remembered answer (this process changed a certificate's status)."""
        with self._lock:
            self._answers.clear()

    def log(self, check: PendingCheck) -> list[PendingCheck]:
        """Queue a check; return the checks to write now (when due), else []."""
        with self._lock:
            self._pending.append(check)
            now = time.monotonic()
            if len(self._pending) < MAX_PENDING and now - self._flushed < FLUSH_SECONDS:
                return []
            due, self._pending = self._pending, []
            self._flushed = now
            return due

    def drain(self) -> list[PendingCheck]:
        """Return every queued check (tests, shutdown)."""
        with self._lock:
            due, self._pending = self._pending, []
            self._flushed = time.monotonic()
            return due
