"""The layer contracts of docs/architecture.md hold, and the record workflow's port is wired."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from crvshub.context import AppContext
from crvshub.record.ports import PortNotWired, external_validation
from crvshub.registration_hook.service import EXTERNAL_VALIDATION

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_composed_sessions_reach_the_registration_hook_through_the_port(ctx: AppContext) -> None:
    with ctx.db.sessionmaker() as session:
        assert external_validation(session) is EXTERNAL_VALIDATION
        assert ctx.wiring.external_validation is EXTERNAL_VALIDATION


def test_an_uncomposed_session_refuses_to_skip_the_hook() -> None:
    with Session() as session, pytest.raises(PortNotWired):
        external_validation(session)
