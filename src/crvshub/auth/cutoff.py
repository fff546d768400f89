"""Immediate cut-off: a one-second memory of whether a token's subject may still act."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from crvshub.auth import repository
from crvshub.context import AppContext

ACTIVE_CACHE_SECONDS = 1.0


class ActiveCache:
    """Remembers for one second whether a user or client is active (immediate cut-off)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[bool, float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def lookup(self, session: Session, kind: str, subject: str) -> tuple[bool, dict[str, Any]]:
        """Return (active, facts) for a subject, from the database at most once a second."""
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get((kind, subject))
        if hit and now - hit[1] < ACTIVE_CACHE_SECONDS:
            return hit[0], hit[2]
        active, facts = _load_subject(session, kind, subject)
        with self._lock:
            self._seen[(kind, subject)] = (active, now, facts)
        return active, facts

    def peek(self, kind: str, subject: str) -> tuple[bool, dict[str, Any]] | None:
        """Return (active, facts) if known from the last second, else None."""
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get((kind, subject))
        if hit and now - hit[1] < ACTIVE_CACHE_SECONDS:
            return hit[0], hit[2]
        return None

    def forget(self, kind: str, subject: str) -> None:
        """Drop a subject so the next request re-reads it (used after a status change)."""
        with self._lock:
            self._seen.pop((kind, subject), None)


def _load_subject(session: Session, kind: str, subject: str) -> tuple[bool, dict[str, Any]]:
    if kind == "client":
        client = repository.client_by_id(session, subject)
        if client is None:
            return False, {}
        return client.status == "active", {
            "name": client.name,
            "client_type": client.type,
            "client_id": client.client_id,
            "not_before": int(client.secret_rotated_at.timestamp()),
        }
    user = repository.user_by_id(session, subject)
    if user is None:
        return False, {}
    return user.status == "active", {
        "name": f"{user.given_names} {user.family_name}",
        "role": user.role,
        "office_id": user.office_id,
    }


def active_cache(ctx: AppContext) -> ActiveCache:
    """Return the active-status cache of this application."""
    cache: ActiveCache = ctx.extras.setdefault("active_cache", ActiveCache())
    return cache


def forget_now_and_after_commit(session: Session, ctx: AppContext, kind: str, subject: str) -> None:
    """Forget a subject at once and again when the transaction commits.

    The second forget closes the gap where a concurrent request re-reads the old status before
    this transaction commits and would otherwise keep it for a further second.
    """
    cache = active_cache(ctx)
    cache.forget(kind, subject)
    event.listen(session, "after_commit", lambda _s: cache.forget(kind, subject), once=True)
