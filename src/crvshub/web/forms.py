"""Declaration forms: declare a birth or death, complete or edit a record not yet registered.

The form's sections and fields come from the country's data (`web.form_config`). A submitted
form becomes a FHIR bundle (`web.form_bundle`) that goes through the same record service as
`POST /api/records` and `PUT /api/records/{id}` (one validation); "Send for review" also needs
the country's required fields (`notification.completeness`, the rule of the record page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from crvshub.context import AppContext
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.notification.completeness import missing_fields
from crvshub.record import actions, declarations, domain, workqueues
from crvshub.record.domain import Action
from crvshub.record.service import Change, check_access, load
from crvshub.web import declaration, form_bundle, form_checks, i18n
from crvshub.web import pending as sealed
from crvshub.web.errors import NotEditable
from crvshub.web.form_config import Form, forms, label
from crvshub.web.pages import DECLARER_SCOPES, Page, check_csrf, error_page, page_for, render
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
DeclarerPage = Annotated[Page, Depends(page_for(*DECLARER_SCOPES))]
EventQuery = Annotated[str, Query(max_length=8)]
SAVE, DECLARE = "save", "declare"


@dataclass
class Submission:
    """What a person sent: the values, what to do with them and the files attached."""

    values: dict[str, str]
    intent: str
    version: str
    files: list[form_checks.Upload] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    removed: bool = False  # a kept document was removed: show the form again, save nothing

    def kept(self, form: Form) -> tuple[list[form_checks.Upload], bool]:
        """Return the files to keep when the form is shown again, and whether one was bad."""
        good = [f for f in self.files if not form_checks.file_errors(form, [f])]
        return good, len(good) < len(self.files)


def _record_of(session: Session, page: Page, record_id: str) -> tuple[dict[str, Any], int]:
    """Return a record's declaration, status and version (checked access, not audited again)."""
    row = load(session, record_id)
    check_access(row, page.actor)
    return {"id": row.id, "trackingId": row.tracking_id, "event": row.event,
            "status": row.status, "bundle": row.bundle}, row.version


def editable(status: str, scopes: frozenset[str]) -> bool:
    """Tell whether a record in a status may be completed or edited by a user's scopes."""
    return domain.is_allowed(status, Action.UPDATE) and domain.may_perform(scopes, Action.UPDATE)


def form_page(
    request: Request, ctx: AppContext, page: Page, form: Form, values: dict[str, str], *,
    record: dict[str, Any] | None = None, version: int | None = None,
    errors: dict[str, str] | None = None, error: AppError | None = None,
    files_dropped: bool = False, pending: list[form_checks.Upload] | None = None,
) -> Response:
    """Render a declaration form with its values, choices and any errors."""
    language = i18n.language_of(request)
    gettext = i18n.gettext_for(language)
    places = form_checks.choices(ctx)
    documents = declaration.documents(record["bundle"]) if record else []
    can_declare = record is None or domain.is_allowed(record["status"], Action.DECLARE)
    shown = {s.key: form_checks.visible(s.show_when, values) for s in form.sections}
    key = _form_key(form, record)
    kept = [(sealed.seal(ctx, page, key, f), f) for f in pending or []]
    return render(
        request, "declaration_form.html", page, 422 if errors or error else 200, pending=kept,
        form=form, values=values, record=record, version=version, places=places,
        documents=documents, can_declare=can_declare, shown=shown, error=error,
        errors={k: gettext(v) for k, v in (errors or {}).items()},
        label=lambda labels: label(labels, language), is_shown=form_checks.visible,
        known_values=lambda item: form_checks.known_values(places, item),
        accept=",".join(sorted(form.documents.content_types)),
        max_mb=round(form.documents.max_bytes / 1024 / 1024, 1),
        today=datetime.now(UTC).date().isoformat(), files_dropped=files_dropped,
    )


@router.get("/records/new")
def new_declaration(
    request: Request, ctx: ContextDep, page: DeclarerPage, event: EventQuery = "",
) -> Response:
    """Show an empty birth or death declaration form (or the choice of the two)."""
    form = forms(ctx.settings.country_dir).get(event)
    if form is None:
        return render(request, "declaration_start.html", page)
    return form_page(request, ctx, page, form, {})


def _form_key(form: Form, record: dict[str, Any] | None) -> str:
    """Name the form a kept document belongs to: a new declaration of an event, or a record."""
    return f"record:{record['id']}" if record else f"new:{form.event}"


async def _submission(request: Request, ctx: AppContext, page: Page, form: Form,
                      key: str) -> Submission:
    # A kept document travels as a sealed field (base64 of the encrypted file).
    raw: FormData = await request.form(max_files=4, max_fields=400,
                                       max_part_size=form.documents.max_bytes * 2 + 4096)
    check_csrf(request, page, str(raw.get("csrf", "")))
    values = {}
    for item in form.fields():  # a field not sent at all keeps its stored value (edits)
        given = raw.get(item.name)
        if isinstance(given, str):
            values[item.name] = given.strip()[:200]
    intent = DECLARE if raw.get("intent") == DECLARE else SAVE
    sent = Submission(values, intent, str(raw.get("version", ""))[:12])
    remove = str(raw.get("remove_document", ""))
    for index, value in enumerate(raw.getlist("pending")[:sealed.MAX_PENDING]):
        kept = sealed.unseal(ctx, page, key, value) if isinstance(value, str) else None
        if str(index) == remove:
            sent.removed = True
        elif kept is not None:
            sent.files.append(kept)
    kind = str(raw.get("document_type", ""))[:64]
    for upload in raw.getlist("document"):
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(form.documents.max_bytes + 1)
            sent.files.append(form_checks.Upload(upload.filename[:120], upload.content_type or "",
                                                 data, kind))
    await raw.close()
    return sent


def _check(
    ctx: AppContext, form: Form, sent: Submission, before: dict[str, str] | None = None,
) -> dict[str, str]:
    """Return the submission's values as the bundle gets them and record its field errors.

    Values kept as they were stored are not checked again (a hospital may have sent a code
    the form does not offer): they passed the API's checks when they arrived.
    """
    effective = form_checks.effective_values(form, sent.values)
    changed = {k: v for k, v in effective.items() if v != (before or {}).get(k, "")}
    sent.errors.update(form_checks.field_errors(ctx, form, changed))
    sent.errors.update(form_checks.file_errors(form, sent.files))
    return effective


def _required(ctx: AppContext, form: Form, bundle: dict[str, Any]) -> dict[str, str]:
    """Return the country's required fields the declaration lacks, by form field."""
    missing = set(missing_fields(ctx.settings.country_dir, bundle, form.event))
    found: dict[str, str] = {}
    for section in form.sections:
        for item in section.fields:
            if item.fact in missing and item.name not in found:
                found[item.name] = i18n.N_("Required to send the declaration for review")
                missing.discard(item.fact)
    if missing:  # a required field the form does not ask for
        found["_form"] = i18n.N_("The country requires fields this form does not ask for; "
                                 "an administrator must add them to the form")
    return found


def _bundle(
    ctx: AppContext, form: Form, base: dict[str, Any], before: dict[str, str],
    effective: dict[str, str], sent: Submission,
) -> dict[str, Any]:
    bundle = form_bundle.write(base, form.event, effective, before,
                               form_checks.districts(ctx))
    for upload in sent.files:
        form_checks.attach(form, bundle, upload)
    return bundle


@router.post("/records/new")
async def create_declaration(
    request: Request, session: SessionDep, ctx: ContextDep, page: DeclarerPage,
    event: EventQuery = "",
) -> Response:
    """Create a declaration from the form: in progress, or sent for review when complete."""
    form = forms(ctx.settings.country_dir).get(event)
    if form is None:
        return render(request, "declaration_start.html", page, 400)
    sent = await _submission(request, ctx, page, form, _form_key(form, None))
    if sent.removed:
        return form_page(request, ctx, page, form, sent.values, pending=sent.files)
    effective = _check(ctx, form, sent)
    bundle = form_bundle.empty_bundle(form.event)
    if not sent.errors:
        bundle = _bundle(ctx, form, bundle, {}, effective, sent)
        if sent.intent == DECLARE:
            sent.errors.update(_required(ctx, form, bundle))
    if sent.errors:
        kept, dropped = sent.kept(form)
        return form_page(request, ctx, page, form, sent.values, errors=sent.errors,
                         files_dropped=dropped, pending=kept)
    try:
        with session.begin_nested():
            record = declarations.create(session, bundle, page.actor,
                                         incomplete=sent.intent != DECLARE)
    except AppError as exc:
        gettext = i18n.gettext_for(i18n.language_of(request))
        return form_page(request, ctx, page, form, sent.values, error=exc,
                         errors=form_checks.issue_fields(bundle, exc, gettext),
                         pending=sent.files)
    done = "declare" if sent.intent == DECLARE else "save"
    return RedirectResponse(f"/records/{record.id}?done={done}", status_code=303)


@router.get("/records/{record_id}/edit")
def edit_declaration(
    record_id: str, request: Request, session: SessionDep, ctx: ContextDep, page: DeclarerPage,
) -> Response:
    """Show a record's declaration in its form, to complete or edit before registration."""
    try:
        record, version = workqueues.view(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    if not editable(record["status"], page.principal.scopes):
        return error_page(request, page, NotEditable())
    form = forms(ctx.settings.country_dir)[record["event"]]
    values = form_bundle.values_of(record["bundle"], record["event"])
    return form_page(request, ctx, page, form, values, record=record, version=version)


@router.post("/records/{record_id}/edit")
async def save_declaration(
    record_id: str, request: Request, session: SessionDep, ctx: ContextDep, page: DeclarerPage,
) -> Response:
    """Save the completed or edited declaration; send it for review when asked and complete."""
    try:
        record, version = _record_of(session, page, record_id)
    except AppError as exc:
        return error_page(request, page, exc)
    if not editable(record["status"], page.principal.scopes):
        return error_page(request, page, NotEditable())
    form = forms(ctx.settings.country_dir)[record["event"]]
    sent = await _submission(request, ctx, page, form, _form_key(form, record))
    before = form_bundle.values_of(record["bundle"], record["event"])
    sent.values = {item.name: sent.values.get(item.name, before.get(item.name, ""))
                   for item in form.fields()}
    if sent.removed:
        return form_page(request, ctx, page, form, sent.values, pending=sent.files,
                         record=record, version=version)
    effective = _check(ctx, form, sent, before)
    declare = sent.intent == DECLARE and domain.is_allowed(record["status"], Action.DECLARE)
    bundle = record["bundle"]
    if not sent.errors:
        bundle = _bundle(ctx, form, record["bundle"], before, effective, sent)
        if declare:
            sent.errors.update(_required(ctx, form, bundle))
    if sent.errors:
        kept, dropped = sent.kept(form)
        return form_page(request, ctx, page, form, sent.values, errors=sent.errors,
                         files_dropped=dropped, pending=kept, record=record, version=version)
    expected = int(sent.version) if sent.version.isdigit() else version
    try:
        with session.begin_nested():
            saved = declarations.edit(session, record_id, bundle, page.actor, expected)
            if declare:
                actions.perform(session, ctx.settings, record_id, page.actor,
                                Change(Action.DECLARE, expected_version=saved.version))
    except AppError as exc:
        gettext = i18n.gettext_for(i18n.language_of(request))
        return form_page(request, ctx, page, form, sent.values, error=exc,
                         errors=form_checks.issue_fields(bundle, exc, gettext), record=record,
                         version=version, pending=sent.files)
    return RedirectResponse(f"/records/{record_id}?done={'declare' if declare else 'update'}",
                            status_code=303)
