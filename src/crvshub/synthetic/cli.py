"""`crvshub generate` and `crvshub reindex`: data at scale, and an index rebuilt from records."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, soft_wrap=True)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console)


def generate(
    records: Annotated[int, typer.Option("--records", min=1, help="How many records to add.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same records.")] = 1,
    labels: Annotated[Path | None, typer.Option(
        help="Write the planted duplicates here (JSON lines: duplicate and original record "
             "ids, event keys, mutations), for bench/dedup.py.")] = None,
    duplicate_share: Annotated[float, typer.Option(
        min=0.0, max=0.5, help="Share of events declared a second time, with errors.")] = 0.02,
    batch: Annotated[int, typer.Option(min=100, max=50_000,
                                       help="Records per committed transaction.")] = 5000,
    workers: Annotated[int | None, typer.Option(
        min=0, max=64, help="Processes generating records while this one writes them "
                            "(0: none; default: one per CPU). The records are the same "
                            "whatever the number.")] = None,
) -> None:
    """Fill the database with realistic generated births and deaths (test and benchmark data).

    Records of every status over ten years, at the country's offices and health facilities,
    with names of several cultures and scripts, families sharing mothers, and planted
    duplicates. Each gets its audit entry and search index rows; no webhooks or events are
    sent for generated records. Use a database of its own: the records look real.

    Into an empty PostgreSQL database (no records yet) the indexes of the tables it fills are
    dropped first and built once at the end, several times faster; a run killed meanwhile
    leaves them to build, which `crvshub migrate` does (every other command refuses to start
    until then: unique keys are not checked without them).
    """
    from crvshub.bulk_load import Busy
    from crvshub.cli import cli_context
    from crvshub.synthetic.generate import (
        NoOffices,
        Plan,
        SeedTaken,
        check_seed,
        generate_to,
        places_of,
    )

    if labels is not None and not labels.parent.is_dir():
        _fail(f"--labels: folder {labels.parent} does not exist")
    with cli_context() as ctx:
        locations = ctx.location_cache.snapshot().ordered
        try:  # an operator's mistake is one line, before any progress bar is drawn
            places_of(locations, seed)
            check_seed(ctx.db, seed)
        except (NoOffices, SeedTaken) as exc:
            _fail(str(exc))
        started = time.monotonic()
        with _progress() as progress:
            task = progress.add_task("records", total=records)
            # Shown once there are indexes to build (a load into an empty PostgreSQL database).
            built = progress.add_task("indexes built", total=None, visible=False)
            try:
                plan = Plan(records, seed, duplicate_share, batch,
                            os.cpu_count() or 1 if workers is None else workers)
                done = generate_to(
                    ctx.db, locations, plan, labels,
                    lambda n, _total: progress.update(task, completed=n),
                    lambda n, total: progress.update(built, completed=n, total=total,
                                                     visible=True))
            except (NoOffices, SeedTaken, Busy) as exc:
                _fail(str(exc))
    seconds = time.monotonic() - started
    console.print(f"generated {done} records in {seconds:.1f} s ({done / seconds:.0f}/s)")


def reindex(
    batch: Annotated[int, typer.Option(min=1, max=50_000,
                                       help="Records per short transaction.")] = 2000,
) -> None:
    """Rebuild every record's search columns and search index rows from its stored bundle.

    Safe while the server serves: each batch is its own short transaction, and a record
    changed meanwhile is indexed by its own transaction.
    """
    from crvshub.cli import cli_context
    from crvshub.record.reindex import reindex as run

    with cli_context() as ctx, _progress() as progress:
        task = progress.add_task("records", total=None)
        done = run(ctx.db, batch, lambda n, total: progress.update(task, completed=n,
                                                                    total=total))
    console.print(f"reindexed {done} records")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Attach the commands to the main `crvshub` command."""
    app.command("generate")(generate)
    app.command("reindex")(reindex)
