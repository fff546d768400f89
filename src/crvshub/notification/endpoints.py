"""HTTP routes of the notification feature: POST /notification."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request
from starlette.responses import Response

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal, Scope
from crvshub.compat import opencrvs_strict, with_status
from crvshub.deps import ContextDep, TransactionDep
from crvshub.errors import AppError, BadRequest, UnsupportedMediaType
from crvshub.fhir.responses import FHIRResponse
from crvshub.location.cache import cache_for
from crvshub.net import client_address
from crvshub.notification import service

router = APIRouter(tags=["Event notification"])
JSON_TYPES = ("application/json", "application/fhir+json")
UNPROCESSABLE = 422
Notifier = Annotated[Principal, Depends(require(Scope.NOTIFICATION_API, Scope.DECLARE))]


async def json_body(request: Request) -> Any:
    """Read the request body as JSON, after checking its content type."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {media_type or '(none)'!r} is not accepted: send application/json "
            "or application/fhir+json"
        )
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None


@router.post(
    "/notification",
    summary="Notify a birth or death as a FHIR document bundle",
    responses={
        200: {"description": "The saved record bundle"},
        400: {"description": "Malformed bundle (OperationOutcome)"},
        409: {"description": "Idempotency key reused with a different payload"},
        422: {"description": "The bundle breaks a rule (OperationOutcome)"},
    },
)
async def post_notification(
    request: Request,
    transaction: TransactionDep,
    ctx: ContextDep,
    principal: Notifier,
    body: Annotated[Any, Depends(json_body)],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Save a hospital's birth or death notification; a retry returns the original record."""
    ip = client_address(request)
    try:
        result = await transaction.run(lambda session: service.notify(
            session, ctx.settings, principal, body, idempotency_key=idempotency_key, ip=ip,
            snapshot=cache_for(ctx).snapshot(),
        ))
    except AppError as exc:
        # OpenCRVS answers every refused bundle it explains with 400 (spec 3.2).
        if exc.status == UNPROCESSABLE and opencrvs_strict(principal, ctx.settings):
            raise with_status(exc, 400) from None
        raise
    # The hospital reads the record back (status, registration number) through FHIR.
    headers = {"Location": f"/fhir/Composition/{result.record_id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return FHIRResponse(result.bundle, status_code=200, headers=headers)
