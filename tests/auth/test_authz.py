"""Every route is in the authorisation table, and every caller gets exactly the access it lists."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount

from crvshub.auth.dependencies import principal_from_token
from crvshub.auth.models import User
from crvshub.auth.service import issue_record_token
from crvshub.location.domain import stable_location_id
from crvshub.web.pages import csrf_token
from tests.auth.authz_table import (
    BODIES,
    CLIENT_TYPES,
    GRAPHQL_OPERATIONS,
    HOME_USERS,
    OTHER_OFFICE,
    PATH_VALUES,
    ROLES,
    ROUTES,
)
from tests.helpers import (
    DORONGO_OFFICE_SID,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    bearer,
    new_client,
    user_token,
)
from tests.notification.helpers import example, fresh_ids
from tests.record.helpers import act, birth_bundle, declare

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Yield (method, path) of every route, looking inside included routers."""
    for route in app.routes:
        if isinstance(route, Mount):
            yield "MOUNT", route.path
            continue
        contexts = getattr(route, "effective_route_contexts", None)
        leaves = list(contexts()) if contexts else [route]
        for leaf in leaves:
            for method in sorted(getattr(leaf, "methods", None) or ()):
                if method not in IGNORED_METHODS:
                    yield method, leaf.path


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    found = set(app_routes(app))
    missing = sorted(found - set(ROUTES))
    assert not missing, (
        "routes missing from tests/auth/authz_table.py (add them, PUBLIC if on purpose): "
        f"{missing}"
    )
    stale = sorted(set(ROUTES) - found)
    assert not stale, f"table lists routes the application does not have: {stale}"


def _callers(ctx) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    with ctx.db.transaction() as session:
        usernames = {
            role: session.scalars(select(User.username).where(User.role == role)).first()
            for role in ROLES
        }
    for role, username in usernames.items():
        assert username, f"no seeded user with role {role}"
        headers[role] = bearer(user_token(ctx, username))
    for client_type in CLIENT_TYPES:
        _creds, token = new_client(ctx, client_type, name=f"authz {client_type}")
        headers[client_type] = bearer(token)
    headers["RECORD_TOKEN"] = bearer(_record_token(ctx, PATH_VALUES["record_id"]))
    return headers


def _record_token(ctx, record_id: str) -> str:
    with ctx.db.transaction() as session:
        user = session.scalars(select(User).where(User.role == "LOCAL_REGISTRAR")).first()
        assert user
        return issue_record_token(ctx.settings, ctx.keys, user_id=user.id, record_id=record_id)


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PATH_VALUES.get(m.group(1), "x"), path)


def test_each_caller_gets_exactly_the_access_in_the_table(client: TestClient, ctx) -> None:
    callers = _callers(ctx)
    problems = []
    for (method, path), access in sorted(ROUTES.items()):
        if method == "MOUNT":
            continue
        for caller, headers in callers.items():
            status = client.request(method, _url(path), headers=headers,
                                    json=BODIES.get((method, path)),
                                    follow_redirects=False).status_code
            allowed = access.allows(caller)
            if allowed and status in (401, 403):
                problems.append(f"{method} {path}: {caller} should be allowed, got {status}")
            if not allowed and status not in (401, 403):
                problems.append(f"{method} {path}: {caller} should be refused, got {status}")
    assert not problems, "\n".join(problems)


def test_table_helpers_refuse_typos() -> None:
    from tests.auth.authz_table import clients, roles

    with pytest.raises(AssertionError):
        roles("REGISTRAR")
    with pytest.raises(AssertionError):
        clients("HOSPITAL")


RECORD_CHANGING_EXTRA = {("POST", "/notification"), ("POST", "/confirm/registration"),
                         ("POST", "/graphql")}


def test_every_record_changing_route_is_checked_on_another_office() -> None:
    changing = {(m, p) for m, p in ROUTES if m in ("POST", "PUT", "PATCH", "DELETE")
                and "{record_id}" in p} | RECORD_CHANGING_EXTRA
    missing = sorted(changing - set(OTHER_OFFICE))
    assert not missing, f"add these routes to OTHER_OFFICE in tests/auth/authz_table.py: {missing}"


def _dorongo_records(client: TestClient, ctx) -> tuple[str, str, str]:
    """Return (declared record, record waiting for validation, its tracking ID) of Dorongo."""
    clerk = user_token(ctx, "s.okerindi")
    registrar = user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE)
    declared = declare(client, clerk)["id"]
    ctx.settings.registration_hook_url = "http://127.0.0.1:9/event-registration"
    # Another child: two identical births would be flagged as potential duplicates.
    waiting = declare(client, clerk, birth_bundle(given="Nkosana"))["id"]
    response = act(client, registrar, waiting, "register")
    assert response.json()["status"] == "WAITING_VALIDATION", response.text
    return declared, waiting, response.json()["trackingId"]


def _other_office_callers(ctx, waiting: str, declared: str) -> dict[str, str]:
    tokens = {role: user_token(ctx, username) for role, username in HOME_USERS.items()}
    for client_type in CLIENT_TYPES:
        tokens[client_type] = new_client(ctx, client_type, name=f"other {client_type}")[1]
    tokens["RECORD_TOKEN"] = _record_token(ctx, waiting)
    tokens["OTHER_RECORD_TOKEN"] = _record_token(ctx, declared)
    return tokens


def _notification_to_dorongo() -> dict:
    bundle = fresh_ids(example("birth-minimal"))
    office = f"Location/{stable_location_id('FAR', DORONGO_OFFICE_SID)}"
    for entry in bundle["entry"]:
        for ext in entry["resource"].get("extension", []):
            if ext["url"].endswith("/regLastOffice"):
                ext["valueReference"]["reference"] = office
    return bundle


def _call_on_other_office(client: TestClient, ctx, route: tuple[str, str], token: str,
                          ids: tuple[str, str, str]) -> int:
    """Call one route on Dorongo's record; return the status (a GraphQL error's own status)."""
    declared, waiting, tracking = ids
    method, path = route
    url = path.replace("{record_id}", declared).replace("{action}", "assign")
    headers, body, form = bearer(token), None, None
    if path in ("/records/{record_id}", "/records/{record_id}/actions/{action}",
                "/records/{record_id}/correction", "/records/{record_id}/certificate",
                "/records/{record_id}/edit", "/records/{record_id}/credentials",
                "/records/{record_id}/reverse-death"):
        headers = {"Cookie": f"crvshub_session={token}"}
        form = {"csrf": _csrf(ctx, token), "collector": "MOTHER"}
    elif path == "/api/records/{record_id}/certificates":
        body = {"collector": "MOTHER"}
    elif route == ("PUT", "/api/records/{record_id}"):
        body = birth_bundle()
    elif path == "/confirm/registration":
        body = {"compositionId": waiting, "registrationNumber": f"2026{tracking}"}
    elif path == "/graphql":
        body = {"query": "mutation($id: ID!, $n: String!) { confirmRegistration(id: $id, "
                         "details: {registrationNumber: $n}) }",
                "variables": {"id": waiting, "n": f"2026{tracking}"}}
    elif path == "/notification":
        body = _notification_to_dorongo()
    response = client.request(method, url, headers=headers, json=body, data=form,
                              follow_redirects=False)
    if path == "/graphql" and response.status_code == 200 and response.json().get("errors"):
        return int(response.json()["errors"][0]["extensions"]["status"])
    return response.status_code


def _csrf(ctx, token: str) -> str:
    with ctx.db.sessionmaker() as session:
        return csrf_token(ctx, principal_from_token(ctx, session, token))


def test_records_of_another_office_only_for_national_staff_and_the_hook(
    client: TestClient, ctx
) -> None:
    ids = _dorongo_records(client, ctx)
    callers = _other_office_callers(ctx, ids[1], ids[0])
    problems = []
    for route, access in sorted(OTHER_OFFICE.items()):
        for caller, token in callers.items():
            status = _call_on_other_office(client, ctx, route, token, ids)
            allowed = access.allows(caller)
            if allowed and status in (401, 403):
                problems.append(f"{route}: {caller} should be allowed, got {status}")
            if not allowed and status != 403:
                problems.append(f"{route}: {caller} should be refused (403), got {status}")
    assert not problems, "\n".join(problems)


def test_every_client_management_operation_is_in_the_graphql_table() -> None:
    from crvshub.auth.graphql_fields import graphql_fields

    fields = graphql_fields()
    contributed = set(fields.query) | set(fields.mutation)
    assert contributed == set(GRAPHQL_OPERATIONS), (
        "add every client management operation to GRAPHQL_OPERATIONS in tests/auth/authz_table.py")


def _graphql_status(response) -> int:
    """Return the HTTP status, or the status of the first GraphQL error, or 200."""
    if response.status_code != 200 or not response.json().get("errors"):
        return response.status_code
    return int(response.json()["errors"][0]["extensions"]["status"])


def test_each_caller_gets_exactly_the_graphql_access_in_the_table(client: TestClient,
                                                                    ctx) -> None:
    callers = _callers(ctx)
    problems = []
    for operation, (access, body) in sorted(GRAPHQL_OPERATIONS.items()):
        for caller, headers in callers.items():
            status = _graphql_status(client.post("/graphql", json=body, headers=headers))
            allowed = access.allows(caller)
            if allowed and status in (401, 403):
                problems.append(f"{operation}: {caller} should be allowed, got {status}")
            if not allowed and status not in (401, 403):
                problems.append(f"{operation}: {caller} should be refused, got {status}")
            if status == 400 or status >= 500:
                problems.append(f"{operation}: {caller} got {status}: the table's document "
                                "must run")
    assert not problems, "\n".join(problems)
