"""Checks run before a command touches anything: one line naming the fix, and exit status 2."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crvshub.settings import Settings


def fail(message: str) -> None:
    """Print a one-line error and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def check_country_config(settings: Settings) -> None:
    """Exit with a clear message when the country folder is missing or its files are malformed."""
    from crvshub.notification.config import RequiredFieldsError, required_fields

    check_country_dir(settings.country_dir)
    from crvshub.web.form_config import FormConfigError, forms

    try:
        required_fields(settings.country_dir)
        forms(settings.country_dir)  # the staff declaration forms (declaration-forms.json)
    except (RequiredFieldsError, FormConfigError) as exc:
        fail(f"CRVSHUB_COUNTRY_DIR: {exc}")


def check_country_dir(folder: Path) -> None:
    """Exit with a clear message when the country folder does not exist."""
    if not folder.is_dir():
        fail(f"CRVSHUB_COUNTRY_DIR: {folder} is not a folder (set it to the country's "
             "configuration folder, or unset it for the built-in one)")


def _url_without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def check_database(settings: Settings, *, schema: bool = True) -> None:
    """Exit with a clear message when the database cannot be reached or is not migrated."""
    from crvshub.db import make_engine
    from crvshub.migrate import schema_problem

    where = _url_without_password(settings.database_url)
    problem = None
    engine = None
    try:
        engine = make_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            problem = schema_problem(conn) if schema else None
    except Exception as exc:
        reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])
        fail(f"CRVSHUB_DATABASE_URL: cannot connect to {where}: {reason[0][:200]}")
    finally:
        if engine is not None:
            engine.dispose()
    if problem:
        fail(f"the database at {where} {problem}; run: crvshub migrate")
