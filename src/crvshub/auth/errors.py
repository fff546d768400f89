"""Errors of staff users, integration clients and tokens."""

from __future__ import annotations

from crvshub.errors import AppError


class InvalidLogin(AppError):
    """Wrong username or password."""

    code = "AUTH-401-004"
    status = 401
    issue_type = "login"
    title = "Wrong username or password"


class UserNotFound(AppError):
    """No staff user with that username or id."""

    code = "AUTH-404-001"
    status = 404
    issue_type = "not-found"
    title = "No such user"


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
