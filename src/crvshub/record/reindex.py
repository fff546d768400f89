"""Rebuild the search columns and the search index of every record from its stored bundle.

Records are taken in id order, a batch at a time; each batch is one short transaction that
reads the bundles (locking those rows on PostgreSQL; SQLite takes its write lock at BEGIN),
recomputes their search columns and rewrites their index rows only. A record a request
changes meanwhile is either rewritten by that request's own transaction (it waits for the
batch, then indexes its new bundle) or read after it committed, so the index stays true
while the server serves. The vocabulary is only added to: running servers' caches stay valid.
"""

from __future__ import annotations

from collections.abc import Callable

from crvshub.db import Database
from crvshub.record import repository
from crvshub.record.domain import Event
from crvshub.record.search_columns import search_columns
from crvshub.search import service as search

Progress = Callable[[int, int], None]  # (done, total)


def reindex_batch(db: Database, after: str, size: int) -> tuple[str | None, int]:
    """Rebuild one batch of records after an id; return the last id done (None: no more)."""
    with db.transaction() as session:
        batch = repository.bundles_after(session, after, size, lock=True)
        if not batch:
            return None, 0
        repository.set_search_columns(session, [
            {"id": rid, **search_columns(bundle, Event(event))}
            for rid, event, _, bundle in batch])
        search.index_records(session, [(rid, declared, bundle)
                                       for rid, _, declared, bundle in batch], replace=True)
    return batch[-1][0], len(batch)


def reindex(db: Database, size: int = 2000, progress: Progress | None = None) -> int:
    """Rebuild every record's search columns and index entry; return how many were done."""
    with db.transaction() as session:
        total = repository.count_records(session)
    done, after = 0, ""
    while True:
        last, count = reindex_batch(db, after, size)
        if last is None:
            break
        done, after = done + count, last
        if progress:
            progress(done, max(total, done))
    return done
