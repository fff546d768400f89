"""Workqueues of an office and the record view, for the staff API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from crvshub.location import service as location_service
from crvshub.record import actions, domain, repository, views
from crvshub.record.domain import Action, Status
from crvshub.record.errors import OfficeNotAllowed, UnknownWorkqueue
from crvshub.record.ports import ValidationState, external_validation
from crvshub.record.service import Actor

MAX_PAGE_SIZE = 100
ALL_OFFICES = "all"  # national roles: the queues of every office at once


@dataclass(frozen=True)
class QueueFilters:
    """What narrows a workqueue: one event, a range of event dates, places of the event (a
    place and everything under it, expanded by the caller); None or empty does not filter."""

    event: str | None = None
    event_from: date | None = None
    event_to: date | None = None
    place_ids: tuple[str, ...] | None = None


NO_FILTERS = QueueFilters()


def office_for(session: Session, actor: Actor, office: str | None) -> str | None:
    """Return the office whose queues the actor sees: their own, or any for national roles."""
    if office is None:
        return actor.office_id
    if office == ALL_OFFICES:
        if not actor.national:
            raise OfficeNotAllowed()
        return None
    row = location_service.office_by_ref(session, office)
    if row is None:
        raise UnknownWorkqueue(f"No CRVS office with id or statistical id {office!r}")
    if not actor.national and row.id != actor.office_id:
        raise OfficeNotAllowed()
    return row.id


def counts(session: Session, actor: Actor, office: str | None) -> dict[str, Any]:
    """Return the number of records in each workqueue of an office."""
    office_id = office_for(session, actor, office)
    by_key = repository.status_counts(session, office_id)
    queues = []
    for name, (statuses, source) in domain.WORKQUEUES.items():
        total = sum(
            n
            for (status, src), n in by_key.items()
            if status in statuses and (source is None or src == source)
        )
        queues.append({"queue": name, "title": domain.WORKQUEUE_TITLES[name], "count": total})
    return {"officeId": office_id, "workqueues": queues}


def page(
    session: Session,
    actor: Actor,
    queue: str,
    *,
    office: str | None,
    number: int,
    size: int,
    sort: str,
    filters: QueueFilters = NO_FILTERS,
) -> dict[str, Any]:
    """Return one page of a workqueue, sorted and filtered, with the total count."""
    if queue not in domain.WORKQUEUES:
        raise UnknownWorkqueue(f"No workqueue {queue!r}: use one of {', '.join(domain.WORKQUEUES)}")
    statuses, source = domain.WORKQUEUES[queue]
    office_id = office_for(session, actor, office)
    rows, total = repository.queue_page(
        session,
        statuses=statuses,
        source=source,
        office_id=office_id,
        sort=sort,
        offset=(number - 1) * size,
        limit=size,
        event=filters.event,
        event_from=filters.event_from,
        event_to=filters.event_to,
        place_ids=filters.place_ids,
    )
    states: Mapping[str, ValidationState] = {}
    if Status.WAITING_VALIDATION in statuses:
        states = external_validation(session).states(session, [r.id for r in rows])
    return {
        "queue": queue,
        "title": domain.WORKQUEUE_TITLES[queue],
        "officeId": office_id,
        "total": total,
        "page": number,
        "count": size,
        "sort": sort,
        "items": [views.summary(r, states.get(r.id)) for r in rows],
    }


def view(session: Session, record_id: str, actor: Actor) -> tuple[dict[str, Any], int]:
    """Return the record view (bundle, status, audit history) and its version; audit the view."""
    record = actions.read(session, record_id, actor, Action.VIEW)
    session.flush()
    history = list(repository.history(session, record.id))
    state = external_validation(session).state(session, record.id)
    return views.detail(record, history, state), record.version
