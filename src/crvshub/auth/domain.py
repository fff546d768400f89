"""Roles, client types and the scopes each one grants (pure: standard library only)."""

from __future__ import annotations

from enum import StrEnum


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
