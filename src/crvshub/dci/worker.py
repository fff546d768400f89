"""The DCI feature's work outside requests: queued searches, and messages signed when sent.

* `run_search` (outbox job `dci-search`): an asynchronous search, run after its ACK; the
  answer is stored under the correlation id and `on-search` is queued in the same transaction.
* `sign_delivery`: callbacks and notifies are webhook deliveries (style `dci`); the webhook
  engine asks for the body of each attempt, and gets the stored header and message with a
  fresh `message_ts`, the delivery id as `message_id` and the server's signature.
"""

from __future__ import annotations

import orjson

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.dci import service
from crvshub.outbox.service import OutboxJob
from crvshub.outbox.worker import Dead, Done, Outcome, Retry, backoff

MAX_ATTEMPTS = 10  # a search that failed this often (a bug, a database away) is given up


def run_search(ctx: AppContext, job: OutboxJob) -> Outcome:
    """Run one queued asynchronous search (its answer stored, `on-search` queued)."""
    try:
        with ctx.db.transaction() as session:
            service.finish_search(session, ctx, job.payload)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if job.attempts + 1 >= MAX_ATTEMPTS:
            return Dead(error)
        return Retry(utcnow() + backoff(job.attempts), error)
    return Done()


def sign_delivery(ctx: AppContext, delivery_id: str, stored: str) -> str:
    """Return the signed envelope of a stored DCI message, for one attempt."""
    data = orjson.loads(stored)
    header = {**data["header"], "message_id": delivery_id, "message_ts": service.now_iso()}
    if ctx.keys.stale() or ctx.keys.active(ctx.settings.dci_signing_algorithm) is None:
        with ctx.db.transaction() as session:
            ctx.keys.ensure(session)
    return orjson.dumps(service.envelope(ctx, header, data["message"])).decode()
