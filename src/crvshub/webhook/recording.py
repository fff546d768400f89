"""Record delivery attempts: the log row, the delivery's next state, the subscription's health."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.orm import Session

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.observability import WEBHOOK_ATTEMPTS, WEBHOOK_DISABLED
from crvshub.webhook import domain, repository

if TYPE_CHECKING:
    from crvshub.webhook.delivery import Result

log = structlog.get_logger("crvshub.webhook")
GONE = 410


def record(ctx: AppContext, results: Sequence[Result], schedule: Sequence[float]) -> int:
    """Store a batch of attempt results in one transaction; return how many waiting deliveries
    were made due now (their receiver is back)."""
    settings = ctx.settings
    with ctx.db.transaction() as session:
        repository.add_attempts(session, [_attempt_row(r) for r in results])
        outcomes = []
        by_sub: dict[str, list[Result]] = defaultdict(list)
        for result in results:
            row, outcome = _outcome(result, schedule)
            outcomes.append(row)
            WEBHOOK_ATTEMPTS.labels(outcome).inc()
            by_sub[result.job.subscription_id].append(result)
        repository.record_outcomes(session, outcomes)
        brought_forward = _expedite_recovered(session, results)
        # Subscription rows are locked in id order, as the fan-out does, so the two never
        # deadlock. The common case, a subscription whose last attempt succeeded, is one
        # statement for all of them.
        healthy = []
        for sub_id, sub_results in sorted(by_sub.items()):
            health = _healthy_row(sub_results)
            if health is not None:
                healthy.append({"id": sub_id, **health})
                continue
            if healthy:  # keep the id order of the locks
                repository.mark_healthy(session, healthy)
                healthy = []
            _update_health(session, sub_id, sub_results,
                           settings.webhook_disable_after_failures,
                           settings.webhook_disable_after_hours)
            session.flush()
        repository.mark_healthy(session, healthy)
    return brought_forward


def _expedite_recovered(session: Session, results: Sequence[Result]) -> int:
    """Make due now what waits for a receiver that just accepted a delivery.

    The retry schedule cannot know when a receiver comes back; a success tells, so the other
    deliveries waiting for the same origin are sent at the next poll instead of hours later.
    """
    now = utcnow()
    recovered = {domain.callback_origin(r.job.callback): r.job.callback
                 for r in results if r.ok}
    # This batch's own failures were just scheduled on purpose.
    tried = [r.job.delivery_id for r in results]
    total = 0
    for origin, callback in sorted(recovered.items()):
        count = repository.expedite_waiting(session, domain.origin_prefix(callback), origin, now,
                                            skip=tried)
        if count:
            log.info("webhook_receiver_recovered", origin=origin, brought_forward=count)
        total += count
    return total


def _attempt_row(result: Result) -> dict[str, Any]:
    return {
        "delivery_id": result.job.delivery_id, "at": result.at,
        "status_code": result.status_code, "latency_ms": result.latency_ms,
        "response_excerpt": result.excerpt, "error": result.error,
        "outcome": "delivered" if result.ok else "failed",
    }


def _outcome(result: Result, schedule: Sequence[float]) -> tuple[dict[str, Any], str]:
    """Return a delivery's new state after an attempt (a row of `record_outcomes`)."""
    job = result.job
    row: dict[str, Any] = {
        "id": job.delivery_id, "status": repository.PENDING, "attempts": job.attempts + 1,
        "retry_step": job.retry_step, "status_code": result.status_code, "error": result.error,
        "first_attempt_at": result.at, "delivered_at": None, "next_attempt_at": None,
    }
    if result.ok:
        row.update(status=repository.DELIVERED, delivered_at=result.at, error=None)
        return row, "delivered"
    if result.status_code == GONE:
        row.update(status=repository.CANCELLED,
                   error="410 Gone: the receiver ended the subscription")
        return row, "gone"
    delay = domain.retry_delay(job.retry_step, schedule, result.retry_after)
    if delay is None:
        row.update(status=repository.FAILED)
        return row, "failed"
    row.update(next_attempt_at=utcnow() + delay, retry_step=job.retry_step + 1)
    return row, "retry"


def _healthy_row(results: list[Result]) -> dict[str, Any] | None:
    """Return a subscription's health after attempts that include a success (None if none)."""
    if any(r.status_code == GONE for r in results):
        return None
    successes = [i for i, r in enumerate(results) if r.ok]
    if not successes:
        return None
    failures_after = len(results) - 1 - successes[-1]
    return {"consecutive_failures": failures_after,
            "failing_since": utcnow() if failures_after else None,
            "last_success_at": results[successes[-1]].at}


def _update_health(
    session: Session, sub_id: str, results: list[Result], disable_after: int, hours: float
) -> None:
    sub = repository.subscription(session, sub_id)
    if sub is None:
        return
    now = utcnow()
    if any(r.status_code == GONE for r in results):
        _disable(session, sub_id, "unsubscribed", "the receiver answered 410 Gone")
        return
    # Only failures here: `_healthy_row` covers a batch with a success.
    sub.consecutive_failures += len(results)
    sub.failing_since = sub.failing_since or now
    if (sub.status == "active" and sub.consecutive_failures >= disable_after
            and now - sub.failing_since >= timedelta(hours=hours)):
        reason = (f"disabled after {sub.consecutive_failures} failed attempts in a row since "
                  f"{sub.failing_since.isoformat()}; last error: "
                  f"{results[-1].error or f'HTTP {results[-1].status_code}'}")
        _disable(session, sub_id, "disabled", reason)


def _disable(session: Session, sub_id: str, status: str, reason: str) -> None:
    sub = repository.subscription(session, sub_id)
    if sub is None or sub.status != "active":
        return
    sub.status = status
    sub.status_reason = reason
    sub.status_changed_at = utcnow()
    if status == "unsubscribed":
        repository.cancel_pending(session, sub_id, "cancelled: the receiver answered 410 Gone")
    WEBHOOK_DISABLED.labels("gone" if status == "unsubscribed" else "failing").inc()
    log.warning("webhook_subscription_disabled", subscription_id=sub_id, status=status,
                reason=reason)
