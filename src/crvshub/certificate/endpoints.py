"""Certificate API: print (PDF), list, download, revoke; wallet credentials; verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal
from crvshub.auth.ratelimit import retry_after_header
from crvshub.certificate import credential, credentials, service, verification
from crvshub.certificate.errors import VerifyRateLimited
from crvshub.certificate.schemas import PrintBody, RevokeBody
from crvshub.context import AppContext
from crvshub.deps import ContextDep, SessionDep, TransactionDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.net import client_address
from crvshub.record.domain import STAFF_SCOPES
from crvshub.record.service import actor_for

router = APIRouter(tags=["certificates"])
# Public verification is the busiest certificate route: mounted first, it is matched first.
verify_router = APIRouter(tags=["certificates"])
Printer = Annotated[Principal, Depends(require(service.PRINT_SCOPE, kinds=("user",)))]
Staff = Annotated[Principal, Depends(require(*STAFF_SCOPES, kinds=("user",)))]
Registrar = Annotated[Principal, Depends(require(service.REVOKE_SCOPE, kinds=("user",)))]


def pdf_response(document: bytes, name: str) -> Response:
    """Return a PDF as a download."""
    return Response(document, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def print_request(body: PrintBody) -> service.PrintRequest:
    """Return the service's print request of an API or form body."""
    return service.PrintRequest(
        body.collector, body.collector_name, body.id_type, body.id_number, body.fee,
        body.receipt, body.reprint_reason, body.paper)


@router.post("/api/records/{record_id}/certificates", status_code=201)
def print_certificate(
    record_id: str, request: Request, session: SessionDep, ctx: ContextDep,
    principal: Printer, body: Annotated[PrintBody, Body()],
) -> Response:
    """Print a certificate of a registered record: the record becomes CERTIFIED.

    Answers the certificate as JSON, or the PDF itself with `Accept: application/pdf`.
    """
    actor = actor_for(principal, client_address(request))
    row = service.print_certificate(session, ctx.settings, ctx.certificate_keys, record_id,
                                    actor, print_request(body))
    if "application/pdf" in request.headers.get("accept", ""):
        response = pdf_response(service.render_pdf(ctx.settings, row), f"{row.id}.pdf")
        response.status_code = 201
        response.headers["Location"] = f"/api/certificates/{row.id}"
        return response
    return FastJSONResponse(service.summary(row), status_code=201,
                            headers={"Location": f"/api/certificates/{row.id}"})


@router.get("/api/records/{record_id}/certificates")
def list_certificates(record_id: str, request: Request, session: SessionDep,
                      principal: Staff) -> Response:
    """Return every certificate printed for a record, with the number of reprints."""
    rows = service.of_record(session, record_id, actor_for(principal, client_address(request)))
    return FastJSONResponse({"total": len(rows), "reprints": max(0, len(rows) - 1),
                             "certificates": [service.summary(r) for r in rows]})


@router.get("/api/certificates/{certificate_id}")
def get_certificate(certificate_id: str, request: Request, session: SessionDep,
                    principal: Staff) -> Response:
    """Return one certificate as JSON."""
    row = service.for_staff(session, certificate_id,
                            actor_for(principal, client_address(request)))
    return FastJSONResponse(service.summary(row))


@router.get("/api/certificates/{certificate_id}/pdf")
def download_certificate(certificate_id: str, request: Request, session: SessionDep,
                         ctx: ContextDep, principal: Printer) -> Response:
    """Return the certificate's PDF again (the download is audited)."""
    row, document = service.download(session, ctx.settings, certificate_id,
                                     actor_for(principal, client_address(request)))
    return pdf_response(document, f"{row.id}.pdf")


@router.post("/api/certificates/{certificate_id}/revoke")
def revoke_certificate(certificate_id: str, request: Request, session: SessionDep,
                       principal: Registrar, body: Annotated[RevokeBody, Body()],
                       ctx: ContextDep) -> Response:
    """Revoke a certificate: verification then reports it as revoked."""
    row = service.revoke(session, certificate_id, actor_for(principal, client_address(request)),
                         body.reason)
    ctx.verify_cache.forget()  # other processes forget within the cache's TTL (1 s)
    return FastJSONResponse(service.summary(row))


def credential_response(row: credentials.Credential, request: Request,
                        status_code: int = 200) -> Response:
    """Return a credential as JSON, or the bare SD-JWT when the caller accepts its media type."""
    headers = {"Cache-Control": "no-store"}
    if credential.MEDIA_TYPE in request.headers.get("accept", ""):
        headers["Content-Disposition"] = f'attachment; filename="{row.id}.sd-jwt"'
        return Response(row.credential, status_code=status_code,
                        media_type=credential.MEDIA_TYPE, headers=headers)
    return FastJSONResponse(credentials.summary(row), status_code=status_code, headers=headers)


@router.post("/api/records/{record_id}/credentials", status_code=201)
def issue_credential(record_id: str, request: Request, session: SessionDep, ctx: ContextDep,
                     principal: Printer) -> Response:
    """Issue a registered record as an SD-JWT verifiable credential for a wallet (audited).

    Answers JSON with the credential, or the SD-JWT itself with
    `Accept: application/dc+sd-jwt`.
    """
    row = credentials.issue(session, ctx.settings, ctx.certificate_keys, record_id,
                            actor_for(principal, client_address(request)))
    response = credential_response(row, request, 201)
    response.headers["Location"] = f"/api/credentials/{row.id}"
    return response


@router.get("/api/credentials/{credential_id}")
def get_credential(credential_id: str, request: Request, session: SessionDep,
                   principal: Printer) -> Response:
    """Return a wallet credential again, to hand to its holder (the download is audited)."""
    row = credentials.download(session, credential_id,
                               actor_for(principal, client_address(request)))
    return credential_response(row, request)


@router.post("/api/credentials/{credential_id}/revoke")
def revoke_credential(credential_id: str, request: Request, session: SessionDep,
                      principal: Registrar, body: Annotated[RevokeBody, Body()],
                      ctx: ContextDep) -> Response:
    """Revoke a wallet credential: verification then reports it as revoked."""
    row = credentials.revoke(session, credential_id,
                             actor_for(principal, client_address(request)), body.reason)
    ctx.verify_cache.forget()
    return FastJSONResponse(credentials.summary(row))


def check_verify_rate(ctx: AppContext, request: Request) -> None:
    """Refuse a verification over the per-address rate (429 with Retry-After)."""
    wait = ctx.verify_limit.take(client_address(request) or "-")
    if wait:
        raise VerifyRateLimited("Too many verifications from this address: wait and retry",
                                headers=retry_after_header(wait))


@verify_router.get("/api/verify/{code:path}")
async def verify_json(code: str, request: Request, tx: TransactionDep,
                      ctx: ContextDep) -> Response:
    """Verify a certificate code or wallet credential (no login): genuine, current, facts.

    A check answered from memory stays on the event loop and opens no transaction unless the
    batched check log is due; a lookup runs in the thread pool on a read-only snapshot.
    """
    check_verify_rate(ctx, request)
    ip = client_address(request)
    token = verification.token_of(code)
    found = verification.from_memory(ctx.verify_cache, token, ip)
    if found is None:
        result = await run_in_threadpool(verification.answer, ctx.db, ctx.certificate_keys,
                                         ctx.verify_cache, token, ip)
    else:
        result, due = found
        if due:
            await tx.run(lambda session: verification.write_checks(session, due))
    return FastJSONResponse(result.as_json(), headers={"Cache-Control": "no-store"})
