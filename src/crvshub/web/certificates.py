"""Staff pages to print and issue certificates and wallet credentials; public verification."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from crvshub.certificate import credential as certificate_credential
from crvshub.certificate import credentials as wallet
from crvshub.certificate import domain as certificate_domain
from crvshub.certificate import service as certificates
from crvshub.certificate import verification
from crvshub.certificate.errors import CollectorInvalid, PayloadUnreadable, VerifyRateLimited
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.net import client_address
from crvshub.record import workqueues
from crvshub.web import i18n
from crvshub.web.i18n import N_
from crvshub.web.pages import Page, check_csrf, error_page, page_for, render
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
PrinterPage = Annotated[Page, Depends(page_for(certificates.PRINT_SCOPE))]
COLLECTORS = (
    ("MOTHER", N_("Mother")), ("FATHER", N_("Father")), ("INFORMANT", N_("Informant")),
    ("OTHER", N_("Someone else (ID document required)")),
)
# Who collected a printed certificate, as its page says it.
COLLECTED_BY = {"MOTHER": N_("Mother"), "FATHER": N_("Father"),
                "INFORMANT": N_("Informant"), "OTHER": N_("Other")}
ID_TYPES = (
    ("NATIONAL_ID", N_("National ID")), ("PASSPORT", N_("Passport")),
    ("BIRTH_REGISTRATION_NUMBER", N_("Birth registration number")),
    ("DRIVING_LICENSE", N_("Driving licence")), ("OTHER", N_("Other")),
)
# The facts a wallet credential lets its holder show or keep back (credential.DISCLOSABLE).
CLAIMS = {"name": N_("name"), "gender": N_("sex"), "event_date": N_("date of the event"),
          "event_place": N_("place of the event"), "mother": N_("mother"),
          "father": N_("father"), "registered_at": N_("date of registration")}
# What /verify tells of a certificate or a credential, by outcome (the English text of
# certificate.verification, marked here so that the page shows it in the reader's language).
VERDICTS = {
    ("certificate", "valid"): N_("Genuine certificate, and the record still says this."),
    ("certificate", "superseded"): N_(
        "Genuine certificate, but the record was corrected since it was printed: "
        "ask for a new certificate."),
    ("certificate", "revoked"): N_(
        "Genuine certificate, but it was revoked by the civil registration office."),
    ("certificate", "unknown"): N_(
        "Signed by this office, but no such certificate was ever printed here."),
    ("certificate", "invalid"): N_(
        "Not a genuine certificate: the code was altered or not signed by this office."),
    ("credential", "valid"): N_("Genuine credential, and the record still says this."),
    ("credential", "superseded"): N_(
        "Genuine credential, but the record was corrected since it was issued: ask for a new one."),
    ("credential", "revoked"): N_(
        "Genuine credential, but it was revoked by the civil registration office."),
    ("credential", "unknown"): N_(
        "Signed by this office, but no such credential was ever issued here."),
    ("credential", "invalid"): N_(
        "Not a genuine credential: it was altered or not signed by this office."),
}
# Why a pasted code cannot be checked (certificate.verification.token_of), as /verify says it.
UNREADABLE = (N_("This is not a credential (an SD-JWT starts with a JWS)"),
              N_("This is not a certificate code (a signed payload has 3 parts)"))


def _form(request: Request, page: Page, session: SessionDep, record_id: str,
          error: AppError | None = None, values: dict[str, str] | None = None) -> Response:
    try:
        body, version = workqueues.view(session, record_id, page.actor)
        printed = certificates.of_record(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "certificate_print.html", page, error.status if error else 200,
                  record=body, version=version, printed=printed, error=error,
                  collectors=COLLECTORS, id_types=ID_TYPES, values=values or {},
                  papers=certificate_domain.PAPER_SIZES)


@router.get("/records/{record_id}/certificate")
def print_form(record_id: str, request: Request, session: SessionDep,
               page: PrinterPage) -> Response:
    """Show the print form: who collects the certificate, fee and receipt, reprint reason."""
    return _form(request, page, session, record_id)


@router.post("/records/{record_id}/certificate")
def print_submit(
    record_id: str, request: Request, session: SessionDep, ctx: ContextDep, page: PrinterPage,
    csrf: Annotated[str, Form(max_length=128)] = "",
    collector: Annotated[str, Form(max_length=16)] = "",
    collector_name: Annotated[str, Form(max_length=200)] = "",
    id_type: Annotated[str, Form(max_length=32)] = "",
    id_number: Annotated[str, Form(max_length=64)] = "",
    fee: Annotated[str, Form(max_length=16)] = "",
    receipt: Annotated[str, Form(max_length=64)] = "",
    reprint_reason: Annotated[str, Form(max_length=2000)] = "",
    paper: Annotated[str, Form(max_length=8)] = "A4",
) -> Response:
    """Print the certificate, then show it with its download link and the issue button."""
    check_csrf(request, page, csrf)
    values = {"collector": collector, "collector_name": collector_name, "id_type": id_type,
              "id_number": id_number, "fee": fee, "receipt": receipt,
              "reprint_reason": reprint_reason, "paper": paper}
    try:
        amount = Decimal(fee) if fee.strip() else None
        if amount is not None and (amount < 0 or not amount.is_finite()):
            raise InvalidOperation
    except InvalidOperation:
        return _form(request, page, session, record_id,
                     CollectorInvalid(N_("The fee must be an amount such as 5.00")), values)
    wanted = certificates.PrintRequest(
        collector, collector_name or None, id_type if collector == "OTHER" else None,
        id_number if collector == "OTHER" else None, amount, receipt.strip() or None,
        reprint_reason, paper)
    try:
        with session.begin_nested():
            row = certificates.print_certificate(session, ctx.settings, ctx.certificate_keys,
                                                 record_id, page.actor, wanted)
    except AppError as exc:
        return _form(request, page, session, record_id, exc, values)
    return RedirectResponse(f"/records/{record_id}/certificates/{row.id}", status_code=303)


@router.get("/records/{record_id}/certificates/{certificate_id}")
def printed_page(record_id: str, certificate_id: str, request: Request, session: SessionDep,
                 ctx: ContextDep, page: PrinterPage) -> Response:
    """Show a printed certificate: download the PDF, then mark the record issued."""
    try:
        row = certificates.for_staff(session, certificate_id, page.actor)
        body, version = workqueues.view(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    if row.record_id != record_id:
        return RedirectResponse(f"/records/{row.record_id}/certificates/{row.id}",
                                status_code=303)
    summary = certificates.summary(row)
    collector = summary.get("collector") or {}
    return render(request, "certificate_printed.html", page, record=body, version=version,
                  certificate=summary, verify_url=certificates.qr_text(ctx.settings, row),
                  collector=COLLECTED_BY.get(collector.get("type") or "",
                                             str(collector.get("type") or "").capitalize()),
                  id_type=dict(ID_TYPES).get(collector.get("idType") or "",
                                             collector.get("idType") or ""))


@router.get("/records/{record_id}/certificates/{certificate_id}/pdf")
def printed_pdf(record_id: str, certificate_id: str, request: Request, session: SessionDep,
                ctx: ContextDep, page: PrinterPage) -> Response:
    """Download the certificate's PDF (audited)."""
    del record_id  # the certificate names its record; the path is for people
    try:
        row, document = certificates.download(session, ctx.settings, certificate_id,
                                              page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    name = f"certificate-{row.registration_number}-{row.print_number}.pdf"
    return Response(document, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/records/{record_id}/credentials")
def credential_issue(record_id: str, request: Request, session: SessionDep, ctx: ContextDep,
                     page: PrinterPage,
                     csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    """Issue the record as a wallet credential (SD-JWT VC), then show its QR code."""
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            row = wallet.issue(session, ctx.settings, ctx.certificate_keys, record_id,
                               page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    return RedirectResponse(f"/records/{row.record_id}/credentials/{row.id}", status_code=303)


def _qr_data_uri(text: str) -> str:
    """Return an SVG data URI of a QR code (error level L: a wallet scans it from a screen)."""
    return str(segno.make_qr(text, error="l").svg_data_uri(scale=3, border=4))


@router.get("/records/{record_id}/credentials/{credential_id}")
def credential_page(record_id: str, credential_id: str, request: Request,
                    session: SessionDep, page: PrinterPage) -> Response:
    """Show a wallet credential: its QR code to scan into a wallet, and its download."""
    try:
        row = wallet.for_staff(session, credential_id, page.actor)
        body, _version = workqueues.view(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    if row.record_id != record_id:
        return RedirectResponse(f"/records/{row.record_id}/credentials/{row.id}",
                                status_code=303)
    gettext = i18n.gettext_for(i18n.language_of(request))
    summary = wallet.summary(row)
    return render(request, "certificate_credential.html", page, record=body,
                  credential=summary, qr=_qr_data_uri(row.credential),
                  claims=[gettext(CLAIMS.get(c, c.replace("_", " ")))
                          for c in certificate_credential.DISCLOSABLE])


@router.get("/records/{record_id}/credentials/{credential_id}/download")
def credential_download(record_id: str, credential_id: str, request: Request,
                        session: SessionDep, page: PrinterPage) -> Response:
    """Download the credential as an .sd-jwt file for a wallet (audited)."""
    del record_id  # the credential names its record; the path is for people
    try:
        row = wallet.download(session, credential_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    name = f"credential-{row.registration_number}-{row.id}.sd-jwt"
    return Response(row.credential, media_type=certificate_credential.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("/verify")
def verify_form(request: Request, code: Annotated[str, Query(max_length=8000)] = "") -> Response:
    """The public verification page: paste the text of a QR code (no login)."""
    if code.strip():
        return RedirectResponse(f"/verify/{certificate_domain.token_of(code)}", status_code=303)
    return render(request, "verify.html", None, result=None)


@router.get("/verify/{code:path}")
async def verify_page(code: str, request: Request, ctx: ContextDep) -> Response:
    """Tell anyone whether a certificate is genuine and current, with the facts to compare."""
    wait = ctx.verify_limit.take(client_address(request) or "-")
    if wait:
        exc = VerifyRateLimited(N_("Too many verifications from this address: wait a minute"))
        return render(request, "verify.html", None, exc.status, result=None, error=exc)
    try:
        token = verification.token_of(code)
    except PayloadUnreadable as exc:
        return render(request, "verify.html", None, exc.status, result=None, error=exc)
    result = await run_in_threadpool(verification.answer, ctx.db, ctx.certificate_keys,
                                     ctx.verify_cache, token, client_address(request))
    verdict = VERDICTS.get((result.kind, result.outcome), result.message)
    return render(request, "verify.html", None, result=result, verdict=verdict)
