"""Control characters (a NUL in a name) are refused with the element's path, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crvshub.errors import AppError
from crvshub.notification.service import canonical
from crvshub.notification.validation import parse_structure
from tests.helpers import NATLSYSADMIN, bearer, new_client, user_token

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


REFUSED = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))]


@pytest.mark.parametrize("char", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_character_is_found_in_values_and_keys(char: str) -> None:
    """The fast path (scanning the serialised body) misses none of the refused characters."""
    for where in ("value", "key"):
        bundle = json.loads((EXAMPLES / "birth-minimal.json").read_text())
        child = bundle["entry"][2]["resource"]
        if where == "value":
            child["name"][0]["family"] = f"Kip{char}soni"
        else:
            child[f"x{char}"] = "1"
        with pytest.raises(AppError) as caught:
            parse_structure(bundle, canonical(bundle))
        assert "NOTIF-400-003" in {issue.code for issue in caught.value.issues}, where


@pytest.mark.parametrize("text", ["tab\there", "line\nbreak", "cr\rlf", "back\\bslash \\u0000"])
def test_allowed_text_passes_the_fast_path(text: str) -> None:
    bundle = json.loads((EXAMPLES / "birth-minimal.json").read_text())
    bundle["entry"][2]["resource"]["name"][0]["family"] = text
    parse_structure(bundle, canonical(bundle))
