"""Statistics tests: settings with an export folder, and a database of generated records."""

from __future__ import annotations

from pathlib import Path

import pytest

from crvshub.context import AppContext
from crvshub.settings import Settings
from crvshub.synthetic.generate import Plan, generate

RECORDS = 1500


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The suite's settings plus an export folder of the test's own, short export steps and
    housekeeping (expired exports, monthly counts) every 50 ms of a worker's rounds."""
    return Settings(
        database_url=database_url, environment="test", embedded_worker=False,
        log_level="WARNING", webhook_allow_private=True, outbox_poll_interval=0.05,
        token_query_credentials=True, public_docs=True, public_metrics=True,
        export_dir=tmp_path / "exports", export_step_seconds=0.05,
        statistics_refresh_seconds=0.05,
    )


@pytest.fixture
def generated(ctx: AppContext) -> int:
    """Fill the database with generated births and deaths (seed 7); return how many."""
    locations = ctx.location_cache.snapshot().ordered
    return generate(ctx.db, locations, Plan(RECORDS, seed=7, batch=500))
