"""Error messages of other features in the pages' language, by error code.

The API answers in English (its bodies do not change); a page shows an `AppError` through
`error_message`, which finds the English message among the templates of its code below
(`%(name)s` stands for a value: a record id, a username...), and answers with the template's
translation filled with the same values. A message no template matches is translated as a
whole when the catalogue has it (the web package's own `N_` messages), else left in English;
the code is always shown next to it. `tests/web/test_i18n.py` reads the services
the pages call and fails when one of their messages has no template here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from crvshub.errors import AppError, Issue
from crvshub.web.i18n import N_

# Modules whose errors the pages show (the test reads their `raise` statements).
UI_SOURCES: tuple[str, ...] = (
    "errors", "record/service", "record/actions", "record/declarations", "record/workqueues",
    "record/dedup", "record/declaration_input", "auth/user_admin", "auth/client_admin",
    "auth/service", "certificate/service", "certificate/credentials",
    "certificate/verification", "webhook/operations", "statistics/access", "web/*",
)

MESSAGES: dict[str, tuple[str, ...]] = {
    # Generic errors (crvshub.errors)
    "GEN-500-001": (N_("Internal error: report the correlation id to the operator"),
                    N_("Internal error; correlation id %(id)s")),
    "GEN-400-001": (N_("The request body is not valid JSON"),),
    "GEN-400-002": (N_("A parameter has an invalid value"),),
    "GEN-400-004": (
        N_("The request contains a value that cannot be stored (e.g. a NUL character)"),
        N_("The request contains a value the database cannot store (for example a NUL "
           "character or a number out of range): remove it and retry")),
    "GEN-404-001": (N_("No such resource"), N_("No resource at %(path)s")),
    "GEN-405-001": (N_("Method not allowed on this resource"),
                    N_("%(method)s is not allowed on %(path)s")),
    "GEN-412-001": (N_("The resource changed since you read it: reload and retry"),
                    N_("The record is at version %(version)s, not %(expected)s: reload and "
                       "retry")),
    "GEN-413-001": (N_("The request body is too large"),
                    N_("The request body is over the limit of %(limit)s bytes")),
    "GEN-429-001": (N_("Too many requests: wait for Retry-After seconds"),),
    "GEN-503-001": (N_("The database is unavailable for a moment: retry shortly"),
                    N_("The database is unavailable for a moment; nothing was saved. Retry "
                       "shortly")),
    # Staff users and integration clients (crvshub.auth)
    "AUTH-400-001": (N_("Unknown role"), N_("Unknown role %(role)s: use one of %(roles)s")),
    "AUTH-400-002": (
        N_("Unknown office: give the id or statistical id of a CRVS office"),
        N_("No CRVS office with id or statistical id %(office)s")),
    "AUTH-400-003": (N_("Invalid integration client settings"),
                     N_("type must be one of %(types)s")),
    "AUTH-400-030": (
        N_("The new password is not acceptable"),
        N_("The new password is not acceptable: the two new passwords differ"),
        N_("The new password is not acceptable: the new password must differ from the "
           "temporary one"),
        N_("The new password is not acceptable: the password must have at least %(num)s "
           "characters"),
        N_("The new password is not acceptable: the password is too easy to guess (common, "
           "repetitive or contains the username)"),
        N_("The new password is not acceptable: %(problem)s")),
    "AUTH-400-031": (N_("Invalid staff user settings"),),
    "AUTH-401-004": (N_("Wrong username or password"),),
    "AUTH-403-001": (
        N_("The token lacks the scope this action needs"),
        N_("Staff record actions are for staff users, not integration clients"),
        N_("'%(action)s' needs one of the scopes: %(scopes)s"),
        N_("Declaring needs a staff user with the declare, validate or register scope"),
        N_("Only system administrators manage staff users"),
        N_("Certificates are for staff users"),
        N_("Revoking a %(what)s needs the scope %(scope)s"),
        N_("Credentials are for staff users")),
    "AUTH-403-002": (
        N_("This resource is outside your jurisdiction"),
        N_("This record belongs to another office"),
        N_("This user belongs to another office"),
        N_("This area is outside your jurisdiction: you may see the figures of %(area)s and "
           "the areas in it")),
    "AUTH-403-011": (N_("Only a national system administrator may give or manage this role"),
                     N_("Only a national system administrator manages %(role)s users")),
    "AUTH-404-002": (N_("No integration client with this client_id"),
                     N_("No integration client with client_id %(id)s"),
                     N_("This subscription is not one of the client's")),
    "AUTH-404-003": (N_("No staff user with this id"), N_("No staff user %(id)s"),
                     N_("No active staff user"),
                     N_("No new password is expected for this user: sign in")),
    "AUTH-409-001": (N_("A user with this username already exists"),
                     N_("The username %(username)s is taken")),
    "AUTH-409-002": (N_("An integration client with this name already exists"),
                     N_("The name %(name)s is already used by client %(id)s")),
    "AUTH-409-003": (
        N_("An active NATIONAL_ID client already exists: deactivate or delete it first"),),
    "AUTH-409-004": (N_("The client is still referenced: deactivate it instead"),
                     N_("Client %(id)s is still referenced by other data: deactivate it "
                        "instead")),
    "AUTH-409-005": (N_("You cannot do this to your own account: ask another administrator"),
                     N_("You cannot deactivate your own account"),
                     N_("You cannot reset your own password here: sign in and change it"),
                     N_("You cannot change your own role")),
    "AUTH-429-001": (N_("Too many failed logins: wait for Retry-After seconds"),),
    # Records (crvshub.record)
    "REC-400-001": (N_("This action needs a reason"), N_("'%(action)s' needs a reason")),
    "REC-400-002": (N_("The declaration bundle is invalid"),
                    N_("The corrected bundle is for another event"),
                    N_("This record is a %(event)s; the bundle is a %(other)s"),
                    N_("The body must be a FHIR Bundle")),
    "REC-400-004": (N_("duplicateOf must name one of the record's potential duplicates"),
                    N_("duplicateOf must name one of the record's potential duplicates: "
                       "%(ids)s")),
    "REC-403-001": (N_("Only national roles may see another office's workqueues"),),
    "REC-404-001": (N_("No record with this id"), N_("No record with id %(id)s")),
    "REC-404-002": (N_("No such workqueue"),
                    N_("No CRVS office with id or statistical id %(office)s"),
                    N_("No workqueue %(queue)s: use one of %(queues)s")),
    "REC-404-003": (N_("No such record action"), N_("No review step for %(action)s"),
                    N_("No action %(action)s on this page")),
    "REC-409-001": (
        N_("This action is not allowed in the record's current status"),
        N_("Cannot %(action)s a record in status %(status)s (allowed: %(allowed)s)"),
        N_("Cannot %(action)s a %(event)s record: it applies to %(events)s records only")),
    "REC-409-002": (
        N_("The record is assigned to another user: ask them or a registrar to unassign it"),),
    "REC-409-003": (N_("This registration number is already used by another record"),
                    N_("Registration number %(number)s is already used")),
    "REC-409-004": (
        N_("This record is flagged as a potential duplicate: mark it 'not a duplicate' or "
           "'duplicate of' another record first"),
        N_("This record is flagged as a potential duplicate: mark it 'not a duplicate' or "
           "'duplicate of' another record before registering it")),
    "REC-409-005": (N_("This record is not flagged as a potential duplicate"),
                    N_("This record is not flagged as a potential duplicate (nothing to "
                       "resolve)")),
    "REC-428-001": (
        N_("Send If-Match with the record's ETag, or assign the record to yourself first"),),
    # Certificates (crvshub.certificate)
    "CRT-400-001": (N_("A reprint needs a reason"),
                    N_("This record already has %(count)s certificate(s): give the reason for "
                       "a reprint"),
                    N_("Revoking a %(what)s needs a reason")),
    "CRT-400-002": (N_("Who collected the certificate is incomplete"),
                    N_("Name the person who collected the certificate"),
                    N_("Give the type and number of the collector's ID document"),
                    N_("idType must be one of %(types)s"),
                    N_("paper must be one of %(sizes)s"),
                    N_("collector must be one of %(collectors)s")),
    "CRT-400-003": (N_("This is not a certificate code"),
                    N_("This is not a credential (an SD-JWT starts with a JWS)"),
                    N_("This is not a certificate code (a signed payload has 3 parts)")),
    "CRT-404-001": (N_("No certificate with this id"), N_("No certificate with id %(id)s")),
    "CRT-404-002": (N_("No credential with this id"), N_("No credential with id %(id)s")),
    "CRT-409-001": (N_("The record is not registered"),
                    N_("Only a registered record has a certificate")),
    "CRT-409-002": (N_("The certificate is no longer current"),
                    N_("The %(what)s is already %(status)s")),
    "CRT-429-001": (N_("Too many verifications"),),
    # Webhook deliveries (crvshub.webhook)
    "WH-400-008": (N_("Give `since` as an ISO 8601 date-time with a time zone"),),
    "WH-404-002": (N_("No such webhook delivery"),
                   N_("No delivery %(delivery)s in subscription %(subscription)s")),
    # The pages' own (crvshub.web.errors)
    "WEB-400-002": (N_("Unknown language %(lang)s; choose one of %(languages)s."),),
    "WEB-400-003": (N_("The start date %(start)s is after the end date %(end)s."),
                    N_("No place with id %(place)s in the country's locations.")),
}

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                    for i, part in enumerate(parts))
    return re.compile(regex, re.DOTALL)


@cache
def _patterns(code: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((template, _pattern(template)) for template in MESSAGES.get(code, ()))


def template_of(code: str, message: str) -> tuple[str, dict[str, str]] | None:
    """Return the template of a code that an English message follows, with its values."""
    for template, pattern in _patterns(code):
        found = pattern.fullmatch(message)
        if found:
            return template, found.groupdict()
    return None


def translate(code: str, message: str, gettext: Callable[[str], str]) -> str:
    """Return an error message of a code in the language of `gettext`."""
    if not message:
        return ""
    found = template_of(code, message)
    if found is None:
        return gettext(message)
    template, values = found
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], gettext(template))


def message_of(error: AppError | Issue, gettext: Callable[[str], str]) -> str:
    """Return the message of an error or one of its issues in the language of `gettext`."""
    return translate(error.code, error.message, gettext)


def title_of(error: AppError, gettext: Callable[[str], str]) -> str:
    """Return the title of an error in the language of `gettext`."""
    return translate(error.code, error.title, gettext)
