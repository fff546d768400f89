"""OpenCRVS's Authenticate collection, unchanged, against a live server, with a client created by
the real `crvshub client create` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from tests.compat.newman import run_collection
from tests.helpers import bearer


def test_authenticate_collection(live_server, database_url: str, tmp_path) -> None:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_ENVIRONMENT": "test"}
    created = subprocess.run(
        [sys.executable, "-m", "crvshub", "client", "create", "--type", "HEALTH",
         "--name", "Central Hospital", "--json"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert created.returncode == 0, created.stderr
    creds = json.loads(created.stdout)
    executions = run_collection(
        "Authenticate.postman_collection.json", live_server.url,
        {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}, tmp_path,
    )
    assert len(executions) == 1
    body = json.loads(bytes(executions[0]["response"]["stream"]["data"]).decode())
    me = httpx.get(f"{live_server.url}/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["client_id"] == creds["client_id"]
    assert me.json()["scope"] == ["declare", "notification-api"]
