"""Failed sign-ins slow down their (principal, address) pair, counted in the database.

A staff user (by username) or an integration client (by client_id) gets a few free failures
from each address; every further failure from that address doubles the wait before the next
attempt from it is even checked (1, 2, 4 ... seconds, up to a cap). The owner signing in from
another address is never held back by someone else's failures. A second, much larger allowance
per principal across all addresses slows an attacker who spreads over many addresses; it only
ever delays, never by more than the cap. A success clears its pair.

Counts live in the `auth_failures` table, so every API process sees the same ones. A failure is
written in its own short transaction, so it stays even though the request answers an error.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crvshub.auth import repository
from crvshub.context import AppContext
from crvshub.db import Database, utcnow
from crvshub.settings import Settings

ALL_ADDRESSES = "*"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# How long a process trusts what it read about a pair before reading it again (token endpoint).
MEMO_SECONDS = 1.0
MEMO_MAX = 20_000
# One failure in this many also deletes the rows nobody has failed on for a while.
CLEANUP_ONE_IN = 100

Counts = dict[str, tuple[int, datetime]]


@dataclass(frozen=True)
class Key:
    """Whose failures: a subject ("user:<username>" or "client:<client_id>") and an address."""

    subject: str
    address: str


@dataclass(frozen=True)
class Policy:
    """Free failures per pair and per principal, the delay cap, and how long failures count."""

    free: int
    free_per_principal: int
    max_delay: float
    memory: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """Build the policy configured in settings."""
        return cls(
            free=settings.auth_free_failures,
            free_per_principal=settings.auth_free_failures_per_principal,
            max_delay=float(settings.auth_max_delay_seconds),
            memory=float(settings.auth_failure_memory_seconds),
        )


def delay_after(failures: int, free: int, cap: float) -> float:
    """Return the wait imposed by the latest of `failures` failures: 0, then 1, 2, 4 ... cap."""
    if failures <= free:
        return 0.0
    return min(cap, 2.0 ** min(failures - free - 1, 30))


def address_key(address: str | None) -> str:
    """Return the address a pair is counted under: IPv6 callers by their /64 network."""
    if not address:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def key_for(kind: str, principal: str, address: str | None) -> Key:
    """Return the key of a principal ("user" by username, "client" by client_id) and address."""
    name = principal.casefold() if kind == "user" else principal
    return Key(f"{kind}:{name[:128]}", address_key(address))


class Throttle:
    """Checks and records failed sign-ins for one application (every process shares the rows)."""

    def __init__(self, db: Database, policy: Policy, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.policy = policy
        self.clock = clock
        self._memo: dict[Key, tuple[Counts, float]] = {}
        self._lock = threading.Lock()

    def wait(self, counts: Counts, key: Key) -> float:
        """Return the seconds before the pair may try again (0: it may try now)."""
        now = self.clock()
        waits = [0.0]
        for address, free in ((key.address, self.policy.free),
                              (ALL_ADDRESSES, self.policy.free_per_principal)):
            failures, last = counts.get(address, (0, EPOCH))
            if failures and (now - last).total_seconds() < self.policy.memory:
                delay = delay_after(failures, free, self.policy.max_delay)
                waits.append(delay - (now - last).total_seconds())
        return max(waits)

    def remembered(self, key: Key) -> Counts | None:
        """Return the pair's counts read in the last second by this process, else None."""
        with self._lock:
            hit = self._memo.get(key)
        if hit is None or time.monotonic() - hit[1] >= MEMO_SECONDS:
            return None
        return hit[0]

    def read(self, session: Session, key: Key, *, stamp: float | None = None) -> Counts:
        """Read the pair's counts and its principal's (one indexed read) and remember them."""
        counts = repository.failure_counts(session, key.subject, (key.address, ALL_ADDRESSES))
        self._remember(key, counts, stamp)
        return counts

    def fail(self, key: Key) -> float:
        """Record a failure in its own transaction; return >0 if it came during a delay.

        A failure that arrives while the pair (or its principal) must still wait is not counted:
        another process let it through before it knew of the delay, and the caller answers
        429 with the returned wait instead of a plain failure.
        """
        with self.db.transaction() as session:
            now = self.clock()
            rows = repository.locked_failures(
                session, key.subject, (key.address, ALL_ADDRESSES), EPOCH)
            too_early = self.wait({a: (r.failures, r.last_failure_at) for a, r in rows.items()},
                                  key)
            if too_early <= 0:
                for row in rows.values():
                    fresh = (now - row.last_failure_at).total_seconds() < self.policy.memory
                    row.failures = row.failures + 1 if fresh else 1
                    row.last_failure_at = now
            if secrets.randbelow(CLEANUP_ONE_IN) == 0:
                session.flush()
                forgotten = now - timedelta(seconds=self.policy.memory)
                repository.drop_failures_before(session, forgotten)
            counts = {a: (r.failures, r.last_failure_at) for a, r in rows.items()}
        self._remember(key, counts)
        return too_early

    @staticmethod
    def had_failures(counts: Counts, key: Key) -> bool:
        """Tell whether the pair had failures when read (so a success must clear them)."""
        return counts.get(key.address, (0, EPOCH))[0] > 0

    def succeed(self, key: Key) -> None:
        """Clear the pair's failures after a success (its own short transaction)."""
        with self.db.transaction() as session:
            repository.clear_failures(session, key.subject, key.address)
        with self._lock:
            self._memo.pop(key, None)

    def _remember(self, key: Key, counts: Counts, stamp: float | None = None) -> None:
        with self._lock:
            if len(self._memo) >= MEMO_MAX:
                self._memo.clear()
            self._memo[key] = (counts, time.monotonic() if stamp is None else stamp)


def throttle_of(ctx: AppContext) -> Throttle:
    """Return the failure throttle of this application (built by the composition)."""
    return ctx.auth_throttle
