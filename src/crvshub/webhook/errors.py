"""Errors of webhook subscriptions and deliveries."""

from __future__ import annotations

from crvshub.errors import AppError


class SubscriptionDenied(AppError):
    """A subscription request refused; rendered with the OpenCRVS `hub.mode=denied` body too."""

    status = 400
    issue_type = "value"


class UnsupportedTopic(SubscriptionDenied):
    """The topic is not one CRVS Hub publishes."""

    code = "WH-400-001"
    title = "Unsupported topic: use one of the topics in docs/integrations/webhooks.md"


class SecretMismatch(SubscriptionDenied):
    """`hub.secret` is not the client's SHA secret."""

    code = "WH-400-002"
    issue_type = "security"
    title = "hub.secret is incorrect: send the SHA secret shown when the client was created"


class BadMode(SubscriptionDenied):
    """`hub.mode` is not `subscribe` (or `unsubscribe` for WebSub requests)."""

    code = "WH-400-003"
    title = "hub.mode must be set to subscribe"


class CallbackInvalid(SubscriptionDenied):
    """The callback is not an absolute http(s) URL."""

    code = "WH-400-004"
    title = "hub.callback must be an absolute http:// or https:// URL"


class CallbackNotAllowed(SubscriptionDenied):
    """The callback resolves to a private, loopback or link-local address."""

    code = "WH-400-005"
    issue_type = "security"
    title = "hub.callback points to an address this server may not call"


class VerificationFailed(SubscriptionDenied):
    """The callback did not echo the challenge."""

    code = "WH-400-006"
    issue_type = "processing"
    title = "Subscription callback check failed"


class InvalidSubscription(SubscriptionDenied):
    """A field of the subscription request is missing or has a bad value."""

    code = "WH-400-007"
    title = "The subscription request has a missing or invalid field"


class InvalidReplay(AppError):
    """The replay request is malformed."""

    code = "WH-400-008"
    status = 400
    issue_type = "value"
    title = "Give `since` as an ISO 8601 date-time with a time zone"


class SubscriptionNotFound(AppError):
    """No subscription with that id belongs to the caller."""

    code = "WH-404-001"
    status = 404
    issue_type = "not-found"
    title = "No such webhook subscription"


class DeliveryNotFound(AppError):
    """No delivery with that id belongs to the subscription."""

    code = "WH-404-002"
    status = 404
    issue_type = "not-found"
    title = "No such webhook delivery"


class SubscriptionBusy(AppError):
    """The client already has as many subscription checks in flight as allowed."""

    code = "WH-429-001"
    status = 429
    issue_type = "throttled"
    title = ("Too many subscription requests of this client are waiting for their callback: "
             "retry after Retry-After seconds")
