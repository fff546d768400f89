"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import text
from starlette.responses import Response

from crvshub.deps import ContextDep
from crvshub.errors import AuthenticationRequired, NotFound
from crvshub.fhir.responses import FastJSONResponse
from crvshub.health import worker_status
from crvshub.migrate import pending_heads
from crvshub.observability import metrics_payload

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process is up")
def healthz() -> FastJSONResponse:
    """Answer 200 while the process runs."""
    return FastJSONResponse({"status": "ok"})


@router.get("/readyz", summary="Readiness: database reachable, migrations at head, worker alive")
def readyz(
    ctx: ContextDep,
    worker: Annotated[bool, Query(
        description="Also require a live outbox worker (recent heartbeat, no overdue work)",
    )] = False,
) -> FastJSONResponse:
    """Answer 200 when the database answers and its schema is current, 503 otherwise.

    With `?worker=1` the outbox worker must also have sent a heartbeat recently and no due
    outbox job or webhook delivery may have waited too long.
    """
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            missing = pending_heads(conn)
    except Exception as exc:
        return FastJSONResponse(
            {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    if missing:
        return FastJSONResponse(
            {"status": "unavailable", "migrations": f"pending: {', '.join(missing)}"},
            status_code=503,
        )
    body: dict[str, object] = {"status": "ready", "database": "ok", "migrations": "at head"}
    if worker:
        with ctx.db.transaction() as session:
            facts, problems = worker_status(session, ctx.settings)
        body["worker"] = {**facts, "problems": problems}
        if problems:
            body["status"] = "unavailable"
            return FastJSONResponse(body, status_code=503)
    return FastJSONResponse(body)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
def metrics(request: Request, ctx: ContextDep) -> Response:
    """Return the metrics of this server in the Prometheus text format."""
    check_metrics_access(ctx.settings.public_metrics, ctx.settings.metrics_token,
                         request.headers.get("authorization", ""))
    body, content_type = metrics_payload()
    return Response(body, media_type=content_type)


def check_metrics_access(public: bool, token: str, authorization: str) -> None:
    """Raise unless metrics are public or the request carries the metrics bearer token."""
    if public:
        return
    if not token:
        raise NotFound("Metrics are not published: set CRVSHUB_METRICS_TOKEN (and scrape with "
                       "that bearer token) or CRVSHUB_PUBLIC_METRICS=true")
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        raise AuthenticationRequired("Send the metrics token: Authorization: Bearer "
                                     "<CRVSHUB_METRICS_TOKEN>",
                                     headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
