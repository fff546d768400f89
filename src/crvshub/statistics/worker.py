"""The outbox job handler that runs bulk exports, one short resumable step at a time."""

from __future__ import annotations

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox.service import OutboxJob
from crvshub.outbox.worker import Dead, Done, Outcome, Retry
from crvshub.statistics import exports


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
