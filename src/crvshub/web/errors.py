"""Errors of the staff web pages."""

from __future__ import annotations

from crvshub.errors import AppError


class LoginFormExpired(AppError):
    """The sign-in form came without the token of this browser's sign-in page (login CSRF)."""

    code = "WEB-403-001"
    status = 403
    issue_type = "forbidden"
    title = "This sign-in form has expired: reload the page and sign in again"
