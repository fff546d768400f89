"""Record search over /graphql: OpenCRVS `searchEvents` and reading one record back.

RECORD_SEARCH clients find registered, certified and issued records anywhere, within their
daily quota, and every record they are given is audited as retrieved by them; staff search
within their office (national roles: everywhere). The resolvers parse the arguments, check
who asks, then call the record search engine (`crvshub.record.search`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLString,
)

from crvshub.auth import service as auth_service
from crvshub.graphql.context import Fields, GraphQLContext, Info, asked_below, context_of
from crvshub.record import graphql_types as types
from crvshub.record import repository
from crvshub.record.errors import RecordNotFound
from crvshub.record.models import Record, RecordAction
from crvshub.record.search import Page, find
from crvshub.record.search_access import (
    audit_retrieved,
    order_of,
    page_size,
    scope_of,
    use_quota,
)
from crvshub.record.search_errors import NoSearchParameter
from crvshub.record.search_params import to_query
from crvshub.record.search_results import Json, OfficeName, registration_details, search_hit


def _office(context: GraphQLContext) -> OfficeName:
    snapshot = context.app.location_cache.snapshot()

    def office(location_id: str | None) -> tuple[str | None, list[str]]:
        view = snapshot.get(location_id) if location_id else None
        return (view.name, list(view.alias)) if view else (None, [])

    return office


def _assignment(context: GraphQLContext, record: Record, office: OfficeName) -> Json | None:
    if record.assigned_user_id is None:
        return None
    user = auth_service.user_by_id(context.session, record.assigned_user_id)
    if user is None:
        return None
    return {"practitionerId": user.id, "userId": user.id, "firstName": user.given_names,
            "lastName": user.family_name, "officeName": office(user.office_id)[0]}


def _hits(context: GraphQLContext, records: Sequence[Record], asked: set[str]) -> list[Json]:
    """Return the results of a search; the history, assignments and duplicates of the
    records are read only when the document asks for them (`asked`: the fields below
    `results`)."""
    office = _office(context)
    ids = [r.id for r in records]
    actions: dict[str, list[RecordAction]] = {}
    if "operationHistories" in asked:
        for row in repository.actions_of(context.session, ids):
            actions.setdefault(row.record_id, []).append(row)
    duplicates = (repository.unresolved_duplicates(context.session, ids)
                  if "duplicates" in asked else {})
    return [search_hit(r, actions.get(r.id, []), office,
                       _assignment(context, r, office) if "assignment" in asked else None,
                       duplicates.get(r.id, ())) for r in records]


def resolve_search(_root: Any, info: Info, advancedSearchParameters: dict[str, Any],  # noqa: N803
                   count: int | None = None, skip: int | None = None, sort: str | None = None,
                   sortColumn: str | None = None,  # noqa: N803
                   sortBy: list[dict[str, str]] | None = None,  # noqa: N803
                   userId: str | None = None) -> Json:  # noqa: N803
    """Find records with OpenCRVS's advanced search parameters."""
    context = context_of(info)
    scope = scope_of(context.principal)
    query = to_query(advancedSearchParameters, context.app.location_cache.snapshot(), userId)
    size, offset = page_size(count, skip)
    order = order_of(sort, sortColumn, sortBy)
    client = context.principal.kind == "client"
    if not client and query.is_empty():
        raise NoSearchParameter("There is no param to search")
    if client:
        use_quota(context, info)
    page: Page = find(context.session, context.app.vocabulary, query, scope, order,
                      count=size, skip=offset)
    if client:
        audit_retrieved(context, page.records)
    return {"totalItems": page.total,
            "results": _hits(context, page.records, asked_below(info, "results"))}


def _readable(context: GraphQLContext, record_id: str, event: str) -> Record:
    scope = scope_of(context.principal)
    record = repository.get(context.session, record_id)
    visible = record is not None and record.event == event and (
        scope.statuses is None or record.status in scope.statuses) and (
        scope.office_ids is None or record.office_id in scope.office_ids)
    if record is None or not visible:
        raise RecordNotFound(f"No {event} record with id {record_id!r} that you may see")
    return record


def _fetch(info: Info, record_id: str, event: str) -> Json:
    context = context_of(info)
    record = _readable(context, record_id, event)
    audit_retrieved(context, [record])
    return registration_details(record, repository.history(context.session, record.id))


def resolve_birth(_root: Any, info: Info, id: str) -> Json:
    """Return one birth record the caller may see."""
    return _fetch(info, id, "birth")


def resolve_death(_root: Any, info: Info, id: str) -> Json:
    """Return one death record the caller may see."""
    return _fetch(info, id, "death")


QUERY_FIELDS: dict[str, GraphQLField] = {
    "searchEvents": GraphQLField(
        types.EventSearchResultSet,
        args={
            "userId": GraphQLArgument(GraphQLString),
            "advancedSearchParameters": GraphQLArgument(
                GraphQLNonNull(types.AdvancedSearchParametersInput)),
            "count": GraphQLArgument(GraphQLInt),
            "skip": GraphQLArgument(GraphQLInt),
            "sort": GraphQLArgument(GraphQLString),
            "sortColumn": GraphQLArgument(GraphQLString),
            "sortBy": GraphQLArgument(GraphQLList(GraphQLNonNull(types.SortBy))),
        },
        resolve=resolve_search,
    ),
    "fetchBirthRegistration": GraphQLField(
        types.BirthRegistration, args={"id": GraphQLArgument(GraphQLNonNull(GraphQLID))},
        resolve=resolve_birth),
    "fetchDeathRegistration": GraphQLField(
        types.DeathRegistration, args={"id": GraphQLArgument(GraphQLNonNull(GraphQLID))},
        resolve=resolve_death),
}


def graphql_fields() -> Fields:
    """Return the record search query fields."""
    return Fields(query=QUERY_FIELDS,
                  types=(types.BirthEventSearchSet, types.DeathEventSearchSet),
                  reading=frozenset(QUERY_FIELDS))

