"""Errors of the DCI registry API: each catalogue code carries the standard's `err.*` code.

Envelope problems are answered with the standard's `Response` (`ack_status: ERR` and
`error.code` = `dci_code`) or, for 401/403/429, its `HttpErrorResponse`; the catalogue code
is in the `X-Error-Code` header and at the start of the message.
"""

from __future__ import annotations

from typing import ClassVar

from crvshub.errors import AppError


class DciError(AppError):
    """An envelope problem answered with one of the standard's `err.*` codes."""

    dci_code: ClassVar[str] = "err.request.bad"


class EnvelopeInvalid(DciError):
    """The body is not a `{signature?, header, message}` envelope the standard allows."""

    code = "DCI-400-001"
    status = 400
    issue_type = "structure"
    title = "The message envelope is invalid"


class ActionInvalid(DciError):
    """`header.action` is not the action of the path."""

    code = "DCI-400-002"
    status = 400
    issue_type = "value"
    title = "header.action does not match the endpoint"


class MessageExpired(DciError):
    """`header.message_ts` is too old, in the future or not an ISO 8601 instant."""

    code = "DCI-400-003"
    status = 400
    issue_type = "value"
    title = "header.message_ts is expired or invalid"


class BatchTooLarge(DciError):
    """More than 1,000 items in one message, or `total_count` does not match the items."""

    code = "DCI-400-004"
    status = 400
    issue_type = "too-costly"
    title = "Too many items in one message"


class VersionNotSupported(DciError):
    """`header.version` is not 1.0.0."""

    code = "DCI-400-005"
    status = 400
    issue_type = "not-supported"
    title = "Protocol version not supported"
    dci_code = "err.version.not_supported"


class SenderIdInvalid(DciError):
    """`header.sender_id` is not the calling client's client_id."""

    code = "DCI-400-006"
    status = 400
    issue_type = "security"
    title = "header.sender_id is not the authenticated client"
    dci_code = "err.sender_id.invalid"


class SenderUriInvalid(DciError):
    """An asynchronous request has no usable `header.sender_uri` for its callback."""

    code = "DCI-400-007"
    status = 400
    issue_type = "value"
    title = "header.sender_uri is missing or not allowed"
    dci_code = "err.sender_uri.invalid"


class EncryptionNotSupported(DciError):
    """The message is encrypted; CRVS Hub accepts plain messages over TLS only."""

    code = "DCI-400-008"
    status = 400
    issue_type = "not-supported"
    title = "Encrypted messages are not supported"
    dci_code = "err.encryption.invalid"


class SignatureMissing(DciError):
    """The message carries no signature (every client must sign with its registered key)."""

    code = "DCI-401-001"
    status = 401
    issue_type = "security"
    title = "The message is not signed"
    dci_code = "err.signature.missing"


class SignatureInvalid(DciError):
    """The signature does not verify against the client's registered key, or is expired."""

    code = "DCI-401-002"
    status = 401
    issue_type = "security"
    title = "The message signature is invalid"
    dci_code = "err.signature.invalid"


class DciForbidden(DciError):
    """The caller is not a RECORD_SEARCH integration client."""

    code = "DCI-403-001"
    status = 403
    issue_type = "forbidden"
    title = "Only record search clients may use the DCI registry API"
    dci_code = "err.request.forbidden"


class DciQuotaExceeded(DciError):
    """The batch would pass the client's daily search quota."""

    code = "DCI-429-001"
    status = 429
    issue_type = "throttled"
    title = "Daily search quota exceeded"
    dci_code = "err.request.too_many_requests"


class TransactionNotFound(DciError):
    """`txn/status` names a transaction this client never sent."""

    code = "DCI-404-001"
    status = 404
    issue_type = "not-found"
    title = "No such transaction"
    dci_code = "err.request.not_found"


# Per-item rejections (status `rjct` inside a 200 answer): their standard reason code.
class ItemRejected(AppError):
    """One item of a batch was rejected; `reason` is the standard's `rjct.*` code."""

    reason: ClassVar[str] = "rjct.search_criteria.invalid"


class SearchCriteriaInvalid(ItemRejected):
    """A search item's query, query type, event type or attribute is not understood."""

    code = "DCI-400-010"
    status = 400
    issue_type = "value"
    title = "The search criteria are invalid"


class PaginationInvalid(ItemRejected):
    """`pagination.page_size` is not 1-100 or `page_number` is below 1 or too far."""

    code = "DCI-400-011"
    status = 400
    issue_type = "value"
    title = "The pagination is invalid"
    reason = "rjct.pagination.invalid"


class SortInvalid(ItemRejected):
    """A `sort` attribute or order is not supported."""

    code = "DCI-400-012"
    status = 400
    issue_type = "value"
    title = "The sort is invalid"
    reason = "rjct.sort.invalid"


class ReferenceIdInvalid(ItemRejected):
    """An item has no `reference_id`, or repeats one of the same message."""

    code = "DCI-400-013"
    status = 400
    issue_type = "value"
    title = "The reference_id is missing or repeated"
    reason = "rjct.reference_id.invalid"


class SubscriptionInvalid(ItemRejected):
    """A subscribe item names an event or filter that cannot be subscribed to."""

    code = "DCI-400-014"
    status = 400
    issue_type = "value"
    title = "The subscription criteria are invalid"
    reason = "rjct.notify_types.invalid"


class SubscriptionCodeInvalid(ItemRejected):
    """An unsubscribe names a subscription code this client does not hold."""

    code = "DCI-400-015"
    status = 400
    issue_type = "not-found"
    title = "Unknown subscription code"
    reason = "rjct.subscription_code.invalid"


class ItemTimestampInvalid(ItemRejected):
    """An item's `timestamp` is missing or not an ISO 8601 instant."""

    code = "DCI-400-016"
    status = 400
    issue_type = "value"
    title = "The item timestamp is invalid"
    reason = "rjct.timestamp.invalid"
