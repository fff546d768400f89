"""The command line: help everywhere, users, tokens and seeding."""

from __future__ import annotations

import os
import subprocess
import sys

import jwt
import pytest

COMMANDS = [[], ["serve"], ["worker"], ["migrate"], ["seed"], ["user"], ["user", "create"],
            ["user", "list"], ["user", "disable"], ["user", "token"], ["keys"],
            ["keys", "rotate"], ["keys", "list"]]


def run(*args: str, database_url: str | None = None, input_text: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRVSHUB_LOG_LEVEL": "WARNING"}
    if database_url:
        env["CRVSHUB_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "crvshub", *args], capture_output=True,
                          text=True, env=env, timeout=120, input=input_text, check=False)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_user_lifecycle_and_token(database_url: str) -> None:
    created = run("user", "create", "t.tester", "--role", "LOCAL_REGISTRAR", "--office",
                  "f4t3tGolUB", "--given-names", "Tina", "--family-name", "Tester",
                  "--password", "s3cret-pass", database_url=database_url)
    assert created.returncode == 0, created.stderr
    listed = run("user", "list", "--json", database_url=database_url)
    assert '"t.tester"' in listed.stdout
    token = run("user", "token", "t.tester", database_url=database_url).stdout.strip()
    assert "register" in jwt.decode(token, options={"verify_signature": False})["scope"]
    dup = run("user", "create", "t.tester", "--role", "LOCAL_REGISTRAR", "--office",
              "f4t3tGolUB", "--given-names", "T", "--family-name", "T", "--password", "x",
              database_url=database_url)
    assert dup.returncode == 2 and "taken" in dup.stderr
    assert run("user", "disable", "t.tester", database_url=database_url).returncode == 0
    assert run("user", "token", "t.tester", database_url=database_url).returncode == 2


def test_seed_is_idempotent_from_the_cli(database_url: str) -> None:
    result = run("seed", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "0 created" in result.stderr
