"""Errors of the certificate feature (codes in docs/errors.md)."""

from __future__ import annotations

from crvshub.errors import AppError


class CertificateNotFound(AppError):
    """No certificate has this id."""

    code = "CRT-404-001"
    status = 404
    issue_type = "not-found"
    title = "No certificate with this id"


class ReprintReasonRequired(AppError):
    """The record already has a certificate: a reprint needs a reason."""

    code = "CRT-400-001"
    status = 400
    issue_type = "required"
    title = "A reprint needs a reason"


class CollectorInvalid(AppError):
    """The collector is incomplete: someone other than a parent or informant needs an ID."""

    code = "CRT-400-002"
    status = 400
    issue_type = "required"
    title = "Who collected the certificate is incomplete"


class PayloadUnreadable(AppError):
    """The verification code is not a certificate payload at all (not even a JWS)."""

    code = "CRT-400-003"
    status = 400
    issue_type = "value"
    title = "This is not a certificate code"


class NotRegistered(AppError):
    """The record has no registration number: it cannot be certified."""

    code = "CRT-409-001"
    status = 409
    issue_type = "business-rule"
    title = "The record is not registered"


class AlreadyRevoked(AppError):
    """The certificate is no longer current (revoked or superseded)."""

    code = "CRT-409-002"
    status = 409
    issue_type = "business-rule"
    title = "The certificate is no longer current"


class VerifyRateLimited(AppError):
    """Too many verifications from this address."""

    code = "CRT-429-001"
    status = 429
    issue_type = "throttled"
    title = "Too many verifications"


class CredentialNotFound(AppError):
    """No wallet credential has this id."""

    code = "CRT-404-002"
    status = 404
    issue_type = "not-found"
    title = "No credential with this id"
