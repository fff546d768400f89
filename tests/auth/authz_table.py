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
CLIENT_TYPES = ("HEALTH", "RECORD_SEARCH", "WEBHOOK", "NATIONAL_ID", "STATISTICS")
# Record tokens the registration hook gets: for the record a route acts on, or for another one.
RECORD_TOKENS = ("RECORD_TOKEN", "OTHER_RECORD_TOKEN")


@dataclass(frozen=True)
class Access:
    """The callers allowed on one route."""

    roles: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()
    public: bool = False
    tokens: frozenset[str] = frozenset()

    def __or__(self, other: Access) -> Access:
        return Access(self.roles | other.roles, self.clients | other.clients,
                      self.public or other.public, self.tokens | other.tokens)

    def allows(self, caller: str) -> bool:
        """Tell whether a role, client type or record token (or "anonymous") may call it."""
        return (self.public or caller in self.roles or caller in self.clients
                or caller in self.tokens)


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


def record_tokens(*names: str) -> Access:
    """Allow these record tokens."""
    unknown = set(names) - set(RECORD_TOKENS)
    assert not unknown, f"unknown record tokens {unknown}"
    return Access(tokens=frozenset(names))


PUBLIC = Access(public=True)
ANY_TOKEN = roles(*ROLES) | clients(*CLIENT_TYPES) | record_tokens(*RECORD_TOKENS)
HOOK = clients("NATIONAL_ID") | record_tokens("RECORD_TOKEN")
NATLSYSADMIN = roles("NATIONAL_SYSTEM_ADMIN")
RECORD_STAFF = roles("FIELD_AGENT", "REGISTRATION_AGENT", "LOCAL_REGISTRAR", "NATIONAL_REGISTRAR")
SUBSCRIBERS = clients("WEBHOOK", "NATIONAL_ID")
SYSADMINS = roles("LOCAL_SYSTEM_ADMIN", "NATIONAL_SYSTEM_ADMIN")
# Statistics clients read records only through bulk export.
FHIR_READERS = RECORD_STAFF | clients("HEALTH", "RECORD_SEARCH", "WEBHOOK", "NATIONAL_ID") \
    | record_tokens(*RECORD_TOKENS)
PRINTERS = roles("REGISTRATION_AGENT", "LOCAL_REGISTRAR", "NATIONAL_REGISTRAR")
REGISTRARS = roles("LOCAL_REGISTRAR", "NATIONAL_REGISTRAR")
# Vital statistics and bulk export: staff with `performance` or `natlsysadmin`, statistics clients.
STATISTICS_READERS = roles("REGISTRATION_AGENT", "LOCAL_REGISTRAR", "NATIONAL_SYSTEM_ADMIN",
                           "PERFORMANCE_MANAGER", "NATIONAL_REGISTRAR") | clients("STATISTICS")
# Whose figures each statistics reader sees (statistics.access; tests/statistics/test_jurisdiction):
# "country", or "office-area" (the area of the user's office and below; other areas: 403).
STATISTICS_JURISDICTION = {"REGISTRATION_AGENT": "office-area", "LOCAL_REGISTRAR": "office-area",
                           "NATIONAL_SYSTEM_ADMIN": "country", "PERFORMANCE_MANAGER": "country",
                           "NATIONAL_REGISTRAR": "country", "STATISTICS": "country"}

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
    ("POST", "/api/auth/password"): PUBLIC,
    # Staff user management.
    ("GET", "/api/users"): SYSADMINS,
    ("POST", "/api/users"): SYSADMINS,
    ("GET", "/api/users/{user_id}"): SYSADMINS,
    ("PATCH", "/api/users/{user_id}"): SYSADMINS,
    ("POST", "/api/users/{user_id}/deactivate"): SYSADMINS,
    ("POST", "/api/users/{user_id}/reactivate"): SYSADMINS,
    ("POST", "/api/users/{user_id}/reset-password"): SYSADMINS,
    ("GET", "/api/users/{user_id}/audit"): SYSADMINS,
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
    # OpenCRVS Location API (reads public) and FHIR Location.
    ("GET", "/location"): PUBLIC,
    ("GET", "/locations"): PUBLIC,
    ("GET", "/location/{location_id}"): PUBLIC,
    ("GET", "/locations/{location_id}"): PUBLIC,
    ("GET", "/location/{location_id}/hierarchy"): PUBLIC,
    ("GET", "/locations/{location_id}/hierarchy"): PUBLIC,
    ("GET", "/location/{location_id}/children"): PUBLIC,
    ("GET", "/locations/{location_id}/children"): PUBLIC,
    ("POST", "/location"): NATLSYSADMIN,
    ("POST", "/locations"): NATLSYSADMIN,
    ("PUT", "/location/{location_id}"): NATLSYSADMIN,
    ("PUT", "/locations/{location_id}"): NATLSYSADMIN,
    ("GET", "/fhir/metadata"): PUBLIC,
    ("GET", "/fhir/Location"): PUBLIC,
    ("GET", "/fhir/Location/{location_id}"): PUBLIC,
    ("GET", "/fhir/Location/{location_id}/_history"): PUBLIC,
    ("GET", "/fhir/Location/{location_id}/_history/{version_id}"): PUBLIC,
    ("POST", "/fhir/Location"): NATLSYSADMIN,
    ("PUT", "/fhir/Location/{location_id}"): NATLSYSADMIN,
    # Event notification: hospital systems, and field agents as in OpenCRVS.
    ("POST", "/notification"): clients("HEALTH") | roles("FIELD_AGENT"),
    # Registration workflow (staff who handle records).
    ("POST", "/api/records"): RECORD_STAFF,
    ("GET", "/api/records/workqueues"): RECORD_STAFF,
    ("GET", "/api/records/workqueues/{queue}"): RECORD_STAFF,
    ("GET", "/api/records/search"): RECORD_STAFF,
    ("GET", "/api/records/{record_id}"): RECORD_STAFF,
    ("GET", "/api/records/{record_id}/download"): RECORD_STAFF,
    ("PUT", "/api/records/{record_id}"): RECORD_STAFF,
    ("POST", "/api/records/{record_id}/actions/{action}"): RECORD_STAFF,
    ("GET", "/api/records/{record_id}/duplicates"): RECORD_STAFF,
    ("GET", "/api/records/{record_id}/correction"): RECORD_STAFF,
    # Registration hook callbacks: the hook's record token or a national ID client, never staff
    # (tests/registration_hook/test_callback_authz.py checks the record token's record).
    ("POST", "/confirm/registration"): HOOK,
    # GraphQL authenticates every caller; each mutation then checks its own scope and record
    # (tested in tests/registration_hook).
    ("POST", "/graphql"): ANY_TOKEN,
    # Webhook subscriptions (OpenCRVS-compatible) and their delivery log.
    ("POST", "/webhooks"): SUBSCRIBERS,
    ("GET", "/webhooks"): SUBSCRIBERS,
    ("GET", "/webhooks/{subscription_id}"): SUBSCRIBERS,
    ("DELETE", "/webhooks/{subscription_id}"): SUBSCRIBERS,
    ("GET", "/webhooks/{subscription_id}/deliveries"): SUBSCRIBERS,
    ("GET", "/webhooks/{subscription_id}/deliveries/{delivery_id}"): SUBSCRIBERS,
    ("POST", "/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver"): SUBSCRIBERS,
    ("POST", "/webhooks/{subscription_id}/enable"): SUBSCRIBERS,
    ("POST", "/webhooks/{subscription_id}/replay"): SUBSCRIBERS,
    ("GET", "/api/webhooks/backlog"): NATLSYSADMIN,
    ("GET", "/api/webhooks/subscriptions"): NATLSYSADMIN,
    ("GET", "/api/webhooks/subscriptions/{subscription_id}"): NATLSYSADMIN,
    ("GET", "/api/webhooks/subscriptions/{subscription_id}/deliveries"): NATLSYSADMIN,
    ("GET", "/api/webhooks/subscriptions/{subscription_id}/deliveries/{delivery_id}"):
        NATLSYSADMIN,
    ("POST", "/api/webhooks/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver"):
        NATLSYSADMIN,
    ("POST", "/api/webhooks/subscriptions/{subscription_id}/enable"): NATLSYSADMIN,
    ("POST", "/api/webhooks/subscriptions/{subscription_id}/replay"): NATLSYSADMIN,
    # Vital statistics and bulk export.
    ("GET", "/api/statistics/counts"): STATISTICS_READERS,
    ("GET", "/api/statistics/completeness"): STATISTICS_READERS,
    ("GET", "/api/statistics/timeliness"): STATISTICS_READERS,
    ("GET", "/api/statistics/backlog"): STATISTICS_READERS,
    ("GET", "/fhir/$export"): STATISTICS_READERS,
    ("GET", "/fhir/Patient/$export"): STATISTICS_READERS,
    ("GET", "/fhir/$export-status/{job_id}"): STATISTICS_READERS,
    ("DELETE", "/fhir/$export-status/{job_id}"): STATISTICS_READERS,
    ("GET", "/fhir/$export-file/{job_id}/{name}"): STATISTICS_READERS,
    ("POST", "/api/statistics/exports"): STATISTICS_READERS,
    ("GET", "/api/statistics/exports/{job_id}"): STATISTICS_READERS,
    ("DELETE", "/api/statistics/exports/{job_id}"): STATISTICS_READERS,
    ("GET", "/api/statistics/exports/files/{job_id}/{name}"): STATISTICS_READERS,
    # Certificates: printing needs `certify`, revoking `register`; verification is public.
    ("POST", "/api/records/{record_id}/certificates"): PRINTERS,
    ("GET", "/api/records/{record_id}/certificates"): RECORD_STAFF,
    ("GET", "/api/certificates/{certificate_id}"): RECORD_STAFF,
    ("GET", "/api/certificates/{certificate_id}/pdf"): PRINTERS,
    ("POST", "/api/certificates/{certificate_id}/revoke"): REGISTRARS,
    ("POST", "/api/records/{record_id}/credentials"): PRINTERS,
    ("GET", "/api/credentials/{credential_id}"): PRINTERS,
    ("POST", "/api/credentials/{credential_id}/revoke"): REGISTRARS,
    ("GET", "/api/verify/{code:path}"): PUBLIC,
    # DCI registry API: record search clients; signing keys: the national system admin.
    ("POST", "/registry/sync/search"): clients("RECORD_SEARCH"),
    ("POST", "/registry/search"): clients("RECORD_SEARCH"),
    ("POST", "/registry/subscribe"): clients("RECORD_SEARCH"),
    ("POST", "/registry/unsubscribe"): clients("RECORD_SEARCH"),
    ("POST", "/registry/txn/status"): clients("RECORD_SEARCH"),
    ("POST", "/registry/sync/txn/status"): clients("RECORD_SEARCH"),
    ("PUT", "/registry/clients/{client_id}/signing-key"): NATLSYSADMIN,
    ("DELETE", "/registry/clients/{client_id}/signing-key"): NATLSYSADMIN,
    ("POST", "/oauth2/client/token"): PUBLIC,
    # Staff web UI (pages check the session themselves).
    ("GET", "/records/{record_id}/certificate"): PUBLIC,
    ("POST", "/records/{record_id}/certificate"): PUBLIC,
    ("GET", "/records/{record_id}/certificates/{certificate_id}"): PUBLIC,
    ("GET", "/records/{record_id}/certificates/{certificate_id}/pdf"): PUBLIC,
    ("POST", "/records/{record_id}/credentials"): PUBLIC,
    ("GET", "/records/{record_id}/credentials/{credential_id}"): PUBLIC,
    ("GET", "/records/{record_id}/credentials/{credential_id}/download"): PUBLIC,
    ("GET", "/verify"): PUBLIC,
    ("GET", "/verify/{code:path}"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/language"): PUBLIC,
    ("GET", "/workqueues"): PUBLIC,
    ("GET", "/workqueues/{queue}"): PUBLIC,
    ("GET", "/search"): PUBLIC,
    ("GET", "/records/{record_id}"): PUBLIC,
    ("POST", "/records/{record_id}/actions/{action}"): PUBLIC,
    ("GET", "/records/{record_id}/review/{action}"): PUBLIC,
    ("GET", "/records/{record_id}/reverse-death"): PUBLIC,
    ("POST", "/records/{record_id}/reverse-death"): PUBLIC,
    ("GET", "/records/{record_id}/correction"): PUBLIC,
    ("POST", "/records/{record_id}/correction"): PUBLIC,
    ("GET", "/records/{record_id}/documents/{number}"): PUBLIC,
    ("GET", "/records/new"): PUBLIC,
    ("POST", "/records/new"): PUBLIC,
    ("GET", "/records/{record_id}/edit"): PUBLIC,
    ("POST", "/records/{record_id}/edit"): PUBLIC,
    ("GET", "/integrations"): PUBLIC,
    ("GET", "/performance"): PUBLIC,
    ("POST", "/integrations"): PUBLIC,
    ("POST", "/integrations/{client_id}/deactivate"): PUBLIC,
    ("POST", "/integrations/{client_id}/reactivate"): PUBLIC,
    ("POST", "/integrations/{client_id}/refresh-secret"): PUBLIC,
    ("POST", "/integrations/{client_id}/delete"): PUBLIC,
    ("GET", "/integrations/{client_id}"): PUBLIC,
    ("GET", "/integrations/{client_id}/secrets"): PUBLIC,
    ("POST", "/integrations/{client_id}/secrets/done"): PUBLIC,
    ("GET", "/integrations/{client_id}/{step}"): PUBLIC,
    ("POST", "/integrations/{client_id}/sha-secret"): PUBLIC,
    ("POST", "/integrations/{client_id}/permissions"): PUBLIC,
    ("POST", "/integrations/{client_id}/quota"): PUBLIC,
    ("POST", "/integrations/{client_id}/deliveries/{subscription_id}/{delivery_id}/redeliver"):
        PUBLIC,
    ("POST", "/integrations/{client_id}/subscriptions/{subscription_id}/enable"): PUBLIC,
    ("GET", "/set-password"): PUBLIC,
    ("POST", "/set-password"): PUBLIC,
    ("GET", "/users"): PUBLIC,
    ("POST", "/users"): PUBLIC,
    ("GET", "/users/{user_id}"): PUBLIC,
    ("POST", "/users/{user_id}"): PUBLIC,
    ("POST", "/users/{user_id}/deactivate"): PUBLIC,
    ("POST", "/users/{user_id}/reactivate"): PUBLIC,
    ("POST", "/users/{user_id}/reset-password"): PUBLIC,
    ("GET", "/users/{user_id}/password"): PUBLIC,
    ("POST", "/users/{user_id}/password/done"): PUBLIC,
    ("GET", "/users/{user_id}/{step}"): PUBLIC,
    # FHIR reads of records: which records each caller sees is tests/fhir_records/test_access_table.
    ("GET", "/fhir/Composition/{composition_id}/$document"): FHIR_READERS,
    **{("GET", f"/fhir/{kind}{tail}"): FHIR_READERS
       for kind in ("Composition", "Task", "Patient", "RelatedPerson", "Encounter",
                    "Observation", "Practitioner")
       for tail in ("", "/{resource_id}", "/{resource_id}/_history",
                    "/{resource_id}/_history/{version_id}")},
}

# Bodies sent with a route when it needs one to reach its authorisation check.
BODIES: dict[tuple[str, str], object] = {
    ("POST", "/graphql"): {"query": "{ __typename }"},
}

# Values for path parameters when the test calls a route: ids that match nothing.
PATH_VALUES: dict[str, str] = {
    "client_id": "00000000-0000-4000-8000-000000000000",
    "id": "00000000-0000-4000-8000-000000000000",
    "record_id": "00000000-0000-4000-8000-000000000000",
    "location_id": "00000000-0000-4000-8000-000000000000",
    "subscription_id": "00000000-0000-4000-8000-000000000000",
    "delivery_id": "00000000-0000-4000-8000-000000000000",
    "version_id": "1",
    "queue": "ready-for-review",
    "action": "validate",
    "number": "0",
}


# Routes that change a record (or put one in an office), called on a record of another office:
# local staff are in Harambo, national roles at headquarters, the record is in Dorongo. Only
# national staff, and the hook for its callbacks, may act there; a route missing from here
# fails the test. `/graphql` is called with the confirmRegistration mutation.
NATIONAL_RECORD_STAFF = roles("NATIONAL_REGISTRAR")
OTHER_OFFICE: dict[tuple[str, str], Access] = {
    ("GET", "/api/records/{record_id}"): NATIONAL_RECORD_STAFF,
    ("GET", "/api/records/{record_id}/download"): NATIONAL_RECORD_STAFF,
    ("PUT", "/api/records/{record_id}"): NATIONAL_RECORD_STAFF,
    ("POST", "/api/records/{record_id}/actions/{action}"): NATIONAL_RECORD_STAFF,
    ("GET", "/api/records/{record_id}/duplicates"): NATIONAL_RECORD_STAFF,
    ("GET", "/api/records/{record_id}/correction"): NATIONAL_RECORD_STAFF,
    ("GET", "/records/{record_id}"): NATIONAL_RECORD_STAFF,
    ("POST", "/records/{record_id}/actions/{action}"): NATIONAL_RECORD_STAFF,
    ("POST", "/records/{record_id}/correction"): NATIONAL_RECORD_STAFF,
    ("POST", "/records/{record_id}/reverse-death"): NATIONAL_RECORD_STAFF,
    ("POST", "/records/{record_id}/edit"): NATIONAL_RECORD_STAFF,
    ("POST", "/api/records/{record_id}/certificates"): roles("NATIONAL_REGISTRAR"),
    ("POST", "/records/{record_id}/certificate"): NATIONAL_RECORD_STAFF,
    ("POST", "/api/records/{record_id}/credentials"): roles("NATIONAL_REGISTRAR"),
    ("POST", "/records/{record_id}/credentials"): NATIONAL_RECORD_STAFF,
    ("POST", "/confirm/registration"): HOOK,
    ("POST", "/graphql"): HOOK,
    # A notification whose regLastOffice is another office than the sender's.
    ("POST", "/notification"): clients("HEALTH"),
}
# The staff user of each role the other-office test calls with (Harambo or headquarters).
HOME_USERS: dict[str, str] = {
    "FIELD_AGENT": "a.kipsoni",
    "REGISTRATION_AGENT": "j.mbeluke",
    "LOCAL_REGISTRAR": "r.olusinde",
    "LOCAL_SYSTEM_ADMIN": "e.dalindo",
    "NATIONAL_SYSTEM_ADMIN": "h.sewanti",
    "PERFORMANCE_MANAGER": "d.okpaleni",
    "NATIONAL_REGISTRAR": "j.ndekwa",
}


# `/graphql` is one route: its client management operations (the OpenCRVS Integrations page)
# each get their own line, called with the document and variables below by every caller.
# Ids match nothing, so an allowed caller gets a not-found error, never a refusal.
GRAPHQL_UNKNOWN = PATH_VALUES["client_id"]
GRAPHQL_OPERATIONS: dict[str, tuple[Access, dict[str, object]]] = {
    "registerSystem": (NATLSYSADMIN, {
        "query": "mutation($s: SystemInput) { registerSystem(system: $s) { clientSecret } }",
        "variables": {"s": {"name": "authz table", "type": "HEALTH"}}}),
    "refreshSystemSecret": (NATLSYSADMIN, {
        "query": "mutation($c: String!) { refreshSystemSecret(clientId: $c) { clientSecret } }",
        "variables": {"c": GRAPHQL_UNKNOWN}}),
    "deactivateSystem": (NATLSYSADMIN, {
        "query": "mutation($c: ID!) { deactivateSystem(clientId: $c) { status } }",
        "variables": {"c": GRAPHQL_UNKNOWN}}),
    "reactivateSystem": (NATLSYSADMIN, {
        "query": "mutation($c: ID!) { reactivateSystem(clientId: $c) { status } }",
        "variables": {"c": GRAPHQL_UNKNOWN}}),
    "updatePermissions": (NATLSYSADMIN, {
        "query": "mutation($s: UpdatePermissionsInput!) { updatePermissions(setting: $s) "
                 "{ status } }",
        "variables": {"s": {"clientId": GRAPHQL_UNKNOWN, "webhook": []}}}),
    "deleteSystem": (NATLSYSADMIN, {
        "query": "mutation($c: ID!) { deleteSystem(clientId: $c) { clientId } }",
        "variables": {"c": GRAPHQL_UNKNOWN}}),
    "fetchSystem": (NATLSYSADMIN, {
        "query": "query($c: ID!) { fetchSystem(clientId: $c) { clientId } }",
        "variables": {"c": GRAPHQL_UNKNOWN}}),
    "getSystem": (NATLSYSADMIN, {
        "query": "query($c: ID!) { getSystem(clientId: $c) { clientId } }",
        "variables": {"c": GRAPHQL_UNKNOWN}}),
    "searchSystems": (NATLSYSADMIN, {
        "query": "{ searchSystems { totalItems } }"}),
}
