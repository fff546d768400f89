"""Every route is in the authorisation table, and every caller gets exactly the access it lists."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Mount

from crvshub.auth.models import User
from tests.auth.authz_table import BODIES, CLIENT_TYPES, PATH_VALUES, ROLES, ROUTES
from tests.conftest import bearer, new_client, user_token

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
    return headers


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
