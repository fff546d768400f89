"""The command line: help everywhere, users, tokens and seeding."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import jwt
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers import free_port

COMMANDS = [[], ["serve"], ["worker"], ["migrate"], ["seed"], ["user"], ["user", "create"],
            ["user", "list"], ["user", "disable"], ["user", "token"], ["keys"],
            ["keys", "rotate"], ["keys", "list"]]


def run(*args: str, database_url: str | None = None, input_text: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRVSHUB_LOG_LEVEL": "WARNING", **(env or {})}
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


# Operator mistakes: one line on standard error, exit status 2, before anything starts.

@pytest.fixture
def empty_database_url(backend: str, tmp_path) -> Iterator[str]:
    """A reachable database that was never migrated."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    from tests.conftest import PG_ADMIN_URL, _admin_exec, _pg_url

    if not PG_ADMIN_URL:
        pytest.skip("PostgreSQL not reachable")
    name = f"crvshub_empty_{uuid.uuid4().hex[:10]}"
    _admin_exec(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "listening" not in result.stdout + result.stderr


UNMIGRATED = [["serve", "--workers", "1"], ["serve", "--workers", "2"], ["worker"], ["seed"],
              ["user", "list"], ["keys", "list"], ["client", "list"]]


@pytest.mark.parametrize("command", UNMIGRATED, ids=" ".join)
def test_an_unmigrated_database_is_one_line_naming_migrate(
    command: list[str], empty_database_url: str
) -> None:
    if command[0] == "serve":
        command = [*command, "--port", str(free_port())]
    result = run(*command, database_url=empty_database_url)
    assert_one_line_error(result, "is not migrated", "run: crvshub migrate")


def test_the_message_hides_the_database_password(empty_database_url: str) -> None:
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("SQLite URLs carry no password")
    url = make_url(empty_database_url).set(password="s3cret-pw").render_as_string(
        hide_password=False)
    result = run("user", "list", database_url=url)
    assert_one_line_error(result)
    assert "s3cret-pw" not in result.stderr


def test_a_schema_behind_names_its_revision(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0003idemresponse'"))
    engine.dispose()
    result = run("user", "list", database_url=database_url)
    assert_one_line_error(result, "at revision 0003idemresponse", "run: crvshub migrate")


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["user", "list"]], ids=" ".join)
def test_an_unreachable_database_is_one_line(command: list[str], backend: str) -> None:
    url = (f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/crvshub"
           if backend == "postgresql" else "sqlite:////dev/null/crvshub.sqlite3")
    result = run(*command, database_url=url)
    assert_one_line_error(result, "CRVSHUB_DATABASE_URL: cannot connect")


@pytest.mark.parametrize("command", [["serve"], ["seed"]], ids=" ".join)
def test_a_missing_country_folder_is_one_line(command: list[str], database_url: str,
                                              tmp_path) -> None:
    missing = tmp_path / "no-such-country"
    result = run(*command, database_url=database_url,
                 env={"CRVSHUB_COUNTRY_DIR": str(missing)})
    assert_one_line_error(result, "CRVSHUB_COUNTRY_DIR", str(missing))


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain", "reuseport"])
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_port_in_use_is_one_line(workers: str, reuse_port: bool, database_url: str) -> None:
    """Also when the port is held by SO_REUSEPORT sockets, as a running `serve` holds it."""
    with socket.socket() as taken:
        if reuse_port:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), "--workers", workers,
                     database_url=database_url)
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port}")
