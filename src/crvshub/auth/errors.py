"""Errors of staff users, integration clients and tokens."""

from __future__ import annotations

from crvshub.errors import AppError


class InvalidLogin(AppError):
    """Wrong username or password."""

    code = "AUTH-401-004"
    status = 401
    issue_type = "login"
    title = "Wrong username or password"


class UserExists(AppError):
    """The username is taken."""

    code = "AUTH-409-001"
    status = 409
    issue_type = "duplicate"
    title = "A user with this username already exists"


class UnknownRole(AppError):
    """The role is not one of the staff roles."""

    code = "AUTH-400-001"
    status = 400
    issue_type = "value"
    title = "Unknown role"


class UnknownOffice(AppError):
    """The office does not exist or is not a CRVS office."""

    code = "AUTH-400-002"
    status = 400
    issue_type = "value"
    title = "Unknown office: give the id or statistical id of a CRVS office"


class InvalidClientSettings(AppError):
    """A client field (type, name, quota, webhook permissions) has a bad value."""

    code = "AUTH-400-003"
    status = 400
    issue_type = "value"
    title = "Invalid integration client settings"


class InvalidClientQuery(AppError):
    """A client search parameter (count, skip, name) is out of range."""

    code = "AUTH-400-020"
    status = 400
    issue_type = "value"
    title = "Invalid integration client search parameter"


class ClientNotFound(AppError):
    """No integration client with that client_id."""

    code = "AUTH-404-002"
    status = 404
    issue_type = "not-found"
    title = "No integration client with this client_id"


class ClientNameTaken(AppError):
    """Another client already has this name."""

    code = "AUTH-409-002"
    status = 409
    issue_type = "duplicate"
    title = "An integration client with this name already exists"


class NationalIdClientExists(AppError):
    """Only one NATIONAL_ID client may be active at a time."""

    code = "AUTH-409-003"
    status = 409
    issue_type = "business-rule"
    title = "An active NATIONAL_ID client already exists: deactivate or delete it first"


class ClientStillReferenced(AppError):
    """The client cannot be deleted because other data still refers to it."""

    code = "AUTH-409-004"
    status = 409
    issue_type = "conflict"
    title = "The client is still referenced: deactivate it instead"


class LoginThrottled(AppError):
    """Repeated failed logins for this username from this address: wait before trying again."""

    code = "AUTH-429-001"
    status = 429
    issue_type = "throttled"
    title = "Too many failed logins: wait for Retry-After seconds"


class OAuthError(AppError):
    """An error of the token endpoint, rendered as RFC 6749 JSON instead of OperationOutcome."""

    oauth_error: str = "invalid_request"


class OAuthInvalidRequest(OAuthError):
    """A required token parameter is missing, repeated, or malformed."""

    code = "AUTH-400-010"
    status = 400
    issue_type = "required"
    title = (
        "Invalid request. Check that all required parameters "
        "(client_id, client_secret and grant_type) have been provided."
    )
    oauth_error = "invalid_request"


class OAuthUnsupportedGrant(OAuthError):
    """The grant type is not client_credentials."""

    code = "AUTH-400-011"
    status = 400
    issue_type = "not-supported"
    title = "Invalid grant type. Only client_credentials is supported."
    oauth_error = "unsupported_grant_type"


class OAuthInvalidScope(OAuthError):
    """The client asked for a scope its type does not grant."""

    code = "AUTH-400-012"
    status = 400
    issue_type = "value"
    title = "The requested scope is not granted to this client."
    oauth_error = "invalid_scope"


class OAuthInvalidClient(OAuthError):
    """Unknown client, wrong secret, or a deactivated client."""

    code = "AUTH-401-010"
    status = 401
    issue_type = "login"
    title = "Invalid client id or secret"
    oauth_error = "invalid_client"


class OAuthThrottled(OAuthError):
    """Too many token requests for this client, or repeated failures of its id from this address."""

    code = "AUTH-429-002"
    status = 429
    issue_type = "throttled"
    title = "Too many token requests: wait for Retry-After seconds."
    oauth_error = "slow_down"


class PasswordChangeRequired(AppError):
    """An administrator reset the password (or created the user): a new one must be set first."""

    code = "AUTH-403-010"
    status = 403
    issue_type = "security"
    title = (
        "You must set a new password before signing in: sign in on the web page, or POST "
        "/api/auth/password with username, password and new_password"
    )


class UserNotFound(AppError):
    """No staff user with that id or username."""

    code = "AUTH-404-003"
    status = 404
    issue_type = "not-found"
    title = "No staff user with this id"


class WeakPassword(AppError):
    """A new password is too short, too common, or the two copies differ."""

    code = "AUTH-400-030"
    status = 400
    issue_type = "value"
    title = "The new password is not acceptable"


class InvalidUserSettings(AppError):
    """A user field (name, role, office, contact) is missing or has a bad value."""

    code = "AUTH-400-031"
    status = 400
    issue_type = "value"
    title = "Invalid staff user settings"


class RoleNotAllowed(AppError):
    """A local system administrator may not give or manage national roles."""

    code = "AUTH-403-011"
    status = 403
    issue_type = "forbidden"
    title = "Only a national system administrator may give or manage this role"


class OwnAccount(AppError):
    """An administrator may not deactivate, reset or demote their own account."""

    code = "AUTH-409-005"
    status = 409
    issue_type = "business-rule"
    title = "You cannot do this to your own account: ask another administrator"
