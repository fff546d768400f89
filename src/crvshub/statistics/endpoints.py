"""Vital statistics API (/api/statistics/...) and FHIR Bulk Data export (/fhir/$export)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import FileResponse, Response

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.deps import ContextDep, SessionDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.location.cache import Snapshot
from crvshub.statistics import access, exports, service
from crvshub.statistics.country import death_rates
from crvshub.statistics.domain import BadQuery, period_of
from crvshub.statistics.errors import (
    ExportExpired,
    ExportFailed,
    ExportNotFound,
    InvalidExportRequest,
    InvalidStatisticsQuery,
)
from crvshub.statistics.models import ExportJob
from crvshub.statistics.render import answer_csv

router = APIRouter(tags=["statistics"])
READER_SCOPES = ("performance", "natlsysadmin", "statistics")
Reader = Annotated[Principal, Depends(require(*READER_SCOPES, kinds=("user", "client")))]
NDJSON_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
Event = Annotated[str | None, Query(pattern="^(birth|death)$")]
Year = Annotated[int | None, Query(ge=1900, le=2200)]
Day = Annotated[date | None, Query()]
Area = Annotated[str | None, Query(max_length=64, description="Location id of an area or office")]
Level = Annotated[str, Query(max_length=32, description="STATE, DISTRICT, ... or CRVS_OFFICE")]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


def _area(who: Principal, snapshot: Snapshot, area: str | None) -> str | None:
    """Return the area to answer for, within the caller's jurisdiction (statistics.access)."""
    return access.area_for(access.jurisdiction(who, snapshot), area, snapshot)


def _query(who: Principal, snapshot: Snapshot, year: int | None, start: date | None,
           end: date | None, event: str | None, area: str | None, level: str) -> service.Query:
    area = _area(who, snapshot, area)
    try:
        return service.Query(period_of(year, start, end, utcnow().date()), event, area, level)
    except BadQuery as exc:
        raise InvalidStatisticsQuery(str(exc)) from None


def _answer(kind: str, answer: dict[str, Any], fmt: str) -> Response:
    if fmt == "csv":
        return Response(answer_csv(kind, answer), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
    return FastJSONResponse(answer)


def _run(call: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = call()
    except BadQuery as exc:
        raise InvalidStatisticsQuery(str(exc)) from None
    return result


@router.get("/api/statistics/counts", summary="Registrations counted by one dimension")
def counts(
    who: Reader, session: SessionDep, ctx: ContextDep,
    by: Annotated[str, Query(max_length=32)] = "month", event: Event = None, year: Year = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    area: Area = None, level: Level = "DISTRICT", format: Format = "json",
) -> Response:
    """Count registrations by place, month, year, sex, place type, mother's age or delay."""
    snapshot = ctx.location_cache.snapshot()
    query = _query(who, snapshot, year, start, end, event, area, level)
    return _answer("counts", _run(lambda: service.counts(session, snapshot, query, by)), format)


@router.get("/api/statistics/completeness", summary="Registered ÷ expected events per area")
def completeness(
    who: Reader, session: SessionDep, ctx: ContextDep, event: Event = None,
    year: Year = None, start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None, area: Area = None,
    level: Level = "DISTRICT", format: Format = "json",
) -> Response:
    """Return completeness per area of a level and for the whole area (or country)."""
    snapshot = ctx.location_cache.snapshot()
    query = _query(who, snapshot, year, start, end, event, area, level)
    rates = death_rates(ctx.settings.country_dir)
    return _answer("completeness",
                   _run(lambda: service.completeness(session, snapshot, query, rates)), format)


@router.get("/api/statistics/timeliness", summary="Registrations on time, late and delayed")
def timeliness(
    who: Reader, session: SessionDep, ctx: ContextDep, event: Event = None,
    year: Year = None, start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None, area: Area = None,
    level: Level = "DISTRICT", format: Format = "json",
) -> Response:
    """Return timeliness per area of a level and for the whole area (or country)."""
    snapshot = ctx.location_cache.snapshot()
    query = _query(who, snapshot, year, start, end, event, area, level)
    return _answer("timeliness", _run(lambda: service.timeliness(session, snapshot, query)),
                   format)


@router.get("/api/statistics/backlog", summary="Offices with the most records waiting")
def backlog(
    who: Reader, session: SessionDep, ctx: ContextDep, area: Area = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20, format: Format = "json",
) -> Response:
    """Return offices by records waiting in their workqueues, with the oldest waiting."""
    snapshot = ctx.location_cache.snapshot()
    area = _area(who, snapshot, area)
    return _answer("backlog", _run(lambda: service.backlog(session, snapshot, area, limit)),
                   format)


# --- bulk export ------------------------------------------------------------------------


def _base(request: Request, ctx: AppContext) -> str:
    return (ctx.settings.public_url or str(request.base_url)).rstrip("/")


def _kick_off(request: Request, session: SessionDep, ctx: AppContext,
              request_: exports.ExportRequest, status_path: str) -> Response:
    job = exports.kick_off(session, request_)
    location = f"{_base(request, ctx)}{status_path}/{job.id}"
    return Response(status_code=202, headers={"Content-Location": location})


def _check_async(prefer: str | None, output_format: str | None) -> None:
    if not prefer or "respond-async" not in prefer:
        raise InvalidExportRequest("Bulk export needs the header Prefer: respond-async",
                                   expression="Prefer")
    if output_format and output_format not in NDJSON_FORMATS:
        raise InvalidExportRequest(f"_outputFormat {output_format!r}: only "
                                   "application/fhir+ndjson", expression="_outputFormat")


def _fhir_export(request: Request, session: SessionDep, ctx: AppContext, who: Principal,
                 level: str, prefer: str | None, output_format: str | None,
                 since: str | None, types: str | None) -> Response:
    _check_async(prefer, output_format)
    ask = exports.ExportRequest("ndjson", level, exports.parse_types(types, level),
                                exports.parse_since(since), who.subject, str(request.url),
                                _area(who, ctx.location_cache.snapshot(), None))
    return _kick_off(request, session, ctx, ask, "/fhir/$export-status")


@router.get("/fhir/$export", summary="FHIR Bulk Data system-level export (NDJSON)")
def system_export(
    request: Request, who: Reader, session: SessionDep, ctx: ContextDep,
    prefer: Annotated[str | None, Header()] = None,
    output_format: Annotated[str | None, Query(alias="_outputFormat")] = None,
    since: Annotated[str | None, Query(alias="_since", max_length=64)] = None,
    types: Annotated[str | None, Query(alias="_type", max_length=512)] = None,
) -> Response:
    """Start an export of every record's resources; poll the Content-Location."""
    return _fhir_export(request, session, ctx, who, "system", prefer, output_format, since, types)


@router.get("/fhir/Patient/$export", summary="FHIR Bulk Data patient-level export (NDJSON)")
def patient_export(
    request: Request, who: Reader, session: SessionDep, ctx: ContextDep,
    prefer: Annotated[str | None, Header()] = None,
    output_format: Annotated[str | None, Query(alias="_outputFormat")] = None,
    since: Annotated[str | None, Query(alias="_since", max_length=64)] = None,
    types: Annotated[str | None, Query(alias="_type", max_length=512)] = None,
) -> Response:
    """Start an export of the people of every record and what is about them."""
    return _fhir_export(request, session, ctx, who, "patient", prefer, output_format, since,
                        types)


@router.post("/api/statistics/exports", summary="Start a CSV export (one row per record)",
             status_code=202)
def csv_export(
    request: Request, who: Reader, session: SessionDep, ctx: ContextDep,
    since: Annotated[str | None, Query(alias="_since", max_length=64)] = None,
) -> Response:
    """Start a CSV export of every record (changed since `_since`); poll the Content-Location."""
    ask = exports.ExportRequest("csv", "system", (), exports.parse_since(since), who.subject,
                                str(request.url), _area(who, ctx.location_cache.snapshot(), None))
    return _kick_off(request, session, ctx, ask, "/api/statistics/exports")


def _manifest(request: Request, ctx: AppContext, job: ExportJob, file_path: str) -> Response:
    base = _base(request, ctx)
    output = [{"type": info["type"], "url": f"{base}{file_path}/{job.id}/{name}",
               "count": info["count"]} for name, info in sorted((job.files or {}).items())]
    transaction_time = (job.created_at.isoformat()).replace("+00:00", "Z")
    body = {"transactionTime": transaction_time, "request": job.request_url,
            "requiresAccessToken": True, "output": output, "error": []}
    expires = exports.expires(job, ctx.settings.export_keep_hours)
    return FastJSONResponse(body, headers={
        "Expires": expires.strftime("%a, %d %b %Y %H:%M:%S GMT")})


def _check_expired(ctx: AppContext, job: ExportJob) -> None:
    if job.status == "expired":
        expired = exports.expires(job, ctx.settings.export_keep_hours)
        raise ExportExpired(f"Export {job.id} expired at {expired.isoformat()} and its files "
                            "were deleted: start a new export")


def _status(request: Request, session: SessionDep, ctx: AppContext, who: Principal,
            job_id: str, file_path: str) -> Response:
    job = exports.job_for(session, job_id, who.subject)
    if job.status == "cancelled":
        raise ExportNotFound(f"Export {job_id} was cancelled")
    _check_expired(ctx, job)
    if job.status == "failed":
        raise ExportFailed(f"Export {job_id} failed: {job.error}")
    if job.status != "done":
        return Response(status_code=202, headers={"X-Progress": exports.progress_text(job),
                                                  "Retry-After": "2"})
    return _manifest(request, ctx, job, file_path)


@router.get("/fhir/$export-status/{job_id}", summary="Status of a bulk export")
def export_status(request: Request, who: Reader, session: SessionDep, ctx: ContextDep,
                  job_id: str) -> Response:
    """Answer 202 with X-Progress while running, then the manifest of the output files."""
    return _status(request, session, ctx, who, job_id, "/fhir/$export-file")


@router.get("/api/statistics/exports/{job_id}", summary="Status of a CSV export")
def csv_export_status(request: Request, who: Reader, session: SessionDep, ctx: ContextDep,
                      job_id: str) -> Response:
    """Answer 202 with X-Progress while running, then the manifest with the CSV file."""
    return _status(request, session, ctx, who, job_id, "/api/statistics/exports/files")


@router.delete("/fhir/$export-status/{job_id}", summary="Cancel a bulk export", status_code=202)
@router.delete("/api/statistics/exports/{job_id}", summary="Cancel a CSV export",
               status_code=202)
def cancel_export(who: Reader, session: SessionDep, ctx: ContextDep, job_id: str) -> Response:
    """Cancel an export and delete its files."""
    exports.cancel(session, ctx.settings.export_dir, job_id, who.subject)
    return Response(status_code=202)


def _file(session: SessionDep, ctx: AppContext, who: Principal, job_id: str, name: str,
          media_type: str) -> Response:
    job = exports.job_for(session, job_id, who.subject)
    _check_expired(ctx, job)
    if job.status != "done":
        raise ExportNotFound(f"Export {job_id} is not finished")
    path = exports.file_path(ctx.settings.export_dir, job, name)
    if not path.is_file():
        raise ExportNotFound(f"The file {name} of export {job_id} is no longer kept")
    return FileResponse(path, media_type=media_type, filename=name)


@router.get("/fhir/$export-file/{job_id}/{name}", summary="One NDJSON file of a bulk export")
def export_file(who: Reader, session: SessionDep, ctx: ContextDep, job_id: str,
                name: str) -> Response:
    """Stream one output file of a finished export."""
    return _file(session, ctx, who, job_id, name, "application/fhir+ndjson")


@router.get("/api/statistics/exports/files/{job_id}/{name}", summary="The file of a CSV export")
def csv_export_file(who: Reader, session: SessionDep, ctx: ContextDep, job_id: str,
                    name: str) -> Response:
    """Stream the CSV file of a finished export."""
    return _file(session, ctx, who, job_id, name, "text/csv; charset=utf-8")
