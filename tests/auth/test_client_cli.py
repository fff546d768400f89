"""`crvshub client ...` and `crvshub keys rotate` as an operator runs them, against a live server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import jwt
import pytest

from tests.helpers import NATLSYSADMIN, bearer, user_token


def crvshub(database_url: str, *args: str, stdin: str | None = None):
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_ENVIRONMENT": "test",
           "CRVSHUB_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "crvshub", *args], capture_output=True,
                          text=True, env=env, timeout=60, check=False, input=stdin)


def _token(base: str, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(f"{base}/token", data={"client_id": client_id, "client_secret": secret,
                                             "grant_type": "client_credentials"})


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_client_lifecycle_from_the_command_line(live_server, database_url: str) -> None:
    base = live_server.url
    created = crvshub(database_url, "client", "create", "--type", "HEALTH",
                      "--name", "Central Hospital", "--json")
    assert created.returncode == 0, created.stderr
    creds = json.loads(created.stdout)
    assert set(creds) >= {"client_id", "client_secret", "sha_secret"}
    token = _token(base, creds["client_id"], creds["client_secret"])
    assert token.status_code == 200
    access = token.json()["access_token"]

    listed = json.loads(crvshub(database_url, "client", "list", "--json").stdout)
    assert [c["name"] for c in listed] == ["Central Hospital"]
    shown = crvshub(database_url, "client", "show", creds["client_id"], "--reveal-sha-secret",
                    "--json")
    assert json.loads(shown.stdout)["sha_secret"] == creds["sha_secret"]

    assert crvshub(database_url, "client", "deactivate", creds["client_id"]).returncode == 0
    # Another process changed the status: this server notices within a second.
    assert _wait_for_status(base, access, 401)
    assert crvshub(database_url, "client", "reactivate", creds["client_id"]).returncode == 0
    refreshed = json.loads(crvshub(database_url, "client", "refresh-secret", creds["client_id"],
                                   "--json").stdout)
    assert _token(base, creds["client_id"], creds["client_secret"]).status_code == 401
    assert _token(base, creds["client_id"], refreshed["client_secret"]).status_code == 200

    audit = json.loads(crvshub(database_url, "client", "audit", creds["client_id"],
                               "--json").stdout)
    assert [a["action"] for a in audit] == [
        "client.create", "client.reveal-sha-secret", "client.deactivate",
        "client.reactivate", "client.refresh-secret"]
    assert all(a["actor"].startswith("cli:") for a in audit)

    refused = crvshub(database_url, "client", "delete", creds["client_id"], stdin="n\n")
    assert refused.returncode != 0
    deleted = crvshub(database_url, "client", "delete", creds["client_id"], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert _token(base, creds["client_id"], refreshed["client_secret"]).status_code == 401


def _wait_for_status(base: str, token: str, status: int) -> bool:
    import time

    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        if httpx.get(f"{base}/api/auth/me", headers=bearer(token)).status_code == status:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cli_errors_are_one_line_with_exit_status_2(database_url: str) -> None:
    bad_type = crvshub(database_url, "client", "create", "--type", "FAX", "--name", "x")
    assert bad_type.returncode == 2 and "type must be one of" in bad_type.stderr
    bad_perm = crvshub(database_url, "client", "create", "--type", "WEBHOOK", "--name", "Hook",
                       "--webhook-birth", "child-details,secret-stuff")
    assert bad_perm.returncode == 2 and "secret-stuff" in bad_perm.stderr
    unknown = crvshub(database_url, "client", "show", "no-such-client")
    assert unknown.returncode == 2 and "no-such-client" in unknown.stderr
    ok = crvshub(database_url, "client", "create", "--type", "WEBHOOK", "--name", "Hook",
                 "--webhook-birth", "child-details", "--json")
    assert ok.returncode == 0, ok.stderr
    view = json.loads(ok.stdout)["client"]
    assert view["webhook_permissions"][0] == {"event": "birth", "permissions": ["child-details"]}
    for command in ("create", "list", "show", "update", "deactivate", "reactivate",
                    "refresh-secret", "delete", "audit"):
        helped = crvshub(database_url, "client", command, "--help")
        assert helped.returncode == 0 and len(helped.stdout) > 100, command


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_keys_rotate_on_the_command_line_while_the_server_runs(live_server,
                                                               database_url: str) -> None:
    base = live_server.url
    old = user_token(live_server.ctx, NATLSYSADMIN)
    rotated = crvshub(database_url, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new = crvshub(database_url, "user", "token", NATLSYSADMIN).stdout.strip()
    assert jwt.get_unverified_header(new)["kid"] != jwt.get_unverified_header(old)["kid"]
    # The server learns of the new key the first time a token names it.
    for token in (new, old):
        assert httpx.get(f"{base}/api/auth/me", headers=bearer(token)).status_code == 200
    kids = {k["kid"] for k in httpx.get(f"{base}/.well-known/jwks.json").json()["keys"]}
    assert {jwt.get_unverified_header(t)["kid"] for t in (old, new)} <= kids
