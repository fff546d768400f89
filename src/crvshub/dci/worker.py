"""Outbox handler: send a DCI callback (on-search, on-subscribe, ...) or notify, signed.

The message is read when it is sent: a callback sends the transaction's stored answer; a
notify maps the record then, and is dropped if the subscription ended or its client was
deactivated meanwhile. Network errors and non-2xx answers are retried with the outbox's
backoff; connections go only to addresses the webhook address policy allows (SSRF pinning).
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import structlog

from crvshub import __version__
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.dci import service
from crvshub.outbox.service import OutboxJob
from crvshub.outbox.worker import Dead, Done, Outcome, Retry, backoff
from crvshub.webhook import pinning
from crvshub.webhook.callbacks import AddressPolicy

log = structlog.get_logger("crvshub.dci")
MAX_ATTEMPTS = 15  # about 2 days of backoff (5 s doubling, capped at 6 h)
_clients: dict[int, httpx.Client] = {}
_lock = threading.Lock()


def _http(ctx: AppContext) -> httpx.Client:
    with _lock:
        found = _clients.get(id(ctx))
        if found is None:
            settings = ctx.settings
            timeout = httpx.Timeout(settings.webhook_read_timeout,
                                    connect=settings.webhook_connect_timeout)
            found = pinning.client(AddressPolicy(settings), timeout,
                                   httpx.Limits(max_connections=8, max_keepalive_connections=8),
                                   headers={"User-Agent": f"CRVSHub-DCI/{__version__}"})
            _clients[id(ctx)] = found
        return found


def _prepare(ctx: AppContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    with ctx.db.transaction() as session:
        if ctx.keys.stale() or ctx.keys.active() is None:
            ctx.keys.load(session)
        if payload.get("type") == "notify":
            found = service.notify_message(ctx, session, payload)
            if found is None:
                return None
            message, receiver = found
            header = service.answer_header("notify", receiver, total=1, completed=1)
        else:
            stored = service.callback_message(session, payload)
            if stored is None:
                return None
            message, receiver, items = stored
            header = service.answer_header(str(payload.get("action")), receiver,
                                           total=items, completed=items)
        return service.envelope(ctx, header, message)


def send(ctx: AppContext, job: OutboxJob) -> Outcome:
    """Deliver one DCI callback or notify."""
    body = _prepare(ctx, job.payload)
    if body is None:
        return Done()
    url = str(job.payload.get("url"))
    try:
        response = _http(ctx).post(url, json=body)
    except (httpx.HTTPError, pinning.AddressRefused) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    else:
        if 200 <= response.status_code < 300:
            log.info("dci_callback_sent", url=url, kind=job.payload.get("type"),
                     status=response.status_code)
            return Done()
        error = f"HTTP {response.status_code}"
    log.warning("dci_callback_failed", url=url, attempt=job.attempts + 1, error=error)
    if job.attempts + 1 >= MAX_ATTEMPTS:
        return Dead(error)
    return Retry(utcnow() + backoff(job.attempts), error)
