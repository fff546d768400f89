"""Who may call which route: the one table the authorisation test checks.

Every route of the application must appear here, public ones as `PUBLIC`. To add a feature's
routes, add one line per (method, path) with the roles and client types that may call it, using
the helpers below, e.g. `("POST", "/notification"): clients("HEALTH")`.
Path parameters are written as FastAPI declares them (`/api/integrations/{client_id}`).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = (
    "FIELD_AGENT",
    "REGISTRATION_AGENT",
    "LOCAL_REGISTRAR",
    "LOCAL_SYSTEM_ADMIN",
    "NATIONAL_SYSTEM_ADMIN",
    "PERFORMANCE_MANAGER",
    "NATIONAL_REGISTRAR",
)
CLIENT_TYPES = ("HEALTH", "RECORD_SEARCH", "WEBHOOK", "NATIONAL_ID")


@dataclass(frozen=True)
class Access:
    """The callers allowed on one route."""

    roles: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()
    public: bool = False

    def __or__(self, other: Access) -> Access:
        return Access(self.roles | other.roles, self.clients | other.clients,
                      self.public or other.public)

    def allows(self, caller: str) -> bool:
        """Tell whether a role or client type (or "anonymous") may call the route."""
        return self.public or caller in self.roles or caller in self.clients


def roles(*names: str) -> Access:
    """Allow these staff roles."""
    unknown = set(names) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return Access(roles=frozenset(names))


def clients(*types: str) -> Access:
    """Allow these integration client types."""
    unknown = set(types) - set(CLIENT_TYPES)
    assert not unknown, f"unknown client types {unknown}"
    return Access(clients=frozenset(types))


PUBLIC = Access(public=True)
ANY_TOKEN = roles(*ROLES) | clients(*CLIENT_TYPES)
NATLSYSADMIN = roles("NATIONAL_SYSTEM_ADMIN")

ROUTES: dict[tuple[str, str], Access] = {
    # Operations and API documentation.
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/documentation"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("MOUNT", "/static"): PUBLIC,
    # Authentication.
    ("POST", "/token"): PUBLIC,
    ("POST", "/oauth2/token"): PUBLIC,
    ("POST", "/auth/token"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("GET", "/api/auth/me"): ANY_TOKEN,
    ("GET", "/.well-known"): PUBLIC,
    ("GET", "/.well-known/jwks.json"): PUBLIC,
    # Integration client management.
    ("POST", "/api/integrations"): NATLSYSADMIN,
    ("GET", "/api/integrations"): NATLSYSADMIN,
    ("GET", "/api/integrations/{client_id}"): NATLSYSADMIN,
    ("PATCH", "/api/integrations/{client_id}"): NATLSYSADMIN,
    ("DELETE", "/api/integrations/{client_id}"): NATLSYSADMIN,
    ("POST", "/api/integrations/{client_id}/deactivate"): NATLSYSADMIN,
    ("POST", "/api/integrations/{client_id}/reactivate"): NATLSYSADMIN,
    ("POST", "/api/integrations/{client_id}/refresh-secret"): NATLSYSADMIN,
    ("GET", "/api/integrations/{client_id}/sha-secret"): NATLSYSADMIN,
    ("GET", "/api/integrations/{client_id}/audit"): NATLSYSADMIN,
    # Staff web UI (pages check the session themselves).
    ("GET", "/"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
}

# Values for path parameters when the test calls a route: ids that match nothing.
PATH_VALUES: dict[str, str] = {
    "client_id": "00000000-0000-4000-8000-000000000000",
    "id": "00000000-0000-4000-8000-000000000000",
}
