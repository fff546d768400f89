"""Render AppErrors as FHIR R4 OperationOutcome resources."""

from __future__ import annotations

from typing import Any

from crvshub.errors import ERROR_CODE_SYSTEM, AppError, Issue, MoreIssues

# Issues shown per answer: enough to fix a bundle, and a hostile one cannot make the answer
# bigger than its request. The rest are counted in one last issue.
MAX_ISSUES = 100


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


def shown_issues(issues: list[Issue]) -> list[Issue]:
    """Return the first MAX_ISSUES issues, then one counting those left out."""
    if len(issues) <= MAX_ISSUES:
        return issues
    hidden = len(issues) - MAX_ISSUES
    summary = Issue(MoreIssues.code, f"{hidden} more problems not shown: fix the problems listed "
                    "and send again", issue_type=MoreIssues.issue_type, severity="information")
    return [*issues[:MAX_ISSUES], summary]


def outcome_json(error: AppError, request_id: str | None = None) -> dict[str, Any]:
    """Return the OperationOutcome for an error, with the correlation id when known."""
    body: dict[str, Any] = {
        "resourceType": "OperationOutcome",
        "issue": [issue_json(issue) for issue in shown_issues(error.issues)],
    }
    if request_id:
        body["id"] = request_id
    return body
