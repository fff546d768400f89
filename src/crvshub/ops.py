"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import Response

from crvshub.deps import ContextDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.migrate import pending_heads
from crvshub.observability import metrics_payload

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process is up")
def healthz() -> FastJSONResponse:
    """Answer 200 while the process runs."""
    return FastJSONResponse({"status": "ok"})


@router.get("/readyz", summary="Readiness: database reachable and migrations at head")
def readyz(ctx: ContextDep) -> FastJSONResponse:
    """Answer 200 when the database answers and its schema is current, 503 otherwise."""
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
    return FastJSONResponse({"status": "ready", "database": "ok", "migrations": "at head"})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
def metrics() -> Response:
    """Return the metrics of this server in the Prometheus text format."""
    body, content_type = metrics_payload()
    return Response(body, media_type=content_type)
