"""Callback of the registration hook: legacy `POST /confirm/registration`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.responses import Response

from crvshub.auth.dependencies import PrincipalDep
from crvshub.auth.domain import Principal
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import InvalidParameter
from crvshub.fhir.responses import FHIRResponse
from crvshub.net import client_address
from crvshub.registration_hook import service

router = APIRouter(tags=["registration hook"])


async def hook_caller(principal: PrincipalDep) -> Principal:
    """Authenticate a callback: the hook's record token or a national ID client (else 403)."""
    service.check_callback_caller(principal)
    return principal


@router.post("/confirm/registration")
def confirm_registration(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(hook_caller)],
    body: Annotated[Any, Body()],
) -> Response:
    """Confirm (or, with `error`, reject) a registration; answer with the record bundle."""
    if not isinstance(body, dict):
        raise InvalidParameter("The body must be a JSON object", expression="$")
    record = service.confirm_legacy(session, ctx.settings, principal, client_address(request), body)
    return FHIRResponse(record.bundle)
