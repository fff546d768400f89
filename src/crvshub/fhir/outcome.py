"""Render AppErrors as FHIR R4 OperationOutcome resources."""

from __future__ import annotations

from typing import Any

from crvshub.errors import ERROR_CODE_SYSTEM, AppError, Issue


def issue_json(issue: Issue) -> dict[str, Any]:
    """Return one OperationOutcome.issue element."""
    item: dict[str, Any] = {
        "severity": issue.severity,
        "code": issue.issue_type,
        "details": {
            "coding": [{"system": ERROR_CODE_SYSTEM, "code": issue.code}],
            "text": issue.message,
        },
        "diagnostics": f"{issue.code}: {issue.message}",
    }
    if issue.expression:
        item["expression"] = [issue.expression]
    return item


def outcome_json(error: AppError, request_id: str | None = None) -> dict[str, Any]:
    """Return the OperationOutcome for an error, with the correlation id when known."""
    body: dict[str, Any] = {
        "resourceType": "OperationOutcome",
        "issue": [issue_json(issue) for issue in error.issues],
    }
    if request_id:
        body["id"] = request_id
    return body
