"""Subscriptions: subscribe (OpenCRVS JSON or W3C WebSub form), list, delete; channels."""

from __future__ import annotations

import contextlib
import hmac
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crvshub.auth import crypto
from crvshub.auth import service as auth_service
from crvshub.auth.domain import ClientSummary, Principal
from crvshub.context import AppContext
from crvshub.db import new_id, utcnow
from crvshub.errors import ClientInactive
from crvshub.outbox.wakeup import wake_on_commit
from crvshub.settings import Settings
from crvshub.webhook import callbacks, domain, repository
from crvshub.webhook.errors import (
    BadMode,
    InvalidSubscription,
    SecretMismatch,
    SubscriptionBusy,
    SubscriptionNotFound,
    UnsupportedTopic,
)
from crvshub.webhook.models import Subscription

MAX_SECRET_BYTES = 200


@dataclass(frozen=True)
class SubscribeRequest:
    """A parsed subscription request, in either style."""

    style: str
    callback: str
    mode: str
    topic: str
    secret: str
    lease_seconds: int | None = None
    payload: str = domain.PAYLOAD_FULL


@dataclass(frozen=True)
class Checked:
    """A request that passed every check that needs the database."""

    request: SubscribeRequest
    topic: str
    secret: str
    lease: int | None


class VerifySlots:
    """Intent checks in flight per client: a client's slow callback holds only a few at once.

    Used on the event loop only (no lock needed); over the limit the caller gets a 429.
    """

    def __init__(self) -> None:
        self.busy: Counter[str] = Counter()

    @contextlib.contextmanager
    def hold(self, client_id: str, settings: Settings) -> Iterator[None]:
        """Take one of the client's slots for the duration of the block, or raise."""
        if self.busy[client_id] >= settings.webhook_verify_per_client:
            wait = str(math.ceil(settings.webhook_verify_timeout))
            raise SubscriptionBusy(headers={"Retry-After": wait})
        self.busy[client_id] += 1
        try:
            yield
        finally:
            self.busy[client_id] -= 1
            if self.busy[client_id] <= 0:
                del self.busy[client_id]


def slots_for(ctx: AppContext) -> VerifySlots:
    """Return the process's intent-check slots (built by the composition)."""
    return ctx.webhook_verify_slots


# Runs work in the request's transaction (the endpoint passes `TransactionDep.run`).
InTransaction = Callable[[Callable[[Session], str | None]], Awaitable[str | None]]


async def subscribe(ctx: AppContext, in_transaction: InTransaction, principal: Principal,
                    req: SubscribeRequest) -> str | None:
    """Check, verify intent with the callback, then store (or remove) a subscription.

    The intent check is awaited on the event loop, with a time limit and a few slots per
    client, outside any transaction: a slow callback holds neither a worker thread nor (on
    SQLite) the write lock. The checks run again in the request's transaction, which stores.
    """
    with slots_for(ctx).hold(principal.subject, ctx.settings):
        checked = await run_in_threadpool(_check_alone, ctx, principal, req)
        callbacks.parse_callback(req.callback)
        if req.style == domain.STYLE_OPENCRVS:
            await callbacks.verify_opencrvs(ctx.settings, req.callback, checked.topic)
        else:
            await callbacks.verify_websub(ctx.settings, req.callback, req.mode, checked.topic,
                                          checked.lease)
    return await in_transaction(
        lambda session: _store(ctx, session, principal, _check(ctx, session, principal, req)))


def _check_alone(ctx: AppContext, principal: Principal, req: SubscribeRequest) -> Checked:
    with ctx.db.transaction() as session:
        return _check(ctx, session, principal, req)


def _check(ctx: AppContext, session: Session, principal: Principal,
           req: SubscribeRequest) -> Checked:
    topic = domain.normalise_topic(req.topic)
    if topic not in domain.TOPICS:
        raise UnsupportedTopic(f"Unsupported topic: {req.topic}")
    client = auth_service.client_summary(session, principal.subject)
    if client is None or client.status != "active":
        raise ClientInactive("Active system details cannot be found. "
                             "This system is no longer authorized")
    sha_secret = auth_service.webhook_secret(session, ctx.settings, client)
    if req.style == domain.STYLE_OPENCRVS:
        if not hmac.compare_digest(req.secret.encode(), sha_secret.encode()):
            raise SecretMismatch(expression="hub.secret")
        if req.mode != "subscribe":
            raise BadMode(expression="hub.mode")
        secret, lease = sha_secret, None
    else:
        if req.mode not in ("subscribe", "unsubscribe"):
            raise BadMode("hub.mode must be subscribe or unsubscribe", expression="hub.mode")
        if len(req.secret.encode()) > MAX_SECRET_BYTES:
            raise InvalidSubscription("hub.secret must be under 200 bytes",
                                      expression="hub.secret")
        secret, lease = req.secret or sha_secret, domain.clamp_lease(req.lease_seconds)
    if req.payload not in (domain.PAYLOAD_FULL, domain.PAYLOAD_THIN):
        raise InvalidSubscription("hub.payload must be full or thin", expression="hub.payload")
    return Checked(req, topic, secret, lease)


def _store(ctx: AppContext, session: Session, principal: Principal,
           checked: Checked) -> str | None:
    req, now = checked.request, utcnow()
    existing = None
    if req.style == domain.STYLE_WEBSUB:
        existing = repository.find_subscription(session, principal.subject, req.callback,
                                                checked.topic)
        if req.mode == "unsubscribe":
            if existing is not None:
                repository.delete_subscription(session, existing)
            return None
    secret_enc = crypto.encrypt(checked.secret.encode(), ctx.settings.derived_key("encryption"),
                                context=domain.SECRET_CONTEXT)
    expires = now + timedelta(seconds=checked.lease) if checked.lease else None
    if existing is not None:
        # WebSub: subscribing again renews the lease and replaces the secret.
        existing.secret_enc, existing.expires_at = secret_enc, expires
        existing.payload_kind = req.payload
        return existing.id
    sub = Subscription(
        client_id=principal.subject, callback=req.callback, topic=checked.topic,
        style=req.style, payload_kind=req.payload, secret_enc=secret_enc, status="active",
        created_at=now, expires_at=expires, last_sequence=0, consecutive_failures=0,
    )
    repository.add(session, sub)
    session.flush()
    return sub.id


def list_own(
    session: Session, principal: Principal
) -> tuple[ClientSummary | None, list[Subscription]]:
    """Return the caller's client and its subscriptions, oldest first."""
    subs = list(repository.subscriptions(session, client_id=principal.subject))
    return auth_service.client_summary(session, principal.subject), subs


def owned(session: Session, subscription_id: str, owner: str | None) -> Subscription:
    """Return a subscription of `owner` (any when None); 404 for anyone else's."""
    sub = repository.subscription(session, subscription_id, client_id=owner)
    if sub is None:
        raise SubscriptionNotFound(f"No webhook subscription {subscription_id} for this client")
    return sub


def delete(session: Session, principal: Principal, subscription_id: str) -> None:
    """Delete one of the caller's subscriptions."""
    repository.delete_subscription(session, owned(session, subscription_id, principal.subject))


# --- Channels: deliveries another feature queues (DCI notifies and callbacks) -------------------
#
# A channel is a subscription that no domain event fans out to (its topic is not a webhook
# topic): its feature decides what to deliver and queues each message with `queue_delivery`.
# Everything else is the webhook engine's: retries with backoff, the delivery log, redeliver,
# the address rules, disabling after failures, and no sending for a deactivated client.

def open_channel(session: Session, settings: Settings, *, client_id: str, callback: str,
                 topic: str, style: str, channel_id: str | None = None) -> str:
    """Return the id of a client's channel to a callback, created if new.

    With `channel_id`, the channel has that id; without, the client's channel of the same
    callback and topic is reused.
    """
    if channel_id is not None:
        existing = repository.subscription(session, channel_id)
    else:
        existing = repository.find_subscription(session, client_id, callback, topic)
    if existing is not None:
        return existing.id
    client = auth_service.client_summary(session, client_id)
    if client is None:
        raise ClientInactive("Active system details cannot be found. "
                             "This system is no longer authorized")
    secret = auth_service.webhook_secret(session, settings, client)
    now = utcnow()
    sub = Subscription(
        client_id=client_id, callback=callback, topic=topic, style=style,
        payload_kind=domain.PAYLOAD_FULL, status="active", created_at=now, last_sequence=0,
        consecutive_failures=0, secret_enc=crypto.encrypt(
            secret.encode(), settings.derived_key("encryption"), context=domain.SECRET_CONTEXT))
    if channel_id is not None:
        sub.id = channel_id
    repository.add(session, sub)
    session.flush()
    return sub.id


def queue_delivery(session: Session, channel_id: str, *, topic: str, body: str,
                   event_id: str | None = None, record_id: str | None = None) -> str | None:
    """Queue one message on a channel (sent after this transaction commits); return its id,
    or None when there is no such channel."""
    sequence = repository.next_sequences(session, [channel_id]).get(channel_id)
    if sequence is None:
        return None
    now, delivery_id = utcnow(), new_id()
    repository.add_deliveries(session, [{
        "id": delivery_id, "subscription_id": channel_id, "event_id": event_id,
        "topic": topic, "record_id": record_id, "sequence": sequence, "body": body,
        "status": repository.PENDING, "attempts": 0, "retry_step": 0,
        "next_attempt_at": now, "created_at": now}])
    wake_on_commit(session)
    return delivery_id


def close_channel(session: Session, channel_id: str, reason: str) -> int:
    """End a channel at once: nothing more is sent; return how many waiting messages ended."""
    sub = repository.subscription(session, channel_id)
    if sub is None:
        return 0
    sub.status, sub.status_reason, sub.status_changed_at = "unsubscribed", reason, utcnow()
    return repository.cancel_pending(session, channel_id, reason)
