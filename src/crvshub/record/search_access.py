"""Who may search what, how much, and the audit of what a search client was given.

* RECORD_SEARCH clients (`recordsearch` scope) see registered, certified and issued records
  of every office, within `clients.daily_quota` searches per UTC day (every search counts,
  also those that find nothing); every record they are given is audited as `retrieved`.
* Staff who declare, validate, register or certify see the records of their office; the
  national roles see every office.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from crvshub.auth import service as auth_service
from crvshub.auth.domain import NATIONAL_ROLES, Principal
from crvshub.db import utcnow
from crvshub.errors import Forbidden
from crvshub.graphql.context import GraphQLContext, Info, RefusedAfterRunning
from crvshub.record import repository
from crvshub.record import service as record_service
from crvshub.record.domain import Status
from crvshub.record.models import Record
from crvshub.record.search import SORT_KEYS, Order, Scope
from crvshub.record.search_errors import InvalidSearchParameter, SearchQuotaExceeded

RETRIEVED = "retrieved"
MAX_COUNT = 100
DEFAULT_COUNT = 10
MAX_SKIP = 10_000
CLIENT_STATUSES = frozenset({Status.REGISTERED.value, Status.CERTIFIED.value,
                             Status.ISSUED.value})
STAFF_SCOPES = ("register", "validate", "certify", "declare")


def scope_of(principal: Principal) -> Scope:
    """Return what a caller may find; Forbidden when it may not search at all."""
    if principal.kind == "client" and "recordsearch" in principal.scopes:
        return Scope(statuses=CLIENT_STATUSES)
    if principal.kind == "user" and any(s in principal.scopes for s in STAFF_SCOPES):
        if principal.role in NATIONAL_ROLES:
            return Scope()
        return Scope(office_ids=frozenset({principal.office_id or ""}))
    raise Forbidden("Advanced search is only allowed for registrar, registration agent, "
                    "field agent and record search clients")


def page_size(count: int | None, skip: int | None) -> tuple[int, int]:
    """Return (count, skip) after checking them (count 0..100, skip 0..10000)."""
    size = DEFAULT_COUNT if count is None else count
    offset = 0 if skip is None else skip
    if not 0 <= size <= MAX_COUNT:
        raise InvalidSearchParameter(f"count must be between 0 and {MAX_COUNT}",
                                     expression="count")
    if not 0 <= offset <= MAX_SKIP:
        raise InvalidSearchParameter(f"skip must be between 0 and {MAX_SKIP}",
                                     expression="skip")
    return size, offset


def _column(name: str) -> str:
    if name not in SORT_KEYS:
        raise InvalidSearchParameter(
            f"Unknown sort column {name[:40]!r} (known: {', '.join(sorted(SORT_KEYS))})",
            expression="sortColumn")
    return SORT_KEYS[name]


def _descending(order: str | None, field: str) -> bool:
    value = (order or "desc").lower()
    if value not in ("asc", "desc"):
        raise InvalidSearchParameter(f"{field} must be asc or desc", expression=field)
    return value == "desc"


def order_of(sort: str | None, column: str | None,
             sort_by: Sequence[dict[str, str]] | None) -> Order:
    """Return the order of `sortBy`, else `sortColumn` + `sort`; none: best match, newest."""
    if sort_by:
        return Order(tuple((_column(s["column"]), _descending(s["order"], "sortBy.order"))
                           for s in sort_by[:5]))
    if column or sort:
        return Order(((_column(column or "dateOfDeclaration"), _descending(sort, "sort")),))
    return Order()


def reset_time(now: datetime) -> datetime:
    """Return when a daily quota starts again: the next midnight UTC."""
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time.min, UTC)


def use_quota(context: GraphQLContext, info: Info) -> None:
    """Count one search of the calling client; SearchQuotaExceeded when none is left.

    The count is written in the request's transaction and kept even when the document ends
    with errors; a search refused for the quota is not counted.
    """
    principal = context.principal
    client = auth_service.client_by_id(context.session, principal.subject)
    quota = client.daily_quota if client else 0
    now = utcnow()
    if context.writes_later:
        # Read now, count when the document has run: the count is the one that decides.
        if repository.search_quota_used(context.session, principal.subject, now.date()) >= quota:
            raise _exceeded(quota, now)

        def count(session: Session) -> None:
            if repository.use_search_quota(session, principal.subject, now.date(), quota) is None:
                raise RefusedAfterRunning(_exceeded(quota, now), info)

        context.kept.append(count)
        return
    used = repository.use_search_quota(context.session, principal.subject, now.date(), quota)
    if used is None:
        raise _exceeded(quota, now)

    def again(session: Session) -> None:
        repository.use_search_quota(session, principal.subject, now.date(), quota)

    context.kept.append(again)


def _exceeded(quota: int, now: datetime) -> SearchQuotaExceeded:
    reset = reset_time(now).isoformat().replace("+00:00", "Z")
    return SearchQuotaExceeded(
        f"Daily search quota exceeded: {quota} searches a day; it resets at {reset}",
        extra={"quota": quota, "resetAt": reset})


def audit_retrieved(context: GraphQLContext, records: Sequence[Record]) -> None:
    """Audit every record given to the caller as retrieved by it (status and version kept)."""
    if not records:
        return
    rows = record_service.retrieved_rows(context.principal, context.ip, records)

    def write(session: Session) -> None:
        repository.add_actions_now(session, rows)

    context.keep(write)
