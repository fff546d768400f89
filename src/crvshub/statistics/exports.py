"""Bulk export jobs: kick-off, status, and the worker step that writes NDJSON or CSV files.

A job reads the records in id order, a batch at a time, each in its own short transaction,
and appends to its files; after every batch it saves its position (last record id and the
size of each file). A worker runs a job for `export_step_seconds` at a time and then lets
other work through, resuming where it stopped; a step that was interrupted is cut back to the
last saved sizes, so no line is written twice. Memory stays flat whatever the export's size.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from sqlalchemy.orm import Session

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.location.cache import Snapshot
from crvshub.outbox import service as outbox
from crvshub.statistics import domain, repository
from crvshub.statistics.errors import ExportNotFound, InvalidExportRequest
from crvshub.statistics.fhir_mapping import EXPORT_TYPES, PATIENT_TYPES, export_lines
from crvshub.statistics.models import ExportJob
from crvshub.statistics.places import Places

JOB_KIND = "statistics-export"
# How long the row of an expired or cancelled export is kept after its files went.
FORGET_AFTER = timedelta(days=30)
BATCH = 500
CSV_FILE = "records.csv"
CSV_COLUMNS = (
    "record_id", "tracking_id", "registration_number", "event", "status", "event_date", "sex",
    "place_type", "event_location_id", "event_location_name", "state_id", "state_name",
    "district_id", "district_name", "office_id", "office_name", "mother_age",
    "declared_at", "registered_at", "days_to_registration", "timeliness", "updated_at",
)


@dataclass(frozen=True)
class ExportRequest:
    """What a caller asked to export."""

    format: str  # "ndjson" or "csv"
    level: str  # "system" or "patient"
    types: tuple[str, ...]
    since: datetime | None
    requested_by: str
    request_url: str
    # The caller's jurisdiction (statistics.access): only records placed in it; None: all.
    area_id: str | None = None


def parse_types(raw: str | None, level: str) -> tuple[str, ...]:
    """Return the resource types of `_type` (all exported ones of the level when absent)."""
    allowed = PATIENT_TYPES if level == "patient" else EXPORT_TYPES
    if not raw:
        return tuple(allowed)
    types = tuple(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))
    unknown = [t for t in types if t not in allowed]
    if unknown or not types:
        raise InvalidExportRequest(f"_type: {', '.join(unknown) or raw!r} not exported; use "
                                   f"{', '.join(allowed)}", expression="_type")
    return types


def parse_since(raw: str | None) -> datetime | None:
    """Return the `_since` instant (a FHIR instant with a time zone)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidExportRequest(f"_since: {raw!r} is not a FHIR instant",
                                   expression="_since") from None
    if value.tzinfo is None:
        raise InvalidExportRequest("_since needs a time zone (e.g. 2026-01-01T00:00:00Z)",
                                   expression="_since")
    return value


def _new_job(session: Session, request: ExportRequest) -> ExportJob:
    return repository.add_job(session, ExportJob(
        format=request.format, level=request.level, types=list(request.types),
        since=request.since, requested_by=request.requested_by,
        request_url=request.request_url, area_id=request.area_id, status="queued", cursor="",
        records_done=0, records_total=0, files={}, created_at=utcnow(), updated_at=utcnow()))


def kick_off(session: Session, request: ExportRequest) -> ExportJob:
    """Create an export job and queue it for the worker."""
    job = _new_job(session, request)
    outbox.enqueue(session, JOB_KIND, {"job": job.id})
    return job


def kick_off_local(session: Session, request: ExportRequest) -> str:
    """Create an export job that the calling process runs itself (the CLI); return its id."""
    return _new_job(session, request).id


def job_for(session: Session, job_id: str, requested_by: str) -> ExportJob:
    """Return a caller's own export job, else 404."""
    job = repository.job(session, job_id)
    if job is None or job.requested_by != requested_by:
        raise ExportNotFound(f"No export {job_id!r} of yours")
    return job


def cancel(session: Session, settings_dir: Path, job_id: str, requested_by: str) -> None:
    """Cancel a caller's export and delete its files."""
    job = job_for(session, job_id, requested_by)
    repository.save_progress(session, job.id, {"status": "cancelled", "updated_at": utcnow()})
    shutil.rmtree(settings_dir / job.id, ignore_errors=True)


def progress_text(job: ExportJob) -> str:
    """Return the X-Progress text of a running job."""
    if job.status == "queued":
        return "queued"
    share = 100 * job.records_done / job.records_total if job.records_total else 0
    return f"{share:.0f}% ({job.records_done} of {job.records_total} records)"


def expires(job: ExportJob, keep_hours: float) -> datetime:
    """Return when a finished job's files may be deleted."""
    return (job.finished_at or job.updated_at) + timedelta(hours=keep_hours)


def sweep_expired(ctx: AppContext, now: datetime) -> int:
    """Delete the files of exports past their expiry and mark them expired; return how many.

    A status poll of an expired export answers 410 Gone; the job's row itself is deleted
    `FORGET_AFTER` later (then the poll answers 404, like any unknown export).
    """
    keep = timedelta(hours=ctx.settings.export_keep_hours)
    with ctx.db.transaction() as session:
        gone = repository.jobs_finished_before(session, now - keep)
        for job_id in gone:  # a failed commit leaves the job done: the next sweep retries
            repository.save_progress(session, job_id, {"status": "expired", "updated_at": now})
            shutil.rmtree(ctx.settings.export_dir / job_id, ignore_errors=True)
        repository.forget_jobs(session, now - FORGET_AFTER)
    return len(gone)


def file_path(root: Path, job: ExportJob, name: str) -> Path:
    """Return the path of one output file of a job, refusing names it did not write."""
    if name not in (job.files or {}):
        raise ExportNotFound(f"Export {job.id} has no file {name!r}")
    return root / job.id / name


# --- the worker step -------------------------------------------------------------------


class _Writer:
    """Append a batch of records to a job's files, tracking each file's count and size."""

    def __init__(self, directory: Path, job: ExportJob, snapshot: Snapshot) -> None:
        self.directory = directory
        self.format = job.format
        self.types = frozenset(job.types or EXPORT_TYPES)
        self.files: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (job.files or {}).items()}
        self.places = Places(snapshot)
        self.area_id = job.area_id
        self.handles: dict[str, BinaryIO] = {}
        directory.mkdir(parents=True, exist_ok=True)
        for name, info in self.files.items():  # cut what an interrupted step wrote
            with (directory / name).open("ab") as handle:
                handle.truncate(int(info["bytes"]))
        if self.format == "csv" and CSV_FILE not in self.files:
            self._append(CSV_FILE, "records", _csv_line(list(CSV_COLUMNS)), count=0)

    def _append(self, name: str, kind: str, data: bytes, *, count: int = 1) -> None:
        """Append `count` lines (`data`) to a file."""
        handle = self.handles.get(name)
        if handle is None:
            handle = self.handles[name] = (self.directory / name).open("ab")
        handle.write(data)
        info = self.files.setdefault(name, {"type": kind, "count": 0, "bytes": 0})
        info["bytes"] += len(data)
        info["count"] += count

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        # One write per file and batch: the lines of each type are gathered first.
        lines: dict[str, list[bytes]] = {}
        for row in rows:
            if self.area_id is not None and not self.places.within(
                    self.places.resolve(row[5], row[6]), self.area_id):
                continue  # outside the caller's jurisdiction (statistics.access)
            if self.format == "csv":
                lines.setdefault("records", []).append(_csv_line(csv_row(row, self.places)))
                continue
            bundle = orjson.loads(row[-1]) if row[-1] else {}
            for kind, line in export_lines(row[0], row[2], row[11], bundle, self.types):
                lines.setdefault(kind, []).append(line)
        for kind, found in lines.items():
            self._append(CSV_FILE if self.format == "csv" else f"{kind}.ndjson", kind,
                         b"".join(found), count=len(found))

    def flush(self) -> dict[str, dict[str, Any]]:
        for handle in self.handles.values():
            handle.flush()
        return {k: dict(v) for k, v in self.files.items()}

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _csv_line(values: list[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue().encode()


def csv_row(row: tuple[Any, ...], places: Places) -> list[Any]:
    """Return the CSV values of one record (CSV_COLUMNS order)."""
    (rid, tracking, event, status, number, office_id, location_id, event_date, gender,
     created, registered, updated, mother_birth) = row[:13]
    placed = places.resolve(office_id, location_id)
    name = _namer(places.snapshot)
    state, district = places.area_at(placed, "STATE"), places.area_at(placed, "DISTRICT")
    days = ((registered.date() - event_date).days
            if registered is not None and event_date is not None else None)
    age = (event_date.year - mother_birth.year
           if event == "birth" and event_date is not None and mother_birth is not None else None)
    return [rid, tracking, number or "", event, status, _iso(event_date), gender or "",
            "health-facility" if placed.facility else "home-or-other", location_id or "",
            name(location_id), state or "", name(state), district or "", name(district),
            office_id, name(office_id), "" if age is None else age, _iso(created),
            _iso(registered), "" if days is None else days,
            domain.timeliness(days) if registered is not None else "", _iso(updated)]


def _namer(snapshot: Snapshot) -> Callable[[str | None], str]:
    def name(location_id: str | None) -> str:
        view = snapshot.get(location_id) if location_id else None
        return view.name if view is not None else ""
    return name


def _iso(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat()
    return str(text).replace("+00:00", "Z")


def _start(ctx: AppContext, job_id: str) -> ExportJob | None:
    with ctx.db.transaction() as session:
        job = repository.job(session, job_id, lock=True)
        if job is None or job.status in ("done", "failed", "cancelled"):
            return None
        if job.status == "queued":
            job.status = "running"
            job.records_total = repository.count_for_export(session, job.since)
            job.updated_at = utcnow()
        session.flush()
        session.expunge(job)
        return job


def _read_batch(ctx: AppContext, job: ExportJob, after: str) -> Sequence[tuple[Any, ...]]:
    with ctx.db.reader() as session:
        return repository.export_batch(session, after, job.since, BATCH,
                                       with_bundle=job.format == "ndjson")


def run_export(ctx: AppContext, job_id: str, directory: Path, seconds: float | None,
               progress: Callable[[int, int], None] | None = None) -> str:
    """Run a job for at most `seconds` (None: to its end); return its status afterwards.

    The next batch is read (in a second thread) while this one is written, so the database
    and this process work at the same time.
    """
    job = _start(ctx, job_id)
    if job is None:
        return "gone"
    writer = _Writer(directory, job, ctx.location_cache.snapshot())
    deadline = None if seconds is None else time.monotonic() + seconds
    cursor, done = job.cursor, job.records_done
    reading = ThreadPoolExecutor(1, thread_name_prefix="export-read")
    try:
        following = reading.submit(_read_batch, ctx, job, cursor)
        while True:  # at least one batch per step, so every step makes progress
            rows = following.result()
            finished = len(rows) < BATCH
            more = not finished and (deadline is None or time.monotonic() < deadline)
            if more:
                following = reading.submit(_read_batch, ctx, job, str(rows[-1][0]))
            writer.write(rows)
            files = writer.flush()
            if rows:
                cursor, done = str(rows[-1][0]), done + len(rows)
            values: dict[str, Any] = {"cursor": cursor, "records_done": done, "files": files,
                                      "updated_at": utcnow()}
            if finished:
                values.update(status="done", finished_at=utcnow(),
                              records_total=max(done, job.records_total))
            with ctx.db.transaction() as session:
                # A position lost by a crash only makes the job write its last batches again.
                if not repository.save_progress(session, job.id, values,
                                                wait_for_disk=finished):
                    shutil.rmtree(directory, ignore_errors=True)
                    return "cancelled"
            if progress is not None:
                progress(done, max(done, job.records_total))
            if finished:
                return "done"
            if not more:
                return "running"
    finally:
        reading.shutdown(wait=True, cancel_futures=True)
        writer.close()


def fail(ctx: AppContext, job_id: str, error: str) -> None:
    """Mark a job failed with its reason."""
    with ctx.db.transaction() as session:
        repository.save_progress(session, job_id, {"status": "failed", "error": error[:2000],
                                                   "finished_at": utcnow(),
                                                   "updated_at": utcnow()})
