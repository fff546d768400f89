"""Worker health for `/readyz?worker=1`: a recent heartbeat and no work left waiting too long."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.outbox import repository as outbox_repository
from crvshub.settings import Settings
from crvshub.webhook import repository as webhook_repository


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def worker_status(session: Session, settings: Settings) -> tuple[dict[str, object], list[str]]:
    """Return the worker's heartbeat and backlog ages, and the problems found (empty if fine)."""
    now = utcnow()
    beat = _age(outbox_repository.last_beat(session), now)
    outbox_due = _age(outbox_repository.oldest_due(session), now)
    webhook_due = _age(webhook_repository.oldest_due(session), now)
    facts: dict[str, object] = {
        "last_heartbeat_seconds": None if beat is None else round(beat, 1),
        "oldest_due_outbox_seconds": None if outbox_due is None else round(outbox_due, 1),
        "oldest_due_webhook_seconds": None if webhook_due is None else round(webhook_due, 1),
    }
    problems = []
    if beat is None:
        problems.append("no outbox worker is running (no heartbeat recorded)")
    elif beat > settings.worker_stale_seconds:
        problems.append(f"no outbox worker heartbeat for {beat:.0f} s "
                        f"(limit CRVSHUB_WORKER_STALE_SECONDS={settings.worker_stale_seconds:g})")
    limit = settings.outbox_max_due_seconds
    for name, age in (("outbox job", outbox_due), ("webhook delivery", webhook_due)):
        if age is not None and age > limit:
            problems.append(f"the oldest due {name} has waited {age:.0f} s "
                            f"(limit CRVSHUB_OUTBOX_MAX_DUE_SECONDS={limit:g})")
    return facts, problems
