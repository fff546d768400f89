"""Errors of the registration hook callbacks (confirm / reject registration)."""

from __future__ import annotations

from crvshub.errors import AppError


class NotThisRecord(AppError):
    """A record token was used for another record."""

    code = "HOOK-403-001"
    status = 403
    issue_type = "forbidden"
    title = "This token may only confirm or reject the record it was issued for"


class ConfirmTargetMissing(AppError):
    """The callback names no record (neither compositionId nor trackingId)."""

    code = "HOOK-400-001"
    status = 400
    issue_type = "required"
    title = "Give compositionId or trackingId of the record to confirm"


class BadIdentifier(AppError):
    """An identifier in the callback has no type or no value."""

    code = "HOOK-400-002"
    status = 400
    issue_type = "value"
    title = "Each identifier needs a type and a value"


class NotHookCaller(AppError):
    """A caller other than the hook (record token) or a national ID client sent a callback."""

    code = "HOOK-403-002"
    status = 403
    issue_type = "forbidden"
    title = (
        "Only the registration hook, with the record token it was given, or a national ID "
        "client may confirm or reject a registration"
    )
