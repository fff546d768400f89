"""Per-process memory of verifications, kept current by a feed of status changes, and the log
of checks not yet written.

A certificate printed on paper is checked again and again (at a school gate, a clinic, a
passport office). A certificate's content never changes and a signature never stops holding
(keys are never deleted); only its status does (revoked, superseded), and every such change
sets the row's `status_at`. So each API process remembers its answers with no expiry, and at
most every `TTL_SECONDS` reads the status changes of the last `OVERLAP_SECONDS` (one indexed
query) and drops the answers they contradict: a revocation or a correction shows on /verify
within that time in every process, while a repeated check needs no database at all. The check
log is written in batches (at most `FLUSH_SECONDS` apart, or every `MAX_PENDING` checks).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TTL_SECONDS = 1.0
# A status change is looked for this long after it was stamped: longer than any transaction
# that stamps one takes to commit, so none is missed between two polls.
OVERLAP_SECONDS = 120.0
FLUSH_SECONDS = 1.0
MAX_ENTRIES = 20_000
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
    """Answers by payload, the status feed's position, and the checks waiting to be logged."""

    def __init__(self, *, ttl: float = TTL_SECONDS) -> None:
        self._ttl = ttl
        self._answers: dict[str, tuple[Any, str | None]] = {}
        self._tokens_of: dict[str, set[str]] = {}
        self._polled = -1e9
        self._pending: list[PendingCheck] = []
        self._flushed = time.monotonic()
        self._lock = threading.Lock()
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

    def poll_due(self) -> bool:
        """Tell whether the status feed must be read before answering from memory."""
        return time.monotonic() - self._polled >= self._ttl

    def apply(self, changes: Iterable[tuple[str, str]], started: float) -> None:
        """Drop the answers a (certificate or credential id, outcome) feed contradicts."""
        with self._lock:
            for certificate_id, outcome in changes:
                for token in self._tokens_of.get(certificate_id, set()).copy():
                    found = self._answers.get(token)
                    if found is not None and getattr(found[0], "outcome", None) != outcome:
                        self._drop(token, certificate_id)
            self._polled = max(self._polled, started)

    def _drop(self, token: str, certificate_id: str | None) -> None:
        self._answers.pop(token, None)
        if certificate_id is not None:
            tokens = self._tokens_of.get(certificate_id)
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del self._tokens_of[certificate_id]

    def get(self, token: str) -> tuple[Any, str | None] | None:
        """Return a remembered (answer, certificate id) while the feed is fresh, else None."""
        if self.poll_due():
            return None
        return self._answers.get(token)

    def put(self, token: str, answer: Any, certificate_id: str | None) -> None:
        """Remember an answer until the status feed contradicts it."""
        with self._lock:
            if len(self._answers) >= MAX_ENTRIES:
                self._answers.clear()
                self._tokens_of.clear()
            self._answers[token] = (answer, certificate_id)
            if certificate_id is not None:
                self._tokens_of.setdefault(certificate_id, set()).add(token)

    def forget(self) -> None:
        """Drop every remembered answer (this process changed a certificate's status)."""
        with self._lock:
            self._answers.clear()
            self._tokens_of.clear()

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
