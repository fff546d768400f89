"""`crvshub statistics ...` and `crvshub export ...`: figures and bulk exports from a shell."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True, soft_wrap=True)
statistics_app = typer.Typer(help="Vital statistics: counts, completeness, timeliness, backlog.",
                             no_args_is_help=True)
export_app = typer.Typer(help="Bulk export of every record: FHIR NDJSON or CSV.",
                         no_args_is_help=True)

Year = Annotated[int | None, typer.Option(help="Calendar year of registration.")]
From = Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")]
To = Annotated[str | None, typer.Option("--to", help="Last day, included (YYYY-MM-DD).")]
EventOpt = Annotated[str | None, typer.Option(help="birth or death (default both).")]
AreaOpt = Annotated[str | None, typer.Option(help="Location id of an area or office.")]
LevelOpt = Annotated[str, typer.Option(help="STATE, DISTRICT, ... or CRVS_OFFICE.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV instead of JSON.")]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        console.print(f"error: {value!r} is not a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None


def _answer(kind: str, build: Any, csv: bool) -> None:
    from crvshub.cli import cli_context
    from crvshub.statistics.domain import BadQuery
    from crvshub.statistics.render import answer_csv

    with cli_context() as ctx, ctx.db.transaction() as session:
        try:
            answer = build(session, ctx.location_cache.snapshot(), ctx)
        except BadQuery as exc:
            console.print(f"error: {exc}")
            raise typer.Exit(2) from None
    if csv:
        sys.stdout.write(answer_csv(kind, answer))
    else:
        sys.stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n")


def _query(year: int | None, start: str | None, end: str | None, event: str | None,
           area: str | None, level: str) -> Any:
    from crvshub.db import utcnow
    from crvshub.statistics.domain import BadQuery, period_of
    from crvshub.statistics.service import Query

    try:
        period = period_of(year, _day(start), _day(end), utcnow().date())
    except BadQuery as exc:
        console.print(f"error: {exc}")
        raise typer.Exit(2) from None
    return Query(period, event, area, level)


@statistics_app.command("counts")
def counts(
    by: Annotated[str, typer.Option(help="place, month, year, sex, place-type, mother-age, "
                                         "time-to-registration, timeliness")] = "month",
    year: Year = None, start: From = None, end: To = None, event: EventOpt = None,
    area: AreaOpt = None, level: LevelOpt = "DISTRICT", csv: CsvOpt = False,
) -> None:
    """Count registrations of a period by one dimension."""
    from crvshub.statistics import service

    query = _query(year, start, end, event, area, level)
    _answer("counts", lambda s, snap, _ctx: service.counts(s, snap, query, by), csv)


@statistics_app.command("completeness")
def completeness(year: Year = None, start: From = None, end: To = None, event: EventOpt = None,
                 area: AreaOpt = None, level: LevelOpt = "DISTRICT", csv: CsvOpt = False) -> None:
    """Registered ÷ expected births and deaths per area, and in all."""
    from crvshub.statistics import service
    from crvshub.statistics.country import death_rates

    query = _query(year, start, end, event, area, level)
    _answer("completeness", lambda s, snap, ctx: service.completeness(
        s, snap, query, death_rates(ctx.settings.country_dir)), csv)


@statistics_app.command("timeliness")
def timeliness(year: Year = None, start: From = None, end: To = None, event: EventOpt = None,
               area: AreaOpt = None, level: LevelOpt = "DISTRICT", csv: CsvOpt = False) -> None:
    """Registrations within the legal period, late and delayed, per area and in all."""
    from crvshub.statistics import service

    query = _query(year, start, end, event, area, level)
    _answer("timeliness", lambda s, snap, _ctx: service.timeliness(s, snap, query), csv)


@statistics_app.command("backlog")
def backlog(area: AreaOpt = None, limit: int = 20, csv: CsvOpt = False) -> None:
    """Offices with the most records waiting in their workqueues, oldest first."""
    from crvshub.statistics import service

    _answer("backlog", lambda s, snap, _ctx: service.backlog(s, snap, area, limit), csv)


@statistics_app.command("refresh")
def refresh(
    changed: Annotated[bool, typer.Option(
        "--changed", help="Recount only the months of records changed since the last refresh.")]
    = False,
) -> None:
    """Recount the monthly figures the worker keeps (all months; after a bulk load)."""
    from crvshub.cli import cli_context
    from crvshub.db import utcnow
    from crvshub.statistics import aggregates

    with cli_context() as ctx, ctx.db.transaction() as session:
        done = aggregates.refresh(session, utcnow(), full=not changed)
    console.print(f"statistics refreshed ({done})")


def _export(fmt: str, out: Path, since: str | None, types: str | None, level: str) -> None:
    from crvshub.cli import cli_context
    from crvshub.statistics import exports
    from crvshub.statistics.errors import InvalidExportRequest

    try:
        request = exports.ExportRequest(
            fmt, level, exports.parse_types(types, level) if fmt == "ndjson" else (),
            exports.parse_since(since), "cli", f"crvshub export {fmt}")
    except InvalidExportRequest as exc:
        console.print(f"error: {exc.message}")
        raise typer.Exit(2) from None
    with cli_context() as ctx:
        with ctx.db.transaction() as session:
            job = exports.kick_off_local(session, request)
        with Progress(TextColumn("records"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("records", total=None)
            status = exports.run_export(ctx, job, out, None, progress=lambda done, total:
                                        bar.update(task, completed=done, total=total))
        with ctx.db.transaction() as session:
            files = exports.job_for(session, job, "cli").files
    console.print(f"export {status}: " + ", ".join(
        f"{name} ({info['count']})" for name, info in sorted(files.items())) + f" in {out}")


@export_app.command("ndjson")
def export_ndjson(
    out: Annotated[Path, typer.Option(help="Folder to write <Type>.ndjson files into.")],
    since: Annotated[str | None, typer.Option(help="Only records changed since (instant).")] = None,
    types: Annotated[str | None, typer.Option("--type", help="Resource types, comma-separated.")]
    = None,
    patient: Annotated[bool, typer.Option(help="Patient-level export (people only).")] = False,
) -> None:
    """Write every record's FHIR resources as NDJSON files (FHIR Bulk Data layout)."""
    _export("ndjson", out, since, types, "patient" if patient else "system")


@export_app.command("csv")
def export_csv(
    out: Annotated[Path, typer.Option(help="Folder to write records.csv into.")],
    since: Annotated[str | None, typer.Option(help="Only records changed since (instant).")] = None,
) -> None:
    """Write one CSV row per record (columns in docs/statistics.md)."""
    _export("csv", out, since, None, "system")


def register(app: typer.Typer) -> None:
    """Attach `crvshub statistics` and `crvshub export` to the CLI."""
    app.add_typer(statistics_app, name="statistics")
    app.add_typer(export_app, name="export")
