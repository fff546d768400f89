"""Errors of the staff web pages."""

from __future__ import annotations

from crvshub.errors import AppError
from crvshub.web.i18n import N_


class LoginFormExpired(AppError):
    """The sign-in form came without the token of this browser's sign-in page (login CSRF)."""

    code = "WEB-403-001"
    status = 403
    issue_type = "forbidden"
    title = N_("This sign-in form has expired: reload the page and sign in again")


class IncompleteNotConfirmed(AppError):
    """Registering or validating a declaration that lacks required fields was not confirmed."""

    code = "WEB-422-001"
    status = 422
    issue_type = "required"
    title = N_("This declaration lacks fields the country requires: tick the confirmation to go "
               "ahead anyway, or send it for updates")


class NoCorrection(AppError):
    """A correction request changed nothing."""

    code = "WEB-400-001"
    status = 400
    issue_type = "invalid"
    title = N_("The correction changes nothing: change at least one field")


class DocumentNotViewable(AppError):
    """The supporting document asked for is not in the record or cannot be shown."""

    code = "WEB-404-001"
    status = 404
    issue_type = "not-found"
    title = N_("No viewable document at this position in the record")


class UnknownLanguage(AppError):
    """The language chosen for the pages has no catalogue."""

    code = "WEB-400-002"
    status = 400
    issue_type = "invalid"
    title = N_("Unknown language: choose one the list offers")


class NotEditable(AppError):
    """The record's declaration cannot be edited any more (registered, archived...) by this user."""

    code = "WEB-409-001"
    status = 409
    issue_type = "business-rule"
    title = N_("This declaration cannot be edited: it is registered, archived or waiting for "
               "another step; request a correction instead once it is registered")


class BadQueueFilter(AppError):
    """A workqueue filter names an unknown place or an impossible range of dates."""

    code = "WEB-400-003"
    status = 400
    issue_type = "invalid"
    title = N_("This filter cannot be used: choose a place from the list and a start date "
               "before the end date")
