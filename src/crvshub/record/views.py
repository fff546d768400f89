"""JSON shapes of the staff API: record summaries, the record view and its audit history."""

from __future__ import annotations

from typing import Any

from crvshub.record.models import Record, RecordAction

VERBS = {
    "sent-notification": "Sent incomplete",
    "declared": "Declared",
    "validated": "Validated",
    "registered": "Registered",
    "waiting-validation": "Sent for external validation",
    "registration-confirmed": "Registration confirmed",
    "registration-rejected": "Registration rejected",
    "rejected": "Sent for updates",
    "certified": "Certified",
    "certificate-downloaded": "Certificate downloaded",
    "certificate-revoked": "Certificate revoked",
    "issued": "Issued",
    "archived": "Archived",
    "reinstated": "Reinstated",
    "assigned": "Assigned",
    "unassigned": "Unassigned",
    "viewed": "Viewed",
    "downloaded": "Downloaded",
    "retrieved": "Retrieved",
    "updated": "Updated",
    "correction-requested": "Correction requested",
    "correction-approved": "Correction approved",
    "correction-rejected": "Correction rejected",
    "corrected": "Corrected",
    "marked-as-duplicate": "Marked as a duplicate",
    "marked-as-not-duplicate": "Marked as not a duplicate",
    "flagged-as-potential-duplicate": "Flagged as a potential duplicate",
}
CLIENT_LABELS = {"HEALTH": "health system", "NATIONAL_ID": "national ID system"}


def actor_label(row: RecordAction) -> str:
    """Return who acted, for people: 'Name (health system)', 'Name (LOCAL_REGISTRAR)'."""
    if row.actor_type == "client":
        kind = CLIENT_LABELS.get(row.actor_role or "", (row.actor_role or "system").lower())
        return f"{row.actor_name} ({kind})"
    if row.actor_type == "system":
        return row.actor_name
    return f"{row.actor_name} ({row.actor_role})" if row.actor_role else row.actor_name


def history_line(row: RecordAction) -> str:
    """Return the human line of an audit row, e.g. 'Sent by Harambo Hospital (health system)'."""
    if row.action == "sent-notification" and row.actor_type == "client":
        return f"Sent by {actor_label(row)}"
    verb = VERBS.get(row.action, row.action.replace("-", " ").capitalize())
    return f"{verb} by {actor_label(row)}"


def history_item(row: RecordAction) -> dict[str, Any]:
    """Return one audit row as JSON."""
    data = {k: v for k, v in (row.data or {}).items() if k != "bundle"}
    return {
        "action": row.action,
        "at": row.at.isoformat(),
        "line": history_line(row),
        "actor": {
            "type": row.actor_type,
            "id": row.actor_id,
            "name": row.actor_name,
            "role": row.actor_role,
            "officeId": row.office_id,
        },
        "ip": row.ip,
        "reason": row.reason,
        "comment": row.comment,
        "statusBefore": row.status_before,
        "statusAfter": row.status_after,
        "versionBefore": row.version_before,
        "versionAfter": row.version_after,
        "data": data,
    }


def summary(record: Record, external: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the workqueue line of a record."""
    name = " ".join(p for p in (record.subject_given, record.subject_family) if p)
    item: dict[str, Any] = {
        "id": record.id,
        "trackingId": record.tracking_id,
        "event": record.event,
        "status": record.status,
        "version": record.version,
        "name": name or None,
        "eventDate": record.event_date.isoformat() if record.event_date else None,
        "registrationNumber": record.registration_number,
        "source": record.source,
        "compositionType": record.composition_type,
        "officeId": record.office_id,
        "assignedUserId": record.assigned_user_id,
        "statusReason": record.status_reason,
        "createdAt": record.created_at.isoformat(),
        "updatedAt": record.updated_at.isoformat(),
    }
    if external is not None:
        item["externalValidation"] = external
    return item


def detail(
    record: Record, history: list[RecordAction], external: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the record view: summary, FHIR bundle and the full audit history."""
    return {
        **summary(record, external),
        "bundle": record.bundle,
        "history": [history_item(row) for row in history],
    }
