"""Location writes: create, update, history. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.errors import Issue, VersionConflict
from crvshub.location import repository
from crvshub.location.cache import mark_changed
from crvshub.location.domain import (
    LocationChanges,
    LocationInput,
    LocationType,
    LocationView,
    child_path,
    creation_order,
    merge_statistics,
    stable_location_id,
    statistical_id_candidates,
)
from crvshub.location.errors import (
    DuplicateStatisticalId,
    ImmutableField,
    InvalidParent,
    LocationNotFound,
    LocationVersionNotFound,
)
from crvshub.location.fhir_mapping import id_system
from crvshub.location.models import Location, LocationVersion
from crvshub.text import normalize


def lookup(session: Session) -> Callable[[str], LocationView | None]:
    """Return a by-id lookup that sees this transaction's own writes (for rendering them)."""

    def find(location_id: str) -> LocationView | None:
        row = repository.get(session, location_id)
        return row.view() if row else None

    return find


def record_version(session: Session, row: Location) -> None:
    """Save the row's current state as a history entry."""
    repository.add_version(
        session,
        LocationVersion(
            location_id=row.id,
            version=row.version,
            data=row.view().snapshot(),
            recorded_at=row.updated_at,
        ),
    )


def _touch(session: Session, row: Location) -> None:
    row.version += 1
    row.updated_at = utcnow()
    record_version(session, row)
    mark_changed(session)


def _check_unique(session: Session, inputs: Sequence[LocationInput], where: list[str]) -> None:
    seen: set[str] = set()
    issues = []
    existing = {
        r.statistical_id
        for r in repository.by_statistical_ids(session, [i.statistical_id for i in inputs])
    }
    for item, path in zip(inputs, where, strict=True):
        sid = item.statistical_id
        if sid in existing or sid in seen:
            issues.append(
                Issue(
                    DuplicateStatisticalId.code,
                    f"statisticalID {sid} already exists",
                    path + "statisticalID",
                    DuplicateStatisticalId.issue_type,
                )
            )
        seen.add(sid)
    if issues:
        raise DuplicateStatisticalId(issues=issues)


def _parent(
    session: Session, ref: str | None, batch: dict[str, Location], path: str
) -> Location | None:
    if ref is None:
        return None
    parent = batch.get(ref) or repository.get(session, ref)
    if parent is None:
        raise InvalidParent(f"{ref} is not a valid location for partOfLocation", expression=path)
    if parent.type != LocationType.ADMIN_STRUCTURE:
        raise InvalidParent(
            f"{ref} is a {parent.type}; only an ADMIN_STRUCTURE can contain locations",
            expression=path,
        )
    return parent


def _new_row(item: LocationInput, parent: Location | None, country: str) -> Location:
    country = parent.country if parent else country
    location_id = stable_location_id(country, item.statistical_id)
    now = utcnow()
    return Location(
        id=location_id,
        type=item.type,
        statistical_id=item.statistical_id,
        jurisdiction_type=item.jurisdiction_type,
        name=item.name,
        name_norm=normalize(item.name),
        alias=list(item.alias),
        description=item.description,
        status=item.status,
        part_of_id=parent.id if parent else None,
        path=child_path(parent.path if parent else None, location_id),
        country=country,
        statistics=item.statistics or {},
        extra=item.extra or {},
        version=1,
        created_at=now,
        updated_at=now,
    )


def create_locations(
    session: Session, country: str, inputs: Sequence[LocationInput], *, batch: bool = False
) -> list[LocationView]:
    """Create locations; in a batch, partOf may name another item by statistical id."""
    where = [f"[{i}]." if batch else "" for i in range(len(inputs))]
    _check_unique(session, inputs, where)
    by_sid = {item.statistical_id: (index, item) for index, item in enumerate(inputs)}
    refs = {
        sid: (item.part_of if item.part_of in by_sid else None) for sid, (_, item) in by_sid.items()
    }
    order = creation_order(refs)
    if order is None:
        raise InvalidParent("the partOf references of this array form a cycle")
    created: dict[str, Location] = {}
    for sid in order:
        index, item = by_sid[sid]
        parent = _parent(session, item.part_of, created, where[index] + "partOf")
        row = _new_row(item, parent, country)
        repository.add(session, row)
        record_version(session, row)
        created[sid] = row
    mark_changed(session)
    try:
        session.flush()
    except IntegrityError:
        # A concurrent request took the statistical id between our check and our insert.
        raise DuplicateStatisticalId("a location with this statistical id already exists") from None
    return [created[item.statistical_id].view() for item in inputs]


def _locked(session: Session, location_id: str) -> Location:
    row = repository.get_for_update(session, location_id)
    if row is None:
        raise LocationNotFound(f"{location_id} is not a valid location")
    return row


def update_location(session: Session, location_id: str, changes: LocationChanges) -> LocationView:
    """Apply an OpenCRVS update (name, alias, status, statistics merged by year)."""
    row = _locked(session, location_id)
    before = row.view()
    if changes.name is not None:
        row.name, row.name_norm = changes.name, normalize(changes.name)
    if changes.alias is not None:
        row.alias = list(changes.alias)
    if changes.status is not None:
        row.status = changes.status
    if changes.statistics:
        row.statistics = merge_statistics(row.statistics or {}, changes.statistics)
    if row.view() != before:
        _touch(session, row)
    session.flush()
    return row.view()


def _check_immutable(row: Location, item: LocationInput) -> None:
    problems = [
        ("type", row.type, item.type, "Location.type"),
        ("statistical id", row.statistical_id, item.statistical_id, "Location.identifier"),
        ("partOf", row.part_of_id, item.part_of, "Location.partOf"),
    ]
    issues = [
        Issue(
            ImmutableField.code,
            f"the {name} of a location cannot be changed (is {old!r})",
            path,
            ImmutableField.issue_type,
        )
        for name, old, new, path in problems
        if old != new
    ]
    if issues:
        raise ImmutableField(issues=issues)


def replace_location(
    session: Session, location_id: str, item: LocationInput, if_match: int | None
) -> LocationView:
    """Apply a FHIR update (the full new state); 412 if `if_match` is not the current version."""
    row = _locked(session, location_id)
    if if_match is not None and if_match != row.version:
        raise VersionConflict(
            f"Location/{location_id} is at version {row.version}, not {if_match}",
            headers={"ETag": f'W/"{row.version}"'},
        )
    _check_immutable(row, item)
    before = row.view()
    row.name, row.name_norm = item.name, normalize(item.name)
    row.alias, row.status, row.description = list(item.alias), item.status, item.description
    row.jurisdiction_type = item.jurisdiction_type or row.jurisdiction_type
    row.statistics = item.statistics or {}
    row.extra = item.extra or {}
    if row.view() != before:
        _touch(session, row)
    session.flush()
    return row.view()


def find_by_identifier(session: Session, system: str | None, value: str) -> LocationView | None:
    """Return the location an OpenCRVS identifier value names, if any."""
    for location_type, sid in statistical_id_candidates(value):
        row = repository.by_statistical_id(session, sid)
        if (
            row is not None
            and location_type in (None, row.type)
            and system in (None, "", id_system(row.type))
        ):
            return row.view()
    return None


def history(
    session: Session, location_id: str, limit: int, *, before: int | None = None
) -> tuple[list[LocationView], int, int | None]:
    """Return one page of a location's saved versions (newest first, below version `before`),
    how many versions there are in all, and where the next page starts (None on the last)."""
    if repository.get(session, location_id) is None:
        raise LocationNotFound(f"{location_id} is not a valid location")
    rows = list(repository.versions_of(session, location_id, limit + 1, before=before))
    following = rows[limit - 1].version if len(rows) > limit else None
    views = [LocationView.from_snapshot(r.data) for r in rows[:limit]]
    return views, repository.count_versions(session, location_id), following


def read_version(session: Session, location_id: str, version: int) -> LocationView:
    """Return one saved version of a location."""
    row = repository.version_of(session, location_id, version)
    if row is None:
        if repository.get(session, location_id) is None:
            raise LocationNotFound(f"{location_id} is not a valid location")
        raise LocationVersionNotFound(f"Location/{location_id} has no version {version}")
    return LocationView.from_snapshot(row.data)


def create_if_absent(
    session: Session,
    country: str,
    item: LocationInput,
    condition: tuple[str | None, str] | None,
) -> tuple[LocationView, bool]:
    """Create a location unless the If-None-Exist identifier already names one."""
    if condition is not None:
        existing = find_by_identifier(session, *condition)
        if existing is not None:
            return existing, False
    return create_locations(session, country, [item])[0], True


def get(session: Session, location_id: str) -> Location | None:
    """Return a location row by id in this transaction, or None."""
    return repository.get(session, location_id)


def by_ids(session: Session, ids: Collection[str]) -> Sequence[Location]:
    """Return the location rows holding any of these ids, in one statement."""
    return repository.by_ids(session, ids)


def office_by_ref(session: Session, ref: str) -> Location | None:
    """Return a CRVS office by id or statistical id, or None."""
    return repository.office_by_ref(session, ref)


def offices(session: Session) -> list[tuple[str, str]]:
    """Return (id, name) of every CRVS office, by name (the office pickers of the admin pages)."""
    rows = repository.all_of_type(session, LocationType.CRVS_OFFICE)
    return sorted(((row.id, row.name) for row in rows), key=lambda pair: pair[1])
