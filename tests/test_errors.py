"""The error catalogue: documented, unique, and rendered as OperationOutcome."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.testclient import TestClient

import crvshub
from crvshub.errors import AppError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
CODE_PATTERN = re.compile(r"^[A-Z]{2,6}-\d{3}-\d{3}$")


def _all_errors() -> dict[str, type[AppError]]:
    for module in pkgutil.walk_packages(crvshub.__path__, "crvshub."):
        if module.name.endswith((".errors", "errors")):
            importlib.import_module(module.name)
    return AppError.catalogue()


def test_every_error_code_is_documented_and_well_formed() -> None:
    documented = DOCS.read_text(encoding="utf-8")
    catalogue = _all_errors()
    assert len(catalogue) >= 15
    for code, klass in catalogue.items():
        assert CODE_PATTERN.match(code), f"{klass.__name__} has malformed code {code}"
        assert f"`{code}`" in documented, f"{code} ({klass.__name__}) missing from docs/errors.md"
        assert klass.status == int(code.split("-")[1]), f"{code} status mismatch"


def test_codes_are_unique() -> None:
    seen: dict[str, str] = {}
    for module in pkgutil.walk_packages(crvshub.__path__, "crvshub."):
        if module.name.endswith("errors"):
            importlib.import_module(module.name)
    stack = [AppError]
    while stack:
        klass = stack.pop()
        stack.extend(klass.__subclasses__())
        if "code" in klass.__dict__ and klass is not AppError:
            assert klass.code not in seen, f"{klass.code} used by {seen.get(klass.code)} too"
            seen[klass.code] = klass.__name__


def test_unknown_route_is_operation_outcome(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["details"]["coding"][0]["code"] == "GEN-404-001"


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "GEN-405-001"


def test_unexpected_exception_gives_500_with_correlation_id_and_no_internals(app, client) -> None:
    router = APIRouter()

    @router.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    app.include_router(router)
    response = client.get("/boom-for-test", headers={"X-Request-ID": "corr-123"})
    assert response.status_code == 500
    text = response.text
    assert "secret internal detail" not in text and "Traceback" not in text
    body = response.json()
    assert body["id"] == "corr-123"
    assert "corr-123" in body["issue"][0]["details"]["text"]
    assert response.headers["x-request-id"] == "corr-123"


def test_body_over_limit_is_413(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login", content=b"x" * (3 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "GEN-413-001"


def test_malformed_json_is_400_naming_the_problem(client: TestClient) -> None:
    response = client.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_missing_field_is_400_naming_the_field(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "x"})
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert "password" in issue["expression"][0]
