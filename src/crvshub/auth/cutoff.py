"""Immediate cut-off: a one-second memory of whether a token's subject may still act."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from crvshub.auth import repository
from crvshub.auth.domain import creator_username
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
            "username": creator_username(client.created_by),
            "compat": client.compat_mode,
            "not_before": int(client.secret_rotated_at.timestamp()),
        }
    user = repository.user_by_id(session, subject)
    if user is None:
        return False, {}
    return user.status == "active", {
        "name": f"{user.given_names} {user.family_name}",
        "username": user.username,
        "role": user.role,
        "office_id": user.office_id,
        "must_change_password": user.must_change_password,
    }


def active_cache(ctx: AppContext) -> ActiveCache:
    """Return the active-status cache of this application."""
    return ctx.active_cache


def forget_now_and_after_commit(session: Session, ctx: AppContext, kind: str, subject: str) -> None:
    """Forget a subject at once and again when the transaction commits.

    The second forget closes the gap where a concurrent request re-reads the old status before
    this transaction commits and would otherwise keep it for a further second.
    """
    cache = active_cache(ctx)
    credentials = credential_cache(ctx)

    def forget(_session: Session | None = None) -> None:
        cache.forget(kind, subject)
        if kind == "client":
            credentials.forget_row(subject)

    forget()
    event.listen(session, "after_commit", forget, once=True)


@dataclass(frozen=True)
class ClientFacts:
    """What the token endpoint needs to know about a client, detached from any session."""

    id: str
    client_id: str
    type: str
    status: str
    secret_hash: str


class CredentialCache:
    """Client facts by client_id for one second, including "no such client".

    Known and unknown ids are cached alike, so a cached lookup says nothing about whether the
    id exists; a status change or new secret is seen by every process within the second.
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        self._seen: dict[str, tuple[ClientFacts | None, float]] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def lookup(self, session: Session, client_id: str) -> ClientFacts | None:
        """Return the facts of a client (None if unknown), from the database once a second."""
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(client_id)
        if hit and now - hit[1] < ACTIVE_CACHE_SECONDS:
            return hit[0]
        row = repository.client_by_client_id(session, client_id)
        facts = None if row is None else ClientFacts(
            row.id, row.client_id, row.type, row.status, row.secret_hash
        )
        with self._lock:
            if len(self._seen) >= self._max:
                self._seen.clear()
            self._seen[client_id] = (facts, now)
        return facts

    def peek(self, client_id: str) -> tuple[bool, ClientFacts | None]:
        """Return (True, facts) if known from the last second, else (False, None)."""
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(client_id)
        if hit and now - hit[1] < ACTIVE_CACHE_SECONDS:
            return True, hit[0]
        return False, None

    def forget_row(self, row_id: str) -> None:
        """Drop the entry of the client with this internal id."""
        with self._lock:
            for key, (facts, _at) in list(self._seen.items()):
                if facts is not None and facts.id == row_id:
                    del self._seen[key]


def credential_cache(ctx: AppContext) -> CredentialCache:
    """Return the client credential cache of this application."""
    return ctx.credential_cache
