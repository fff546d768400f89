"""Outbox handler: POST a record waiting for validation to the registration hook.

A 2xx answer means the hook accepted responsibility (and may carry the registration number
at once); any other answer rejects the registration with the hook's reason. Network errors,
timeouts, 429 and 502-504 are retried with backoff; after the retry budget the record is
rejected with a clear reason, so no record waits forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from crvshub.auth.service import issue_record_token
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.errors import AppError
from crvshub.outbox.service import OutboxJob
from crvshub.outbox.worker import Dead, Done, Outcome, Retry, backoff
from crvshub.record import service as record_service
from crvshub.record.domain import Status
from crvshub.registration_hook import repository, service
from crvshub.registration_hook.service import Answer

log = structlog.get_logger("crvshub.registration_hook")
TRANSIENT = frozenset({408, 429, 502, 503, 504})


@dataclass(frozen=True)
class Prepared:
    """What the HTTP call needs, read in a short transaction."""

    url: str
    bundle: dict[str, Any]
    token: str


def _prepare(ctx: AppContext, payload: dict[str, Any]) -> Prepared | None:
    with ctx.db.transaction() as session:
        call = repository.get(session, str(payload.get("call_id")))
        record = record_service.find(session, str(payload.get("record_id")))
        if call is None or record is None or call.status != "pending":
            return None
        if record.status != Status.WAITING_VALIDATION:
            return None
        if ctx.keys.stale():
            ctx.keys.load(session)
        token = issue_record_token(
            ctx.settings, ctx.keys, user_id=call.requested_by, record_id=record.id
        )
        return Prepared(call.url, record.bundle, token)


def reason_from(response: httpx.Response) -> str:
    """Return the readable reason of a rejecting hook answer (Boom `msg`, message or text)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        nested = (
            body.get("output", {}).get("payload", {})
            if isinstance(body.get("output"), dict)
            else {}
        )
        for key in ("msg", "message", "error", "reason"):
            for source in (body, nested):
                if isinstance(source, dict) and source.get(key):
                    return str(source[key])[:1000]
    return response.text.strip()[:1000] or response.reason_phrase


def call_hook(ctx: AppContext, job: OutboxJob) -> Outcome:
    """Send one record to the registration hook and record the answer."""
    prepared = _prepare(ctx, job.payload)
    if prepared is None:
        return Done()
    headers = {"Authorization": f"Bearer {prepared.token}", "Content-Type": "application/json"}
    try:
        response = httpx.post(
            prepared.url,
            json=prepared.bundle,
            headers=headers,
            timeout=ctx.settings.registration_hook_timeout,
        )
    except httpx.HTTPError as exc:
        return _failed(ctx, job, f"{type(exc).__name__}: {exc or 'no answer'}", None)
    code = response.status_code
    if code in TRANSIENT:
        return _failed(ctx, job, f"HTTP {code}: {reason_from(response)}", code)
    if 200 <= code < 300:
        return _accepted(ctx, job, response)
    reason = f"Rejected by the registration hook (HTTP {code}): {reason_from(response)}"
    return _reject(ctx, job, reason, code)


def _failed(ctx: AppContext, job: OutboxJob, error: str, code: int | None) -> Outcome:
    attempts = job.attempts + 1
    budget = ctx.settings.registration_hook_max_attempts
    log.warning(
        "registration_hook_failed",
        record_id=job.payload.get("record_id"),
        attempt=attempts,
        error=error,
    )
    if attempts >= budget:
        reason = (
            f"The registration hook could not be reached after {attempts} attempts "
            f"(last error: {error}); register again when it is back"
        )
        _reject(ctx, job, reason, code)
        return Dead(error)
    with ctx.db.transaction() as session:
        call = repository.get(session, str(job.payload.get("call_id")))
        if call is not None:
            call.attempts, call.last_error, call.last_status_code = attempts, error, code
            call.updated_at = utcnow()
    return Retry(utcnow() + backoff(job.attempts), error)


def _accepted(ctx: AppContext, job: OutboxJob, response: httpx.Response) -> Outcome:
    try:
        _record_accepted(ctx, job, response)
    except AppError as exc:
        # A synchronous answer we cannot use must not leave the record waiting forever.
        reason = f"Unusable answer from the registration hook: {exc.message}"
        return _reject(ctx, job, reason, response.status_code)
    return Done()


def _record_accepted(ctx: AppContext, job: OutboxJob, response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        body = None
    record_id = str(job.payload.get("record_id"))
    with ctx.db.transaction() as session:
        call = repository.get(session, str(job.payload.get("call_id")))
        if call is not None:
            call.attempts, call.last_status_code, call.last_error = (
                job.attempts + 1,
                response.status_code,
                None,
            )
            call.updated_at = utcnow()
            if call.status == "pending":
                call.status = "accepted"
        if isinstance(body, dict) and body.get("registrationNumber"):
            answer = Answer(
                registration_number=str(body["registrationNumber"])[:64],
                identifiers=service.parse_identifiers(
                    body.get("identifiers") or body.get("childIdentifiers"), "identifiers"
                ),
            )
            service.confirm(
                session,
                ctx.settings,
                record_id,
                service.hook_actor(call.url if call else ""),
                answer,
            )


def _reject(ctx: AppContext, job: OutboxJob, reason: str, code: int | None) -> Outcome:
    record_id = str(job.payload.get("record_id"))
    with ctx.db.transaction() as session:
        call = repository.get(session, str(job.payload.get("call_id")))
        if call is not None:
            call.attempts, call.last_status_code = job.attempts + 1, code
        record = record_service.find(session, record_id)
        if record is not None and record.status == Status.WAITING_VALIDATION:
            actor = service.hook_actor(call.url if call else "")
            service.reject(session, record_id, actor, Answer(reason=reason))
    return Done()
