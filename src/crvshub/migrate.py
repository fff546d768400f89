"""Run and check Alembic migrations from code (CLI, tests, readiness)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import Connection, text

from crvshub.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str | None = None) -> Config:
    """Return the Alembic configuration of this project."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "heads")
    finally:
        engine.dispose()


def pending_heads(conn: Connection) -> list[str]:
    """Return the migration heads this database has not reached."""
    script = ScriptDirectory.from_config(alembic_config())
    current = set(MigrationContext.configure(conn).get_current_heads())
    applied: set[str] = set()
    for rev in current:
        applied.update(r.revision for r in script.iterate_revisions(rev, "base"))
    return sorted(h for h in script.get_heads() if h not in applied)


def schema_problem(conn: Connection) -> str | None:
    """Describe why this database's schema does not fit this code, or None when it does."""
    current = sorted(MigrationContext.configure(conn).get_current_heads())
    try:
        missing = pending_heads(conn)
    except (CommandError, RevisionError):
        return (f"is at revision {', '.join(current)}, which this version of CRVS Hub does not "
                "know (was it migrated by a newer release?)")
    if not missing:
        return _unbuilt_indexes(conn)
    where = f"at revision {', '.join(current)}" if current else "empty"
    return f"is not migrated ({where}, needs {', '.join(missing)})"


def _unbuilt_indexes(conn: Connection) -> str | None:
    """Describe the indexes an interrupted bulk load left to build (`crvshub.bulk_load`): until
    they are built, unique keys are not checked and inserts that rely on them fail."""
    if conn.dialect.name != "postgresql":
        return None
    count = int(conn.scalar(text("SELECT count(*) FROM bulk_load_indexes")) or 0)
    if not count:
        return None
    return (f"has {count} indexes that an interrupted `crvshub generate` dropped and did not "
            "build again (unique keys are not checked until they are)")
