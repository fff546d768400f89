"""Settings fail fast with one line naming the bad setting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crvshub.settings import SettingsError, load_settings


def test_bad_port_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="CRVSHUB_PORT"):
        load_settings(port="seventy")


def test_bad_database_scheme_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="CRVSHUB_DATABASE_URL"):
        load_settings(database_url="mysql://x")


def _crvshub(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "crvshub", *args], capture_output=True, text=True,
        env=full_env, timeout=60, check=False,
    )


def test_cli_bad_port_is_one_line_error() -> None:
    result = _crvshub("serve", CRVSHUB_PORT="99999")
    assert result.returncode == 2
    assert "CRVSHUB_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_unreachable_database_is_one_line_error() -> None:
    result = _crvshub(
        "serve", CRVSHUB_DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    assert result.returncode == 2
    assert "CRVSHUB_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def test_cli_malformed_country_config_is_one_line_error(tmp_path) -> None:
    (tmp_path / "notification-required-fields.json").write_text('{"birth": ["no.such.field"]}')
    database = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert _crvshub("migrate", CRVSHUB_DATABASE_URL=database).returncode == 0
    result = _crvshub("serve", CRVSHUB_COUNTRY_DIR=str(tmp_path), CRVSHUB_DATABASE_URL=database)
    assert result.returncode == 2
    assert "CRVSHUB_COUNTRY_DIR" in result.stderr
    assert "no.such.field" in result.stderr
    assert "Traceback" not in result.stderr
