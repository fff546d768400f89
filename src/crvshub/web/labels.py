"""Words for the codes the staff pages show: statuses, roles, events, workqueues, audit verbs,
and times in the office's time zone.

The tables hold English source strings marked with `N_`; the pages translate them into the
reader's language (`status_label`, `role_label`, ... filters in the templates, `*_in(language)`
functions in Python). A code without a label is shown as it is, never hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request

from crvshub.errors import AppError, Issue
from crvshub.location.domain import LocationView
from crvshub.web import error_messages, i18n
from crvshub.web.i18n import N_

Gettext = Callable[[str], str]

STATUSES: dict[str, str] = {
    "IN_PROGRESS": N_("In progress"),
    "DECLARED": N_("Declared"),
    "VALIDATED": N_("Validated"),
    "WAITING_VALIDATION": N_("In external validation"),
    "REGISTERED": N_("Registered"),
    "CERTIFIED": N_("Certified"),
    "ISSUED": N_("Issued"),
    "REJECTED": N_("Requires updates"),
    "ARCHIVED": N_("Archived"),
    "CORRECTION_REQUESTED": N_("Correction requested"),
    # Integration clients, users, subscriptions, webhook deliveries and certificates: shown in
    # lower case, as badges, like their codes.
    "active": N_("active"),
    "deactivated": N_("deactivated"),
    "disabled": N_("disabled"),
    "pending": N_("pending"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
    "current": N_("current"),
    "superseded": N_("superseded"),
    "revoked": N_("revoked"),
}
ROLES: dict[str, str] = {
    "FIELD_AGENT": N_("Field agent"),
    "REGISTRATION_AGENT": N_("Registration agent"),
    "LOCAL_REGISTRAR": N_("Local registrar"),
    "LOCAL_SYSTEM_ADMIN": N_("Local system administrator"),
    "NATIONAL_SYSTEM_ADMIN": N_("National system administrator"),
    "PERFORMANCE_MANAGER": N_("Performance manager"),
    "NATIONAL_REGISTRAR": N_("National registrar"),
}
EVENTS: dict[str, str] = {"birth": N_("Birth"), "death": N_("Death")}
WORKQUEUES: dict[str, str] = {
    "in-progress-health-system": N_("In progress: health system"),
    "in-progress-field-agents": N_("In progress: field agents"),
    "ready-for-review": N_("Ready for review"),
    "requires-updates": N_("Requires updates"),
    "in-external-validation": N_("In external validation"),
    "ready-to-print": N_("Ready to print"),
    "ready-to-issue": N_("Ready to issue"),
}
# The record audit's actions (record.views.VERBS), as the history shows them.
VERBS: dict[str, str] = {
    "sent-notification": N_("Sent incomplete"),
    "declared": N_("Declared"),
    "validated": N_("Validated"),
    "registered": N_("Registered"),
    "waiting-validation": N_("Sent for external validation"),
    "registration-confirmed": N_("Registration confirmed"),
    "registration-rejected": N_("Registration rejected"),
    "rejected": N_("Sent for updates"),
    "certified": N_("Certified"),
    "certificate-downloaded": N_("Certificate downloaded"),
    "certificate-revoked": N_("Certificate revoked"),
    "credential-issued": N_("Credential issued"),
    "credential-downloaded": N_("Credential downloaded"),
    "credential-revoked": N_("Credential revoked"),
    "issued": N_("Issued"),
    "archived": N_("Archived"),
    "reinstated": N_("Reinstated"),
    "assigned": N_("Assigned"),
    "unassigned": N_("Unassigned"),
    "viewed": N_("Viewed"),
    "downloaded": N_("Downloaded"),
    "retrieved": N_("Retrieved"),
    "updated": N_("Updated"),
    "correction-requested": N_("Correction requested"),
    "correction-approved": N_("Correction approved"),
    "correction-rejected": N_("Correction rejected"),
    "corrected": N_("Corrected"),
    "marked-as-duplicate": N_("Marked as a duplicate"),
    "marked-as-not-duplicate": N_("Marked as not a duplicate"),
    "flagged-as-potential-duplicate": N_("Flagged as a potential duplicate"),
    "death-reversed": N_("Death registration reversed"),
}
CLIENT_KINDS: dict[str, str] = {"HEALTH": N_("health system"),
                                "NATIONAL_ID": N_("national ID system")}
# Integration client types and the management audit's actions (auth.user_admin.ACTION_WORDS).
CLIENT_TYPES: dict[str, str] = {
    "HEALTH": N_("Health system"), "NATIONAL_ID": N_("National ID system"),
    "RECORD_SEARCH": N_("Record search"), "WEBHOOK": N_("Webhook"),
    "STATISTICS": N_("Statistics"),
}
AUDIT_WORDS: tuple[str, ...] = (
    N_("Account created"), N_("Account changed"), N_("Account deactivated"),
    N_("Account reactivated"), N_("Password reset"), N_("New password set"),
    N_("Registered integration client"), N_("Changed integration client"),
    N_("Deactivated integration client"), N_("Reactivated integration client"),
    N_("Refreshed the secret of integration client"),
    N_("Revealed the sha secret of integration client"), N_("Deleted integration client"),
)


def _label(table: dict[str, str], code: str | None, gettext: Gettext) -> str:
    if not code:
        return ""
    found = table.get(code)
    return gettext(found) if found else code


def status_in(code: str | None, gettext: Gettext) -> str:
    """Return a status code in words: REGISTERED -> Registered (Enregistré in French)."""
    return _label(STATUSES, code, gettext)


def role_in(code: str | None, gettext: Gettext) -> str:
    """Return a staff role in words: LOCAL_REGISTRAR -> Local registrar."""
    return _label(ROLES, code, gettext)


def verb_in(action: str, gettext: Gettext) -> str:
    """Return a record audit action in words: registered -> Registered."""
    return _label(VERBS, action, gettext) or action


def actor_in(actor: dict[str, Any], gettext: Gettext) -> str:
    """Return who did an audited action: 'Name (Local registrar)', 'Name (health system)'."""
    name = str(actor.get("name") or "")
    role = actor.get("role")
    if actor.get("type") == "client":
        kind = gettext(CLIENT_KINDS[role]) if role in CLIENT_KINDS else \
            (str(role).lower() if role else gettext("system"))
        return f"{name} ({kind})"
    if actor.get("type") == "system" or not role:
        return name
    return f"{name} ({role_in(str(role), gettext)})"


def history_line(item: dict[str, Any], gettext: Gettext) -> str:
    """Return the line of a record audit entry in a language: 'Registered by Name (role)'."""
    who = actor_in(item["actor"], gettext)
    if item["action"] == "sent-notification" and item["actor"].get("type") == "client":
        return gettext("Sent by %(who)s") % {"who": who}
    return gettext("%(what)s by %(who)s") % {"what": verb_in(item["action"], gettext),
                                             "who": who}


@cache
def zone(name: str) -> tzinfo:
    """Return the time zone of an IANA name (UTC when empty or unknown)."""
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_of(context: Context | None) -> str:
    """Return the IANA time zone name of the office the page is for (a country setting)."""
    request = context.get("request") if context is not None else None
    state = getattr(getattr(request, "app", None), "state", None)
    ctx = getattr(state, "ctx", None)
    name = getattr(getattr(ctx, "settings", None), "time_zone", "UTC")
    return name if isinstance(name, str) and name else "UTC"


def when_in(value: str | None, zone_name: str) -> str:
    """Format an ISO timestamp for people in a time zone: 2026-03-01 16:05 CAT (dates alone)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d")
    local = moment.astimezone(zone(zone_name))
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or zone_name)


def day_in(value: str, zone_name: str) -> str:
    """Return the calendar day of an ISO timestamp in a time zone (2026-03-01)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value[:10]
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d")
    return moment.astimezone(zone(zone_name)).strftime("%Y-%m-%d")


def age_in(value: str | None, language: str, now: datetime | None = None) -> str:
    """Return how long ago an ISO timestamp was, roughly: 12 min, 5 h, 3 days."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    ngettext = i18n.ngettext_for(language)
    if seconds < 3600:
        minutes = seconds // 60
        return ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
    if seconds < 2 * 86400:
        hours = seconds // 3600
        return ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours}
    days = seconds // 86400
    return ngettext("%(num)d day", "%(num)d days", days) % {"num": days}


def _language(context: Context) -> str:
    language = context.get("lang")
    if isinstance(language, str) and language in i18n.LANGUAGES:
        return language
    request = context.get("request")
    return i18n.language_of(request) if isinstance(request, Request) else i18n.DEFAULT_LANGUAGE


def _filter(table: dict[str, str]) -> Callable[..., str]:
    @pass_context
    def label(context: Context, code: str | None) -> str:
        return _label(table, code, i18n.gettext_for(_language(context)))

    return label


@pass_context
def _translate(context: Context, message: str | None) -> str:
    """Translate a string known only at run time (an error message, an office name) when the
    catalogue has it; unlike `_`, never read it as a %-format."""
    return i18n.gettext_for(_language(context))(message) if message else ""


@pass_context
def _error_message(context: Context, error: AppError | Issue | None) -> str:
    """Translate an error's (or issue's) message by its code, values kept."""
    return error_messages.message_of(error, i18n.gettext_for(_language(context))) if error else ""


@pass_context
def _error_title(context: Context, error: AppError | None) -> str:
    return error_messages.title_of(error, i18n.gettext_for(_language(context))) if error else ""


@pass_context
def _when(context: Context, value: str | None) -> str:
    return when_in(value, zone_of(context))


@pass_context
def _age(context: Context, value: str | None) -> str:
    return age_in(value, _language(context))


@pass_context
def _zone_name(context: Context) -> str:
    return zone_of(context)


def install(env: Any) -> None:
    """Give a Jinja environment the label filters, `when`, `age` and `time_zone()`."""
    env.filters["status_label"] = _filter(STATUSES)
    env.filters["role_label"] = _filter(ROLES)
    env.filters["event_label"] = _filter(EVENTS)
    env.filters["queue_title"] = _filter(WORKQUEUES)
    env.filters["client_type"] = _filter(CLIENT_TYPES)
    env.filters["translate"] = _translate
    env.filters["error_message"] = _error_message
    env.filters["error_title"] = _error_title
    env.filters["when"] = _when
    env.filters["age"] = _age
    env.globals["time_zone"] = _zone_name


def place_name(view: LocationView, language: str) -> str:
    """Return a place's name in a language when the country data gives one (`name_fr`...)."""
    names = view.extra.get("names") if isinstance(view.extra, dict) else None
    found = names.get(language) if isinstance(names, dict) else None
    return found if isinstance(found, str) and found else view.name


def localized(find: Callable[[str], LocationView | None], language: str,
              ) -> Callable[[str], LocationView | None]:
    """Return a location lookup whose places carry their names in a language."""

    def lookup(location_id: str) -> LocationView | None:
        view = find(location_id)
        if view is None:
            return None
        name = place_name(view, language)
        return view if name == view.name else replace(view, name=name)

    return lookup
