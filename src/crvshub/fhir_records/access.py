"""Who may read which registration records through FHIR: the one policy of the read API.

* HEALTH client: the records it sent (`records.source_client_id`), whole.
* NATIONAL_ID and WEBHOOK clients: registered, certified or issued records; the Composition,
  the Task and the sections their webhook rules give them (`webhook.domain.permitted_sections`).
* RECORD_SEARCH client: registered (or later) records its searches returned (`retrieved`
  audit entries), whole.
* record token (registration hook): its one record, whole.
* staff who declare, validate, register or certify: their office's records; the national
  roles every office's.
* anybody else: nothing (403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from crvshub.auth.domain import NATIONAL_ROLES, ClientSummary, ClientType, Principal
from crvshub.fhir_records.errors import ReadNotAllowed
from crvshub.record.domain import ReadScope, Status
from crvshub.webhook.domain import permitted_sections

REGISTERED = frozenset({Status.REGISTERED.value, Status.CERTIFIED.value, Status.ISSUED.value})
STAFF_SCOPES = ("declare", "validate", "register", "certify")
# The audit entry of every FHIR read (one per record given, per request).
READ_AUDIT = "read-fhir"


@dataclass(frozen=True)
class ReadPolicy:
    """What one caller may read: which records, and which sections of each."""

    who: str  # a label for the route x caller table and the audit
    scope: ReadScope
    sections: Callable[[str], tuple[str, ...] | None]  # event -> permitted sections, None: all


def _all(_event: str) -> tuple[str, ...] | None:
    return None


def policy(principal: Principal, client: ClientSummary | None) -> ReadPolicy:
    """Return what a caller may read; ReadNotAllowed when it may read no record at all."""
    if principal.kind == "client":
        kind = principal.client_type
        if kind == ClientType.HEALTH:
            return ReadPolicy("health", ReadScope(source_client_id=principal.subject), _all)
        if kind in (ClientType.NATIONAL_ID, ClientType.WEBHOOK) and client is not None:
            grants = list(client.webhook_permissions)
            client_type = client.type

            def sections(event: str) -> tuple[str, ...] | None:
                return tuple(permitted_sections(client_type, grants, event))

            return ReadPolicy(str(kind).lower(), ReadScope(statuses=REGISTERED), sections)
        if kind == ClientType.RECORD_SEARCH:
            return ReadPolicy("record-search", ReadScope(statuses=REGISTERED,
                                                         retrieved_by=principal.subject), _all)
        raise ReadNotAllowed("This integration client may not read registration records")
    if principal.kind == "record" and principal.record_id:
        return ReadPolicy("record-token",
                          ReadScope(record_ids=frozenset({principal.record_id})), _all)
    if principal.kind == "user" and any(s in principal.scopes for s in STAFF_SCOPES):
        if principal.role in NATIONAL_ROLES:
            return ReadPolicy("staff-national", ReadScope(), _all)
        return ReadPolicy("staff", ReadScope(office_ids=frozenset({principal.office_id or ""})),
                          _all)
    raise ReadNotAllowed("Reading registration records needs a staff role that handles "
                         "records or an integration client allowed to read them")


@dataclass(frozen=True)
class RecordFacts:
    """What the policy needs to know of one record."""

    id: str
    status: str
    office_id: str
    source_client_id: str | None


def permits(scope: ReadScope, record: RecordFacts, retrieved: bool) -> bool:
    """Tell whether a scope covers a record (`retrieved`: a search gave it to the reader)."""
    return not scope.nothing and all((
        scope.record_ids is None or record.id in scope.record_ids,
        scope.source_client_id is None or record.source_client_id == scope.source_client_id,
        scope.statuses is None or record.status in scope.statuses,
        scope.office_ids is None or record.office_id in scope.office_ids,
        scope.retrieved_by is None or retrieved,
    ))
