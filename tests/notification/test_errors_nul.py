"""Control characters (a NUL in a name) are refused with the element's path, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import NATLSYSADMIN, bearer, new_client, user_token

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "examples"


def test_nul_in_a_name_is_400_with_expression(client: TestClient, ctx) -> None:
    _creds, token = new_client(ctx, "HEALTH")
    bundle = json.loads((EXAMPLES / "birth-minimal.json").read_text())
    bundle["entry"][2]["resource"]["name"][0]["given"][0] = "Ch\u0000ild"
    response = client.post("/notification", json=bundle, headers=bearer(token))
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "NOTIF-400-003"
    assert issue["expression"] == ["Bundle.entry[2].resource.name[0].given[0]"]


def test_database_refusal_is_a_clear_400_not_a_500(client: TestClient, ctx, backend) -> None:
    office = client.get("/location?type=CRVS_OFFICE&_count=1").json()["entry"][0]["resource"]
    response = client.put(f"/location/{office['id']}", json={"name": "Office\u0000"},
                          headers=bearer(user_token(ctx, NATLSYSADMIN)))
    assert response.status_code in (200, 400), response.text
    if backend == "postgresql":
        assert response.status_code == 400
        codes = {i["details"]["coding"][0]["code"] for i in response.json()["issue"]}
        assert codes & {"GEN-400-004", "LOC-400-001", "GEN-400-002"}
