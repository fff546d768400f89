"""Worker tasks of statistics: export steps (outbox jobs) and housekeeping (a poller)."""

from __future__ import annotations

import time

import structlog

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox.service import OutboxJob
from crvshub.outbox.worker import Dead, Done, Outcome, Retry
from crvshub.statistics import aggregates, exports

log = structlog.get_logger(__name__)


def run_export_step(ctx: AppContext, job: OutboxJob) -> Outcome:
    """Write the next part of an export; come back at once while it is not finished."""
    export_id = str(job.payload.get("job", ""))
    directory = ctx.settings.export_dir / export_id
    try:
        status = exports.run_export(ctx, export_id, directory, ctx.settings.export_step_seconds)
    except OSError as exc:  # the export folder is missing, full or not writable
        exports.fail(ctx, export_id, f"{type(exc).__name__}: {exc}")
        return Dead(f"export {export_id} failed: {exc}")
    if status == "running":
        return Retry(utcnow(), "export continues")
    return Done()


class Housekeeping:
    """Every `statistics_refresh_seconds`: delete expired exports, refresh the monthly counts."""

    drained = True  # never holds work back: it runs on its own clock

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._last = time.monotonic()  # first round one interval after the worker starts

    @classmethod
    def in_worker(cls, ctx: AppContext) -> Housekeeping:
        """Return the housekeeping of a worker process."""
        return cls(ctx)

    def run_once(self) -> int:
        """Do the housekeeping when it is due; return how many expired exports went."""
        if time.monotonic() - self._last < self.ctx.settings.statistics_refresh_seconds:
            return 0
        self._last = time.monotonic()
        gone = 0
        try:
            gone = exports.sweep_expired(self.ctx, utcnow())
            with self.ctx.db.transaction() as session:
                aggregates.refresh(session, utcnow())
        except Exception:  # housekeeping must never stop the worker; it retries next time
            log.exception("statistics_housekeeping_failed")
        return gone

    def close(self) -> None:
        """Nothing to release."""
