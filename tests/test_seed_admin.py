"""Seeding loads the country only; demo users need --demo; the first admin comes from a prompt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import HQ_OFFICE_SID

STRONG_PASSWORD = "Correct-horse-battery-9"


def run(*args: str, db: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRVSHUB_LOG_LEVEL": "WARNING", "CRVSHUB_DATABASE_URL": db}
    return subprocess.run([sys.executable, "-m", "crvshub", *args], capture_output=True,
                          text=True, env=env, input=stdin, timeout=180, check=False)


@pytest.fixture
def fresh_db(tmp_path: Path) -> str:
    """A migrated database with nothing in it."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert run("migrate", db=url).returncode == 0
    return url


def users(db: str) -> list[dict[str, str]]:
    listed = run("user", "list", "--json", db=db)
    assert listed.returncode == 0, listed.stderr
    return list(json.loads(listed.stdout))


def test_seed_creates_no_users_and_demo_needs_the_flag(fresh_db: str) -> None:
    seeded = run("seed", db=fresh_db)
    assert seeded.returncode == 0, seeded.stderr
    assert "crvshub user create-admin" in seeded.stderr
    assert users(fresh_db) == []
    demo = run("seed", "--demo", db=fresh_db)
    assert demo.returncode == 0, demo.stderr
    assert "insecure: 11 demo staff users with the password 'test'" in demo.stderr
    assert "h.sewanti" in {u["username"] for u in users(fresh_db)}


def test_create_admin_asks_for_the_password_twice(fresh_db: str) -> None:
    assert run("seed", db=fresh_db).returncode == 0
    created = run("user", "create-admin", "n.admin", "--office", HQ_OFFICE_SID, db=fresh_db,
                  stdin=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n")
    assert created.returncode == 0, created.stderr
    assert "Repeat for confirmation" in created.stdout
    assert STRONG_PASSWORD not in created.stdout + created.stderr
    [admin] = users(fresh_db)
    assert (admin["username"], admin["role"]) == ("n.admin", "NATIONAL_SYSTEM_ADMIN")
    token = run("user", "token", "n.admin", db=fresh_db)
    assert token.returncode == 0 and token.stdout.count(".") == 2


def test_create_admin_refuses_weak_passwords_in_one_line(fresh_db: str) -> None:
    for password in ("test", "short-9", "n.admin-password", "aaaaaaaaaaaaaaaa"):
        refused = run("user", "create-admin", "n.admin", "--office", HQ_OFFICE_SID,
                      db=fresh_db, stdin=f"{password}\n{password}\n")
        assert refused.returncode == 2, password
        # Without a terminal, the prompt library warns that input may echo; then our one line.
        assert refused.stderr.strip().splitlines()[-1].startswith("error: the password")
        assert "Traceback" not in refused.stderr
    assert users(fresh_db) == []


def test_create_admin_needs_a_known_office(fresh_db: str) -> None:
    assert run("seed", db=fresh_db).returncode == 0
    refused = run("user", "create-admin", "n.admin", "--office", "nowhere", db=fresh_db,
                  stdin=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n")
    assert refused.returncode == 2 and "nowhere" in refused.stderr


@pytest.mark.parametrize("command", [["user", "create-admin"], ["keys", "reencrypt"], ["seed"]])
def test_new_commands_have_help(command: list[str], tmp_path: Path) -> None:
    result = run(*command, "--help", db=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert result.returncode == 0 and "Usage" in result.stdout
