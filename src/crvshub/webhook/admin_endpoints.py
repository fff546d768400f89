"""Staff API for the national system administrator: every subscription, delivery and backlog."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal
from crvshub.deps import SessionDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.webhook import operations, render

router = APIRouter(prefix="/api/webhooks", tags=["webhooks (admin)"])
Admin = Annotated[Principal, Depends(require("natlsysadmin"))]
StatusFilter = Annotated[
    str | None, Query(pattern="^(pending|delivered|failed|cancelled)$")
]


@router.get("/backlog", summary="Deliveries waiting or failed, overall and per subscription")
def backlog(_admin: Admin, session: SessionDep) -> FastJSONResponse:
    """Return the delivery backlog."""
    return FastJSONResponse(operations.backlog(session))


@router.get("/subscriptions", summary="Every subscription")
def subscriptions(
    _admin: Admin, session: SessionDep, client_id: str | None = None,
    status: Annotated[str | None, Query(pattern="^(active|disabled|unsubscribed)$")] = None,
) -> FastJSONResponse:
    """Return every subscription, optionally of one client (row id) or in one status."""
    rows = operations.all_subscriptions(session, client_id=client_id, status=status)
    return FastJSONResponse({"entries": [render.subscription_json(s, c) for s, c in rows]})


@router.get("/subscriptions/{subscription_id}", summary="One subscription with its backlog")
def subscription(subscription_id: str, _admin: Admin, session: SessionDep) -> FastJSONResponse:
    """Return any subscription with its delivery counts by status."""
    sub, client, counts = operations.subscription_detail(session, subscription_id, None)
    return FastJSONResponse(render.subscription_json(sub, client, counts))


@router.post("/subscriptions/{subscription_id}/enable", summary="Re-enable a subscription")
def enable(subscription_id: str, _admin: Admin, session: SessionDep) -> FastJSONResponse:
    """Re-enable any disabled subscription."""
    sub = operations.enable(session, subscription_id, None)
    return FastJSONResponse(render.subscription_json(sub, None))


@router.get("/subscriptions/{subscription_id}/deliveries", summary="Deliveries and attempts")
def deliveries(
    subscription_id: str, _admin: Admin, session: SessionDep, status: StatusFilter = None,
    since: datetime | None = None, limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FastJSONResponse:
    """Return any subscription's deliveries, newest first, with their attempts."""
    page = operations.list_deliveries(session, subscription_id, None, status=status,
                                      since=since, limit=limit, offset=offset)
    return FastJSONResponse({"entries": [
        render.delivery_json(d, page.attempts[d.id]) for d in page.deliveries]})


@router.get("/subscriptions/{subscription_id}/deliveries/{delivery_id}",
            summary="One delivery with its payload and attempts")
def delivery(subscription_id: str, delivery_id: str, _admin: Admin,
             session: SessionDep) -> FastJSONResponse:
    """Return one delivery of any subscription."""
    page = operations.get_delivery(session, subscription_id, delivery_id, None)
    row = page.deliveries[0]
    return FastJSONResponse(render.delivery_json(row, page.attempts[row.id], with_body=True))


@router.post("/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver",
             status_code=202, summary="Send one delivery again")
def redeliver(subscription_id: str, delivery_id: str, _admin: Admin,
              session: SessionDep) -> FastJSONResponse:
    """Queue any delivery again now."""
    row = operations.redeliver(session, subscription_id, delivery_id, None)
    return FastJSONResponse(render.delivery_json(row, []), status_code=202)


@router.post("/subscriptions/{subscription_id}/replay", status_code=202,
             summary="Send again every delivery since a time")
def replay(subscription_id: str, _admin: Admin, session: SessionDep,
           since: datetime | None = None) -> FastJSONResponse:
    """Queue again every delivery of any subscription created since `since`."""
    return FastJSONResponse(
        {"requeued": operations.replay(session, subscription_id, since, None)}, status_code=202
    )
