"""The in-process location cache: the whole tree in memory, refreshed when any process writes.

Every write bumps the `locations` row of `cache_versions` in its own transaction. Each process
re-reads that counter at most every `CRVSHUB_LOCATION_CACHE_SECONDS` (1 s by default) and
reloads the tree when it changed; a process that commits a write re-checks at once (the
composition hooks `LocationCache.watch` on the session factory of the process's database).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from crvshub.db import Database
from crvshub.location import repository
from crvshub.location.domain import LocationView
from crvshub.location.fhir_mapping import identifiers, to_resource
from crvshub.text import normalize

if TYPE_CHECKING:
    from crvshub.context import AppContext

CACHE_KEY = "locations"
_CHANGED = "crvshub.locations_changed"
MEMO_SIZE = 512


@dataclass(frozen=True)
class Snapshot:
    """Every location at one cache version, with the indexes searches need."""

    version: int
    by_id: dict[str, LocationView]
    ordered: tuple[LocationView, ...]
    children: dict[str, tuple[str, ...]]
    resources: Mapping[str, dict[str, Any]] = field(repr=False)
    name_keys: dict[str, frozenset[str]] = field(repr=False)
    identifiers: dict[str, tuple[tuple[str, str], ...]] = field(repr=False)

    def get(self, location_id: str) -> LocationView | None:
        """Return a location by id."""
        return self.by_id.get(location_id)

    def descendants(self, location_id: str) -> list[LocationView]:
        """Return every location below one, at every level, breadth first."""
        found: list[LocationView] = []
        queue = list(self.children.get(location_id, ()))
        while queue:
            child = self.by_id[queue.pop(0)]
            found.append(child)
            queue.extend(self.children.get(child.id, ()))
        return found

    def ancestors(self, location_id: str) -> list[LocationView]:
        """Return the ancestors of a location, root first."""
        view = self.by_id.get(location_id)
        if view is None:
            return []
        return [self.by_id[a] for a in view.ancestor_ids if a in self.by_id]


class LazyResources(Mapping[str, dict[str, Any]]):
    """The FHIR Location resource of each location, built on first use and then kept.

    Building all of them up front cost a third of a second per reload on the default country,
    paid by whichever request came first; most requests need a handful.
    """

    def __init__(self, by_id: dict[str, LocationView]) -> None:
        self._by_id = by_id
        self._built: dict[str, dict[str, Any]] = {}

    def __getitem__(self, location_id: str) -> dict[str, Any]:
        built = self._built.get(location_id)
        if built is None:
            built = to_resource(self._by_id[location_id], self._by_id.get)
            self._built[location_id] = built  # a racing thread builds the same value
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)


def build_snapshot(version: int, views: Iterable[LocationView]) -> Snapshot:
    """Index a set of locations."""
    by_id = {view.id: view for view in views}
    ordered = tuple(sorted(by_id.values(), key=lambda v: (v.name_norm, v.id)))
    children: dict[str, list[str]] = {}
    for view in ordered:
        children.setdefault(view.part_of_id or "", []).append(view.id)
    return Snapshot(
        version=version,
        by_id=by_id,
        ordered=ordered,
        children={k: tuple(v) for k, v in children.items()},
        resources=LazyResources(by_id),
        name_keys={
            v.id: frozenset({v.name_norm, *(normalize(a) for a in v.alias)}) for v in ordered
        },
        identifiers={
            v.id: tuple((i["system"], i["value"]) for i in identifiers(v)) for v in ordered
        },
    )


class LocationCache:
    """One process's copy of the location tree."""

    def __init__(self, db: Database, ttl_seconds: float) -> None:
        self.db = db
        self._reader = _read_sessions(db)
        self.ttl = ttl_seconds
        self._snapshot: Snapshot | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._memo: dict[tuple[object, ...], bytes] = {}

    def snapshot(self) -> Snapshot:
        """Return the current snapshot, re-checking the version counter when due."""
        current = self._snapshot
        if current is not None and time.monotonic() - self._checked_at < self.ttl:
            return current
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._checked_at >= self.ttl:
                self._refresh()
            assert self._snapshot is not None
            return self._snapshot

    def rendered(self, key: tuple[str, ...], build: Callable[[Snapshot], bytes]) -> bytes:
        """Return a response body built from the current snapshot, memoised per version."""
        snapshot = self.snapshot()
        memo_key = (snapshot.version, *key)
        body = self._memo.get(memo_key)
        if body is None:
            body = build(snapshot)
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            self._memo[memo_key] = body
        return body

    def invalidate(self) -> None:
        """Make the next read re-check the version counter."""
        self._checked_at = float("-inf")

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Re-check after every commit of these sessions that changed a location."""
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_soft_rollback", _after_rollback)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            self.invalidate()

    def _refresh(self) -> None:
        checked = time.monotonic()
        with self._reader() as session:
            # Read the counter first: rows committed after it only cause one extra reload.
            version = repository.cache_version(session, CACHE_KEY)
            if self._snapshot is None or self._snapshot.version != version:
                rows = repository.all_locations(session)
                self._snapshot = build_snapshot(version, [row.view() for row in rows])
            session.rollback()
        self._checked_at = checked


def _read_sessions(db: Database) -> sessionmaker[Session]:
    if not db.url.startswith("sqlite"):
        return db.sessionmaker
    # SQLite sessions of the app take the write lock at BEGIN; the cache only reads, and in WAL
    # mode plain reads never wait for a writer (so a write request can refresh it safely).
    engine = create_engine(
        db.url, connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None}
    )
    return sessionmaker(engine, expire_on_commit=False)


def cache_for(ctx: AppContext) -> LocationCache:
    """Return the location cache of an application context."""
    return ctx.location_cache


def mark_changed(session: Session) -> None:
    """Bump the cache version in this transaction; this process re-checks after the commit."""
    repository.bump_cache_version(session, CACHE_KEY)
    session.info[_CHANGED] = True


def _after_rollback(session: Session, *_args: Any) -> None:
    session.info.pop(_CHANGED, None)
