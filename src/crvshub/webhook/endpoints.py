"""Webhook subscription API (OpenCRVS-compatible) and the subscriber's delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal
from crvshub.compat import opencrvs_strict, with_status
from crvshub.deps import ContextDep, SessionDep, TransactionDep
from crvshub.fhir.outcome import outcome_json
from crvshub.fhir.responses import FastJSONResponse
from crvshub.webhook import admin_endpoints, operations, render, service
from crvshub.webhook.errors import SubscriptionDenied, SubscriptionNotFound
from crvshub.webhook.parsing import hub_topic, parse_subscribe

router = APIRouter(tags=["webhooks"])
Subscriber = Annotated[Principal, Depends(require("webhook", "nationalId"))]


def denied(request: Request, error: SubscriptionDenied, topic: str | None) -> Response:
    """Render a refused subscription: an OperationOutcome plus OpenCRVS's `hub` denial."""
    body: dict[str, Any] = outcome_json(error, request.scope.get("state", {}).get("request_id"))
    body["hub"] = {"mode": "denied", "topic": topic, "reason": error.message}
    return Response(orjson.dumps(body), status_code=error.status,
                    media_type="application/fhir+json")


@router.post("/webhooks", status_code=202, summary="Subscribe a callback URL to a topic")
async def subscribe(request: Request, principal: Subscriber, ctx: ContextDep,
                    transaction: TransactionDep) -> Response:
    """Subscribe (JSON `{"hub": {...}}` or WebSub form); the callback must echo a challenge."""
    body = await request.body()
    content_type = request.headers.get("content-type", "application/json")
    try:
        parsed = parse_subscribe(content_type, body)
        await service.subscribe(ctx, transaction.run, principal, parsed)
    except SubscriptionDenied as exc:
        return denied(request, exc, hub_topic(content_type, body))
    return Response(status_code=202)


@router.get("/webhooks", summary="List the caller's subscriptions")
def list_webhooks(principal: Subscriber, session: SessionDep) -> FastJSONResponse:
    """Return the caller's subscriptions, oldest first, with their health."""
    client, subs = service.list_own(session, principal)
    return FastJSONResponse({"entries": [render.subscription_json(s, client) for s in subs]})


@router.delete("/webhooks/{subscription_id}", status_code=204,
               summary="Delete one of the caller's subscriptions")
def delete_webhook(subscription_id: str, principal: Subscriber, session: SessionDep,
                   ctx: ContextDep) -> Response:
    """Delete a subscription the caller owns (404 for anyone else's)."""
    try:
        service.delete(session, principal, subscription_id)
    except SubscriptionNotFound as exc:
        # OpenCRVS answers a delete it could not do with 400 ("Could not delete webhook").
        raise (with_status(exc, 400) if opencrvs_strict(principal, ctx.settings) else exc) from None
    return Response(status_code=204)


@router.get("/webhooks/{subscription_id}", summary="One subscription with its backlog")
def get_webhook(subscription_id: str, principal: Subscriber,
                session: SessionDep) -> FastJSONResponse:
    """Return a subscription with its delivery counts by status."""
    sub, client, counts = operations.subscription_detail(session, subscription_id,
                                                         principal.subject)
    return FastJSONResponse(render.subscription_json(sub, client, counts))


@router.post("/webhooks/{subscription_id}/enable", summary="Re-enable a disabled subscription")
def enable_webhook(subscription_id: str, principal: Subscriber,
                   session: SessionDep) -> FastJSONResponse:
    """Re-enable a subscription disabled after failures; waiting deliveries resume."""
    sub = operations.enable(session, subscription_id, principal.subject)
    return FastJSONResponse(render.subscription_json(sub, None))


@router.get("/webhooks/{subscription_id}/deliveries", summary="Deliveries with their attempts")
def list_deliveries(
    subscription_id: str, principal: Subscriber, session: SessionDep,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|failed|cancelled)$")] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FastJSONResponse:
    """Return the subscription's deliveries, newest first, each with every attempt."""
    page = operations.list_deliveries(session, subscription_id, principal.subject,
                                      status=status, since=since, limit=limit, offset=offset)
    return FastJSONResponse({"entries": [
        render.delivery_json(d, page.attempts[d.id]) for d in page.deliveries]})


@router.get("/webhooks/{subscription_id}/deliveries/{delivery_id}",
            summary="One delivery with its payload and attempts")
def get_delivery(subscription_id: str, delivery_id: str, principal: Subscriber,
                 session: SessionDep) -> FastJSONResponse:
    """Return one delivery, its payload and every attempt."""
    page = operations.get_delivery(session, subscription_id, delivery_id, principal.subject)
    row = page.deliveries[0]
    return FastJSONResponse(render.delivery_json(row, page.attempts[row.id], with_body=True))


@router.post("/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             summary="Send one delivery again")
def redeliver(subscription_id: str, delivery_id: str, principal: Subscriber,
              session: SessionDep) -> FastJSONResponse:
    """Queue a delivery again now (same `webhook-id`, so receivers can dedupe)."""
    row = operations.redeliver(session, subscription_id, delivery_id, principal.subject)
    return FastJSONResponse(render.delivery_json(row, []), status_code=202)


@router.post("/webhooks/{subscription_id}/replay", status_code=202,
             summary="Send again every delivery since a time")
def replay(subscription_id: str, principal: Subscriber, session: SessionDep,
           since: Annotated[datetime | None, Query()] = None) -> FastJSONResponse:
    """Queue again every delivery created since `since` (ISO 8601 with a time zone)."""
    count = operations.replay(session, subscription_id, since, principal.subject)
    return FastJSONResponse({"requeued": count}, status_code=202)


router.include_router(admin_endpoints.router)
