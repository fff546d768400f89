"""Roles, client types and the scopes each one grants (pure: standard library only)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """Staff roles (OpenCRVS systemRole names)."""

    FIELD_AGENT = "FIELD_AGENT"
    REGISTRATION_AGENT = "REGISTRATION_AGENT"
    LOCAL_REGISTRAR = "LOCAL_REGISTRAR"
    LOCAL_SYSTEM_ADMIN = "LOCAL_SYSTEM_ADMIN"
    NATIONAL_SYSTEM_ADMIN = "NATIONAL_SYSTEM_ADMIN"
    PERFORMANCE_MANAGER = "PERFORMANCE_MANAGER"
    NATIONAL_REGISTRAR = "NATIONAL_REGISTRAR"


class ClientType(StrEnum):
    """Integration client types."""

    HEALTH = "HEALTH"
    RECORD_SEARCH = "RECORD_SEARCH"
    WEBHOOK = "WEBHOOK"
    NATIONAL_ID = "NATIONAL_ID"
    # A statistics office or researcher: vital statistics and bulk export, no single record.
    STATISTICS = "STATISTICS"


class Scope(StrEnum):
    """Every scope a token can carry (OpenCRVS v1.2-v1.6 names)."""

    DECLARE = "declare"
    VALIDATE = "validate"
    REGISTER = "register"
    CERTIFY = "certify"
    PERFORMANCE = "performance"
    SYSADMIN = "sysadmin"
    NATLSYSADMIN = "natlsysadmin"
    CONFIG = "config"
    TEAMS = "teams"
    NOTIFICATION_API = "notification-api"
    RECORDSEARCH = "recordsearch"
    WEBHOOK = "webhook"
    NATIONAL_ID = "nationalId"
    STATISTICS = "statistics"
    CONFIRM_REGISTRATION = "record.confirm-registration"
    REJECT_REGISTRATION = "record.reject-registration"


ROLE_SCOPES: dict[Role, tuple[Scope, ...]] = {
    Role.FIELD_AGENT: (Scope.DECLARE,),
    Role.REGISTRATION_AGENT: (Scope.VALIDATE, Scope.PERFORMANCE, Scope.CERTIFY),
    Role.LOCAL_REGISTRAR: (Scope.REGISTER, Scope.PERFORMANCE, Scope.CERTIFY),
    Role.LOCAL_SYSTEM_ADMIN: (Scope.SYSADMIN,),
    Role.NATIONAL_SYSTEM_ADMIN: (Scope.SYSADMIN, Scope.NATLSYSADMIN),
    Role.PERFORMANCE_MANAGER: (Scope.PERFORMANCE,),
    Role.NATIONAL_REGISTRAR: (
        Scope.REGISTER,
        Scope.PERFORMANCE,
        Scope.CERTIFY,
        Scope.CONFIG,
        Scope.TEAMS,
    ),
}

NATIONAL_ROLES = frozenset(
    {Role.NATIONAL_SYSTEM_ADMIN, Role.NATIONAL_REGISTRAR, Role.PERFORMANCE_MANAGER}
)

CLIENT_SCOPES: dict[ClientType, tuple[Scope, ...]] = {
    ClientType.HEALTH: (Scope.DECLARE, Scope.NOTIFICATION_API),
    ClientType.RECORD_SEARCH: (Scope.RECORDSEARCH,),
    ClientType.WEBHOOK: (Scope.WEBHOOK,),
    ClientType.NATIONAL_ID: (Scope.NATIONAL_ID,),
    ClientType.STATISTICS: (Scope.STATISTICS,),
}

BASE_AUDIENCE = (
    "opencrvs:auth-user",
    "opencrvs:user-mgnt-user",
    "opencrvs:hearth-user",
    "opencrvs:gateway-user",
    "opencrvs:notification-user",
    "opencrvs:workflow-user",
    "opencrvs:search-user",
    "opencrvs:metrics-user",
    "opencrvs:countryconfig-user",
    "opencrvs:webhooks-user",
    "opencrvs:config-user",
    "opencrvs:documents-user",
)
EXTRA_AUDIENCE: dict[ClientType, tuple[str, ...]] = {
    ClientType.HEALTH: ("opencrvs:notification-api-user",),
    ClientType.NATIONAL_ID: ("opencrvs:nationalId-api-user",),
}


def scopes_for_role(role: str) -> list[str]:
    """Return the scopes a staff role grants."""
    return [str(s) for s in ROLE_SCOPES[Role(role)]]


def scopes_for_client(client_type: str) -> list[str]:
    """Return the scopes an integration client type grants."""
    return [str(s) for s in CLIENT_SCOPES[ClientType(client_type)]]


def audience_for_client(client_type: str) -> list[str]:
    """Return the JWT audience list for a client type."""
    return [*BASE_AUDIENCE, *EXTRA_AUDIENCE.get(ClientType(client_type), ())]


class ClientStatus(StrEnum):
    """Lifecycle of an integration client (OpenCRVS names)."""

    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class IntegratingSystemType(StrEnum):
    """What kind of system a NATIONAL_ID client is."""

    MOSIP = "MOSIP"
    OSIA = "OSIA"
    OTHER = "OTHER"


# Composition section codes a WEBHOOK client may be given, per event.
WEBHOOK_SECTIONS: dict[str, tuple[str, ...]] = {
    "birth": (
        "child-details",
        "mother-details",
        "father-details",
        "informant-details",
        "supporting-documents",
    ),
    "death": ("deceased-details", "death-encounter", "informant-details", "supporting-documents"),
}

DEFAULT_DAILY_QUOTA = 2000
MAX_DAILY_QUOTA = 10_000_000


def check_webhook_permissions(permissions: object) -> list[tuple[str, str]]:
    """Return (FHIRPath-like location, problem) pairs for a webhook permissions list."""
    if not isinstance(permissions, list):
        return [("webhook_permissions", "must be a list of {event, permissions}")]
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(permissions):
        where = f"webhook_permissions[{index}]"
        if not isinstance(item, dict):
            problems.append((where, "must be an object {event, permissions}"))
            continue
        event = item.get("event")
        if event not in WEBHOOK_SECTIONS:
            problems.append((f"{where}.event", f"must be one of {', '.join(WEBHOOK_SECTIONS)}"))
            continue
        if event in seen:
            problems.append((f"{where}.event", f"{event!r} is listed twice"))
        seen.add(str(event))
        sections = item.get("permissions")
        if not isinstance(sections, list):
            problems.append((f"{where}.permissions", "must be a list of section codes"))
            continue
        allowed = WEBHOOK_SECTIONS[str(event)]
        for pos, code in enumerate(sections):
            if code not in allowed:
                problems.append(
                    (f"{where}.permissions[{pos}]", f"{code!r} is not a {event} section: "
                     f"use {', '.join(allowed)}")
                )
    return problems


def normalise_webhook_permissions(permissions: list[dict[str, object]]) -> list[dict[str, object]]:
    """Return valid permissions with every event present, sections de-duplicated and ordered."""
    given: dict[str, set[str]] = {}
    for item in permissions:
        codes = item.get("permissions")
        given[str(item["event"])] = {str(c) for c in codes} if isinstance(codes, list) else set()
    result: list[dict[str, object]] = []
    for event, allowed in WEBHOOK_SECTIONS.items():
        chosen = given.get(event, set())
        result.append({"event": event, "permissions": [s for s in allowed if s in chosen]})
    return result


def client_name_key(name: str) -> str:
    """Return the form of a client name compared for uniqueness (case and spaces folded)."""
    return " ".join(name.split()).casefold()


class PrincipalKind(StrEnum):
    """What an authenticated caller is (the token's `crvshub:kind`)."""

    USER = "user"
    CLIENT = "client"
    RECORD = "record"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a staff user, an integration client, or a record token."""

    kind: PrincipalKind
    subject: str
    name: str
    scopes: frozenset[str]
    token_id: str
    role: str | None = None
    office_id: str | None = None
    client_type: str | None = None
    client_id: str | None = None
    record_id: str | None = None
    # A user's username; for a client, the username of the admin who registered it (what
    # OpenCRVS calls the system's `username`).
    username: str = ""
    compat: str = "crvshub"

    def has_any(self, scopes: tuple[str, ...]) -> bool:
        """Tell whether the caller holds at least one of the scopes."""
        return not scopes or any(s in self.scopes for s in scopes)

    @property
    def label(self) -> str:
        """Return a human label for audits: name and kind."""
        if self.kind == PrincipalKind.CLIENT:
            return f"{self.name} ({self.client_type})"
        return f"{self.name} ({self.role or self.kind})"


@dataclass(frozen=True)
class ClientSummary:
    """What other features may know of an integration client (read through `auth.service`)."""

    id: str
    client_id: str
    name: str
    type: str
    status: str
    created_by: str | None
    webhook_permissions: list[dict[str, Any]]


class CompatMode(StrEnum):
    """How a client wants answers where CRVS Hub differs from OpenCRVS on purpose."""

    CRVSHUB = "crvshub"
    OPENCRVS_STRICT = "opencrvs-strict"


def creator_username(created_by: str | None) -> str:
    """Return the username of whoever registered a client (`user:j.campbell` -> `j.campbell`).

    OpenCRVS stores the registering admin's username on the system and shows it as the
    system's `username`; CRVS Hub keeps `user:<username>` or `cli:<account>` for its audit.
    """
    if not created_by:
        return ""
    return created_by.split(":", 1)[1] if ":" in created_by else created_by
