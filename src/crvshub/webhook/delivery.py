"""The delivery worker: lease due deliveries, POST them outside any transaction, log each attempt.

Wired as a poller of the outbox worker (`crvshub.composition`), so `crvshub worker` and
`crvshub serve` run it.
Several workers may run on PostgreSQL: leases are taken with `FOR UPDATE SKIP LOCKED`, and a
crashed worker's leases expire after `CRVSHUB_WEBHOOK_LEASE_SECONDS`, so nothing is lost.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

import httpx
import structlog

from crvshub.auth import crypto
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.observability import (
    WEBHOOK_BACKLOG,
    WEBHOOK_FAILURES,
    WEBHOOK_LATENCY,
    WEBHOOK_OLDEST_PENDING,
    WEBHOOK_RESPONSE_SECONDS,
)
from crvshub.webhook import domain, pinning, recording, repository
from crvshub.webhook.callbacks import USER_AGENT, AddressPolicy

log = structlog.get_logger("crvshub.webhook")
METRICS_INTERVAL = 5.0
GONE = 410
READ_LIMIT = 4096
REFUSED = ("refused: the callback host resolves to a private, loopback or link-local address "
           "this server may not call")

# The body a channel's delivery is sent with, made at each attempt from the stored one (the
# context, the delivery id, the stored body): DCI messages are signed when they are sent.
BodyFinaliser = Callable[[AppContext, str, str], str]
UNPREPARED = "not sent: the message could not be prepared (see the server log)"


@dataclass(frozen=True)
class Job:
    """A leased delivery with what is needed to send it."""

    delivery_id: str
    subscription_id: str
    callback: str
    style: str
    secret: str
    body: str
    attempts: int
    retry_step: int
    created_at: datetime
    sequence: int = 0


@dataclass(frozen=True)
class Result:
    """The outcome of one HTTP attempt."""

    job: Job
    at: datetime
    status_code: int | None
    latency_ms: float
    excerpt: str | None
    error: str | None
    retry_after: float | None

    @property
    def ok(self) -> bool:
        """Tell whether the receiver accepted the delivery (2xx)."""
        return self.status_code is not None and 200 <= self.status_code < 300


def sign_headers(job: Job, timestamp: int) -> dict[str, str]:
    """Return the request headers of a delivery, with both signature schemes."""
    if job.style == domain.STYLE_WEBSUB:
        hub = domain.websub_signature(job.body, job.secret)
    else:
        hub = domain.opencrvs_signature(job.body, job.secret)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Hub-Signature": hub,
        "webhook-id": job.delivery_id,
        "X-CRVSHub-Sequence": str(job.sequence),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": domain.standard_signature(
            job.delivery_id, timestamp, job.body, job.secret
        ),
    }


class DeliveryEngine:
    """Sends due deliveries concurrently across subscriptions, in sequence order within one."""

    def __init__(self, ctx: AppContext, *, pipelined: bool = False) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.schedule = domain.parse_schedule(settings.webhook_retry_schedule)
        self.batch = settings.webhook_batch_size
        self.lease = settings.webhook_lease_seconds
        timeout = httpx.Timeout(settings.webhook_read_timeout,
                                connect=settings.webhook_connect_timeout)
        conns = settings.webhook_concurrency * 2
        # Every new connection resolves the host once and connects only to a checked address.
        self.http = pinning.client(
            AddressPolicy(settings), timeout,
            httpx.Limits(max_connections=conns, max_keepalive_connections=conns),
        )
        self.pool = ThreadPoolExecutor(settings.webhook_concurrency, "webhook-send")
        self.finalisers = ctx.wiring.delivery_bodies
        self._key = settings.derived_key("encryption")
        self._secrets: dict[bytes, str] = {}
        self._last_metrics = 0.0
        # Whether the last batch left nothing due: then the worker may wait for the next commit.
        self.drained = False
        # Pipelined, a batch's attempts are recorded by a thread of their own while the next
        # batch is claimed and sent (at most one batch being recorded at a time).
        self.pipelined = pipelined
        self._recorder = ThreadPoolExecutor(1, "webhook-record") if pipelined else None
        self._recording: Future[None] | None = None
        self._settle_first = False
        # On PostgreSQL a batch is leased by one autocommit statement (the claim is on the path
        # from commit to first attempt); SQLite cannot return the subscription's columns from
        # an UPDATE, and has a single writer anyway.
        self._one_statement_claim = ctx.db.engine.dialect.name == "postgresql"

    @classmethod
    def in_worker(cls, ctx: AppContext) -> DeliveryEngine:
        """Return the engine of a worker process: pipelined."""
        return cls(ctx, pipelined=True)

    def run_once(self) -> int:
        """Lease, send and record one batch; return how many deliveries were attempted.

        Pipelined, the recording may still run when this returns (`settle` waits for it).
        """
        if self._settle_first:
            # The last batch had failures (a 410 cancels the rest of its subscription, a
            # refused address or failures may disable it): its outcome decides what is due.
            self.settle()
        jobs = self._claim()
        if jobs:
            groups: dict[str, list[Job]] = defaultdict(list)
            for job in jobs:
                groups[job.subscription_id].append(job)
            results = [r for rs in self.pool.map(self._send_group, groups.values()) for r in rs]
            try:
                self.settle()  # one batch recorded at a time, in order
            finally:  # this batch is recorded even if the last one's recording failed
                if self._recorder is None:
                    self._record(results)
                else:
                    self._recording = self._recorder.submit(self._record, results)
                    self._settle_first = not all(r.ok for r in results)
        # A short batch took every due delivery that had committed when it was claimed, and a
        # delivery committed since then signals a new wake-up (so do deliveries made due by a
        # recovered receiver, see `_record`).
        self.drained = len(jobs) < self.batch
        if time.monotonic() - self._last_metrics > METRICS_INTERVAL:
            self.update_metrics()
        return len(jobs)

    def _record(self, results: list[Result]) -> None:
        if recording.record(self.ctx, results, self.schedule):
            self.ctx.wakeup.heard("")  # waiting deliveries were made due now: another round

    def settle(self) -> None:
        """Wait until the attempts sent so far are recorded (re-raise a recording failure)."""
        pending, self._recording, self._settle_first = self._recording, None, False
        if pending is not None:
            pending.result()

    def _secret(self, blob: bytes) -> str:
        secret = self._secrets.get(blob)
        if secret is None:
            secret = crypto.decrypt(blob, self._key, context=domain.SECRET_CONTEXT).decode()
            self._secrets[blob] = secret
        return secret

    def _claim(self) -> list[Job]:
        now = utcnow()
        if self._one_statement_claim:
            autocommit = self.ctx.db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
            with autocommit as conn:
                return [
                    Job(r.id, r.subscription_id, r.callback, r.style, self._secret(r.secret_enc),
                        r.body, r.attempts, r.retry_step, r.created_at, r.sequence)
                    for r in repository.lease_due_now(conn, now, limit=self.batch,
                                                      lease_seconds=self.lease)
                ]
        with self.ctx.db.transaction() as session:
            rows = repository.claim_due(session, now, limit=self.batch, lease_seconds=self.lease)
            return [
                Job(d.id, s.id, s.callback, s.style, self._secret(s.secret_enc), d.body,
                    d.attempts, d.retry_step, d.created_at, d.sequence)
                for d, s in rows
            ]

    def _send_group(self, jobs: list[Job]) -> list[Result]:
        results: list[Result] = []
        for job in jobs:
            results.append(self.send(job))
            if results[-1].status_code == GONE:
                break  # the receiver ended the subscription: the rest are cancelled
            if results[-1].error == REFUSED:
                # The host resolves to a refused address: the rest would be refused too.
                results += [Result(j, results[-1].at, None, 0.0, None, REFUSED, None)
                            for j in jobs[len(results):]]
                break
        return results

    def send(self, job: Job) -> Result:
        """POST one delivery and return what happened."""
        at = utcnow()
        if job.attempts == 0:
            WEBHOOK_LATENCY.observe(max((at - job.created_at).total_seconds(), 0.0))
        finalise = self.finalisers.get(job.style)
        if finalise is not None:
            try:
                job = replace(job, body=finalise(self.ctx, job.delivery_id, job.body))
            except Exception:  # a bug or a missing key must not stop the engine: retried
                log.exception("webhook_body_not_prepared", delivery_id=job.delivery_id)
                WEBHOOK_FAILURES.labels("unprepared").inc()
                return Result(job, at, None, 0.0, None, UNPREPARED, None)
        headers = sign_headers(job, int(at.timestamp()))
        start = time.perf_counter()
        status: int | None = None
        excerpt: str | None = None
        error: str | None = None
        retry_after: float | None = None
        try:
            with self.http.stream("POST", job.callback, content=job.body.encode(),
                                  headers=headers) as response:
                status = response.status_code
                excerpt = _excerpt(response)
                retry_after = domain.parse_retry_after(response.headers.get("retry-after"), at)
        except pinning.AddressRefused:
            error = REFUSED
        except httpx.TimeoutException:
            error = "timeout: no answer in time"
        except httpx.HTTPError as exc:
            # A category only: exception texts can describe hosts inside the network.
            error = f"network error: {_network_failure(exc)}"
        elapsed = time.perf_counter() - start
        WEBHOOK_RESPONSE_SECONDS.observe(elapsed)
        if status is None or not 200 <= status < 300:
            WEBHOOK_FAILURES.labels(_reason(status, error)).inc()
        return Result(job, at, status, round(elapsed * 1000, 3), excerpt, error, retry_after)

    def update_metrics(self) -> None:
        """Publish the backlog size and the age of the oldest waiting delivery."""
        self._last_metrics = time.monotonic()
        with self.ctx.db.transaction() as session:
            total = repository.pending_total(session)
            oldest = repository.oldest_pending(session)
        WEBHOOK_BACKLOG.set(total)
        WEBHOOK_OLDEST_PENDING.set((utcnow() - oldest).total_seconds() if oldest else 0.0)

    def close(self) -> None:
        """Record what was sent, stop the threads and close the HTTP connections."""
        try:
            self.settle()
        finally:
            if self._recorder is not None:
                self._recorder.shutdown(wait=True)
            self.pool.shutdown(wait=True)
            self.http.close()


def _excerpt(response: httpx.Response) -> str | None:
    """Return the start of a public receiver's answer (none for private or loopback peers)."""
    peer = pinning.peer_address(response)  # before reading: the peer may close then
    received = b""
    # Short answers are read to the end so that the connection can be used again.
    for chunk in response.iter_bytes():
        received += chunk
        if len(received) >= READ_LIMIT:
            break
    if peer is None or not domain.address_is_public(peer):
        return None
    text = received[: domain.RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")
    return "".join(c if c.isprintable() else " " for c in text)


def _network_failure(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.TransportError):
        return "the connection failed during the request"
    return "the request failed"


def _reason(status: int | None, error: str | None) -> str:
    if status is not None:
        return f"http_{status // 100}xx"
    if error and error.startswith("timeout"):
        return "timeout"
    if error and error.startswith("network"):
        return "network"
    return "refused"
