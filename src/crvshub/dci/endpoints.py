"""The DCI (G2P Connect) registry core API v1.0.0 under `/registry/`, and its token path.

Every endpoint takes the signed envelope `{signature, header, message}`; errors use the
standard's bodies (`Response` with `ack_status: ERR`, or `HttpErrorResponse` for 401/403),
never an OperationOutcome, and never a 5xx for a bad message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from crvshub.auth import token_endpoints
from crvshub.auth.dependencies import authenticate, require
from crvshub.auth.domain import Principal, Scope
from crvshub.context import AppContext
from crvshub.dci import service
from crvshub.dci.errors import DciForbidden, EnvelopeInvalid
from crvshub.dci.service import Caller, Json
from crvshub.deps import ContextDep, SessionDep, TransactionDep
from crvshub.errors import AppError
from crvshub.fhir.responses import FastJSONResponse
from crvshub.net import client_address

router = APIRouter(tags=["DCI registry"])
Work = Callable[[Session, AppContext, Caller, Any], Json]


def _error(error: AppError) -> Response:
    headers = {**error.headers, "X-Error-Code": error.code}
    return FastJSONResponse(service.error_body(error), status_code=error.status,
                            headers=headers)


def _holds_nul(value: Any) -> bool:
    """Tell whether any key or string of a parsed body holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


async def _caller(request: Request, ctx: AppContext) -> Caller:
    principal = await authenticate(request)
    if principal.kind != "client" or "recordsearch" not in principal.scopes:
        raise DciForbidden("Only RECORD_SEARCH integration clients may use the DCI "
                           "registry API")
    return Caller(principal, client_address(request), ctx.settings.dci_allow_unsigned)


async def _handle(request: Request, ctx: AppContext, transaction: Any, work: Work) -> Response:
    try:
        caller = await _caller(request, ctx)
        raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise EnvelopeInvalid("The body is not valid JSON") from None
        if b"\\u0000" in raw and _holds_nul(body):
            raise EnvelopeInvalid("A field or value holds a NUL character (\\u0000), which no "
                                  "text of the standard may contain")
        answer = await transaction.run(lambda session: work(session, ctx, caller, body))
    except AppError as error:
        if error.status >= 500:
            raise
        return _error(error)
    return FastJSONResponse(answer)


@router.post("/registry/sync/search", summary="DCI: search the registry, answer at once")
async def sync_search(request: Request, ctx: ContextDep, transaction: TransactionDep,
                      ) -> Response:
    """Answer a `SearchRequest` with the signed `on-search` envelope."""
    return await _handle(request, ctx, transaction, service.sync_search)


@router.post("/registry/search", summary="DCI: search the registry, answer by callback")
async def search(request: Request, ctx: ContextDep, transaction: TransactionDep) -> Response:
    """ACK a `SearchRequest`; the `SearchResponse` goes to `{sender_uri}/on-search`."""
    return await _handle(request, ctx, transaction, service.async_search)


@router.post("/registry/subscribe", summary="DCI: subscribe to registered events")
async def subscribe(request: Request, ctx: ContextDep, transaction: TransactionDep,
                    ) -> Response:
    """ACK a `SubscribeRequest`; the `SubscribeResponse` goes to `on-subscribe`."""
    return await _handle(request, ctx, transaction, service.subscribe)


@router.post("/registry/unsubscribe", summary="DCI: end subscriptions")
async def unsubscribe(request: Request, ctx: ContextDep, transaction: TransactionDep,
                      ) -> Response:
    """ACK an `UnSubscribeRequest`; delivery stops at once, `on-unsubscribe` follows."""
    return await _handle(request, ctx, transaction, service.unsubscribe)


@router.post("/registry/txn/status", summary="DCI: status of a transaction, by callback")
async def txn_status(request: Request, ctx: ContextDep, transaction: TransactionDep,
                     ) -> Response:
    """ACK a `TxnStatusRequest`; the stored answer goes to `{sender_uri}/txn/on-status`."""
    return await _handle(request, ctx, transaction, service.async_status)


@router.post("/registry/sync/txn/status", summary="DCI: status of a transaction, at once")
async def sync_txn_status(request: Request, ctx: ContextDep, transaction: TransactionDep,
                          ) -> Response:
    """Answer a `TxnStatusRequest` with the stored answer (`txn-on-status` envelope)."""
    return await _handle(request, ctx, transaction, service.sync_status)


Admin = Annotated[Principal, Depends(require(Scope.NATLSYSADMIN))]


@router.put("/registry/clients/{client_id}/signing-key",
            summary="DCI: register the public key a client signs its messages with")
def put_signing_key(client_id: str, jwk: Annotated[dict[str, Any], Body()], _admin: Admin,
                    session: SessionDep) -> Response:
    """Register (or replace) a client's public JWK; from then on it must sign every message."""
    return FastJSONResponse(service.set_client_key(session, client_id, jwk))


@router.delete("/registry/clients/{client_id}/signing-key",
               summary="DCI: forget a client's signing key")
def delete_signing_key(client_id: str, _admin: Admin, session: SessionDep) -> Response:
    """Forget a client's key (its messages are refused until it registers another)."""
    return FastJSONResponse(service.remove_client_key(session, client_id))


@router.post("/oauth2/client/token", summary="DCI: access token (client credentials)")
async def client_token(request: Request, ctx: ContextDep) -> Response:
    """The standard's token path: the same client credentials grant as `/token`."""
    return await token_endpoints.token(request, ctx)
