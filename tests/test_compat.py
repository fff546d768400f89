"""Deliberate differences from OpenCRVS: each answer in both compatibility modes, and the doc.

Every row of docs/integrations/compatibility.md names the tests that cover it; the last test
here checks that each named test exists.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.auth import client_admin
from crvshub.auth.clients import IssuedCredentials
from crvshub.auth.domain import creator_username
from crvshub.context import AppContext
from tests.auth.test_client_cli import crvshub
from tests.helpers import NATLSYSADMIN, bearer, new_client, user_token
from tests.location.helpers import DISTRICT_ID, facility
from tests.notification.helpers import OTHER_STATE_ID, example, fresh_ids, records
from tests.webhook.receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "integrations" / "compatibility.md"
STRICT = "opencrvs-strict"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


@pytest.fixture
def receiver() -> Any:
    """A running webhook receiver (answers intent checks)."""
    rec = Receiver().start()
    yield rec
    rec.stop()


def _admin(ctx: AppContext) -> dict[str, str]:
    return bearer(user_token(ctx, NATLSYSADMIN))


def _code(response: Any) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return str(body["issue"][0]["details"]["coding"][0]["code"])


@pytest.mark.parametrize(("mode", "status"), [("crvshub", 201), (STRICT, 200)])
def test_post_location_is_201_or_200_when_strict(
    client: TestClient, ctx: AppContext, mode: str, status: int
) -> None:
    ctx.settings.compat_mode = mode  # type: ignore[assignment]
    one = client.post("/location", json=facility("COMPAT_ONE", "Compat Clinic"),
                      headers=_admin(ctx))
    assert one.status_code == status, one.text
    assert one.json()["resourceType"] == "Location" and one.json()["id"]  # the body is kept
    many = client.post("/location", json=[facility("COMPAT_TWO", "Compat Two")],
                       headers=_admin(ctx))
    assert many.status_code == status and many.json()["type"] == "transaction-response"


@pytest.mark.parametrize(("mode", "status"), [("crvshub", 404), (STRICT, 400)])
def test_put_unknown_location_is_404_or_400_when_strict(
    client: TestClient, ctx: AppContext, mode: str, status: int
) -> None:
    ctx.settings.compat_mode = mode  # type: ignore[assignment]
    response = client.put("/location/nope", json={"name": "x"}, headers=_admin(ctx))
    assert response.status_code == status and _code(response) == "LOC-404-001"
    known = client.put(f"/location/{DISTRICT_ID}", json={"name": "Harambo"},
                       headers=_admin(ctx))
    assert known.status_code == 200


def _rule_breaking_bundle() -> dict[str, Any]:
    bundle = fresh_ids(example("birth-minimal"))
    bundle["entry"][1]["resource"]["extension"].append({
        "url": "http://opencrvs.org/specs/extension/regLastLocation",
        "valueReference": {"reference": f"Location/{OTHER_STATE_ID}"}})
    return bundle


@pytest.mark.parametrize(("mode", "status"), [("crvshub", 422), (STRICT, 400)])
def test_notification_rule_failure_is_422_or_400_for_a_strict_client(
    client: TestClient, ctx: AppContext, mode: str, status: int
) -> None:
    _creds, token = new_client(ctx, "HEALTH", compat_mode=mode)
    response = client.post("/notification", json=_rule_breaking_bundle(), headers=bearer(token))
    assert response.status_code == status
    assert _code(response) == "NOTIF-422-005"  # the same OperationOutcome in both modes
    malformed = client.post("/notification", json={"resourceType": "Bundle"},
                            headers=bearer(token))
    assert malformed.status_code == 400 and _code(malformed).startswith("NOTIF-400")
    saved = client.post("/notification", json=fresh_ids(example("birth-minimal")),
                        headers=bearer(token))
    assert saved.status_code == 200


def test_staff_notifiers_follow_the_server_setting(client: TestClient, ctx: AppContext) -> None:
    _creds, strict_client = new_client(ctx, "HEALTH", compat_mode=STRICT)
    ctx.settings.compat_mode = STRICT  # type: ignore[assignment]
    _c, default_client = new_client(ctx, "HEALTH")
    # A client's own mode wins over the server setting, which is for staff tokens.
    answer = client.post("/notification", json=_rule_breaking_bundle(),
                         headers=bearer(default_client))
    assert answer.status_code == 422
    answer = client.post("/notification", json=_rule_breaking_bundle(),
                         headers=bearer(strict_client))
    assert answer.status_code == 400


@pytest.mark.parametrize(("mode", "saved", "changed_status"),
                         [("crvshub", 1, 409), (STRICT, 3, 200)])
def test_composition_identifier_is_an_implicit_key_unless_strict(
    client: TestClient, ctx: AppContext, mode: str, saved: int, changed_status: int
) -> None:
    _creds, token = new_client(ctx, "HEALTH", compat_mode=mode)
    bundle = example("birth-full")  # carries identifier HARAMBO-HOSP-2026-000123
    first = client.post("/notification", json=bundle, headers=bearer(token))
    again = client.post("/notification", json=bundle, headers=bearer(token))
    assert first.status_code == again.status_code == 200
    assert (again.json() == first.json()) is (mode == "crvshub")
    changed = example("birth-full")
    changed["entry"][2]["resource"]["gender"] = "female"
    assert client.post("/notification", json=changed,
                       headers=bearer(token)).status_code == changed_status
    assert records(ctx) == saved
    # The explicit Idempotency-Key header protects retries in both modes.
    keyed = fresh_ids(example("birth-minimal"))
    headers = {**bearer(token), "Idempotency-Key": "HIS-42"}
    one = client.post("/notification", json=keyed, headers=headers)
    two = client.post("/notification", json=keyed, headers=headers)
    assert two.headers["Idempotent-Replayed"] == "true" and two.json() == one.json()


def _subscribe(client: TestClient, creds: IssuedCredentials, token: str, url: str) -> str:
    hub = {"callback": url, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
           "secret": creds.sha_secret}
    assert client.post("/webhooks", json={"hub": hub}, headers=bearer(token)).status_code == 202
    return str(client.get("/webhooks", headers=bearer(token)).json()["entries"][-1]["id"])


@pytest.mark.parametrize(("mode", "status"), [("crvshub", 404), (STRICT, 400)])
def test_deleting_another_clients_subscription_is_404_or_400_when_strict(
    client: TestClient, ctx: AppContext, receiver: Receiver, mode: str, status: int
) -> None:
    owner_creds, owner = new_client(ctx, "WEBHOOK", name="owner")
    sub_id = _subscribe(client, owner_creds, owner, receiver.url)
    _c, other = new_client(ctx, "WEBHOOK", name="other", compat_mode=mode)
    response = client.delete(f"/webhooks/{sub_id}", headers=bearer(other))
    assert response.status_code == status and _code(response) == "WH-404-001"
    unknown = client.delete("/webhooks/no-such-id", headers=bearer(other))
    assert unknown.status_code == status
    # Never deleted, in either mode (OpenCRVS would have deleted it).
    assert [e["id"] for e in client.get("/webhooks", headers=bearer(owner)).json()["entries"]] \
        == [sub_id]
    assert client.delete(f"/webhooks/{sub_id}", headers=bearer(owner)).status_code == 204


@pytest.mark.parametrize("mode", ["crvshub", STRICT])
def test_error_bodies_are_operation_outcomes_in_both_modes(
    client: TestClient, ctx: AppContext, mode: str
) -> None:
    _creds, token = new_client(ctx, "HEALTH", compat_mode=mode)
    response = client.post("/notification", json={"resourceType": "Patient"},
                           headers=bearer(token))
    assert response.status_code == 400
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["details"]["coding"][0]["system"] == "urn:crvshub:error-code"


def test_compat_mode_is_set_and_changed_through_the_admin_api(
    client: TestClient, ctx: AppContext
) -> None:
    body = {"name": "Strict HIS", "type": "HEALTH", "compat_mode": STRICT}
    created = client.post("/api/integrations", json=body, headers=_admin(ctx))
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    assert created.json()["client"]["compat_mode"] == STRICT
    default = client.post("/api/integrations", json={"name": "Plain HIS", "type": "HEALTH"},
                          headers=_admin(ctx))
    assert default.json()["client"]["compat_mode"] == "crvshub"
    changed = client.patch(f"/api/integrations/{client_id}", json={"compat_mode": "crvshub"},
                           headers=_admin(ctx))
    assert changed.status_code == 200 and changed.json()["compat_mode"] == "crvshub"
    bad = client.patch(f"/api/integrations/{client_id}", json={"compat_mode": "loose"},
                       headers=_admin(ctx))
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["compat_mode"]
    audit = client.get(f"/api/integrations/{client_id}/audit", headers=_admin(ctx)).json()
    assert audit["entries"][-1]["details"]["changed"] == {"compat_mode": "crvshub"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_compat_mode_from_the_command_line(database_url: str, ctx: AppContext) -> None:
    created = crvshub(database_url, "client", "create", "--type", "HEALTH", "--name", "CLI HIS",
                      "--compat", STRICT, "--json")
    assert created.returncode == 0, created.stderr
    client_id = json.loads(created.stdout)["client"]["client_id"]
    assert json.loads(created.stdout)["client"]["compat_mode"] == STRICT
    updated = crvshub(database_url, "client", "update", client_id, "--compat", "crvshub",
                      "--json")
    assert json.loads(updated.stdout)["compat_mode"] == "crvshub"
    wrong = crvshub(database_url, "client", "update", client_id, "--compat", "loose")
    assert wrong.returncode == 2 and "compat_mode" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    with ctx.db.transaction() as session:
        assert client_admin.get(session, client_id).compat_mode == "crvshub"


def test_creator_username_is_the_registering_admins() -> None:
    assert creator_username("user:j.campbell") == "j.campbell"
    assert creator_username("cli:operator") == "operator"
    assert creator_username(None) == ""


def _referenced_tests(text: str) -> list[tuple[str, str]]:
    return TEST_REF.findall(text)


def _defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_documented_difference_names_existing_tests() -> None:
    section = DOC.read_text(encoding="utf-8").split("## Differences", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| Difference")
            and not set(line) <= set("|- ")]
    assert len(rows) >= 5
    named = " ".join(rows)
    for subject in ("`POST /location`", "`DELETE /webhooks/{id}`", "`OperationOutcome`",
                    "**422**", "implicit idempotency key"):
        assert subject in named, f"{subject} is not listed"
    for row in rows:
        refs = _referenced_tests(row)
        assert refs, f"no test named for: {row[:80]}"
        for file, name in refs:
            assert name in _defined_tests(ROOT / file), f"{file}::{name} does not exist"
