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


def record(ctx: AppContext, results: Sequence[Result], schedule: Sequence[float]) -> None:
    """Store a batch of attempt results in one transaction."""
    settings = ctx.settings
    with ctx.db.transaction() as session:
        repository.add_attempts(session, [_attempt_row(r) for r in results])
        by_sub: dict[str, list[Result]] = defaultdict(list)
        for result in results:
            outcome = _apply(session, result, schedule)
            WEBHOOK_ATTEMPTS.labels(outcome).inc()
            by_sub[result.job.subscription_id].append(result)
        _expedite_recovered(session, results)
        # Subscription rows are locked in id order, as the fan-out does, so the two never
        # deadlock.
        for sub_id, sub_results in sorted(by_sub.items()):
            _update_health(session, sub_id, sub_results,
                           settings.webhook_disable_after_failures,
                           settings.webhook_disable_after_hours)


def _expedite_recovered(session: Session, results: Sequence[Result]) -> None:
    """Make due now what waits for a receiver that just accepted a delivery.

    The retry schedule cannot know when a receiver comes back; a success tells, so the other
    deliveries waiting for the same origin are sent at the next poll instead of hours later.
    """
    now = utcnow()
    recovered = {domain.callback_origin(r.job.callback): r.job.callback
                 for r in results if r.ok}
    # This batch's own failures were just scheduled on purpose.
    tried = [r.job.delivery_id for r in results]
    for origin, callback in sorted(recovered.items()):
        count = repository.expedite_waiting(session, domain.origin_prefix(callback), origin, now,
                                            skip=tried)
        if count:
            log.info("webhook_receiver_recovered", origin=origin, brought_forward=count)


def _attempt_row(result: Result) -> dict[str, Any]:
    return {
        "delivery_id": result.job.delivery_id, "at": result.at,
        "status_code": result.status_code, "latency_ms": result.latency_ms,
        "response_excerpt": result.excerpt, "error": result.error,
        "outcome": "delivered" if result.ok else "failed",
    }


def _apply(session: Session, result: Result, schedule: Sequence[float]) -> str:
    job = result.job
    values: dict[str, Any] = {
        "attempts": job.attempts + 1, "last_status_code": result.status_code,
        "last_error": result.error,
    }
    if job.attempts == 0:
        values["first_attempt_at"] = result.at
    if result.ok:
        values.update(status=repository.DELIVERED, delivered_at=result.at, last_error=None)
        outcome = "delivered"
    elif result.status_code == GONE:
        values.update(status=repository.CANCELLED,
                      last_error="410 Gone: the receiver ended the subscription")
        outcome = "gone"
    else:
        delay = domain.retry_delay(job.retry_step, schedule, result.retry_after)
        if delay is None:
            values.update(status=repository.FAILED)
            outcome = "failed"
        else:
            values.update(next_attempt_at=utcnow() + delay, retry_step=job.retry_step + 1)
            outcome = "retry"
    repository.update_delivery(session, job.delivery_id, values)
    return outcome


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
    successes = [i for i, r in enumerate(results) if r.ok]
    if successes:
        failures_after = len(results) - 1 - successes[-1]
        sub.consecutive_failures = failures_after
        sub.failing_since = now if failures_after else None
        sub.last_success_at = results[successes[-1]].at
        return
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
