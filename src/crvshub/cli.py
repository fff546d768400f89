"""The `crvshub` command: serve, worker, migrate, seed, users, keys and feature commands."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crvshub import supervisor
from crvshub.context import AppContext
from crvshub.preflight import check_country_config, check_country_dir, check_database, fail
from crvshub.settings import Settings, SettingsError, get_settings

console = Console(stderr=True, soft_wrap=True)
app = typer.Typer(
    help="CRVS Hub: civil registration interoperability server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage staff users.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage the keys that sign access tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(keys_app, name="keys")


def settings_or_fail(*, secrets: bool = True) -> Settings:
    """Load settings (and check the secret keys), exiting with one line naming a bad setting."""
    try:
        settings = get_settings()
        if secrets:
            settings.check_secrets()
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable
    return settings


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema to the newest version.

    Also builds the indexes an interrupted `crvshub generate` dropped and left (PostgreSQL):
    until then every other command refuses to start.
    """
    from crvshub.migrate import upgrade

    settings = settings_or_fail(secrets=False)
    check_database(settings, schema=False)
    upgrade(settings.database_url)
    _build_bulk_load_indexes(settings.database_url)
    console.print("database schema is up to date")


def _build_bulk_load_indexes(url: str) -> None:
    """Build the indexes an interrupted `crvshub generate` dropped and left (PostgreSQL)."""
    from crvshub import bulk_load
    from crvshub.db import Database

    db = Database(url, pool_size=bulk_load.BUILDERS)
    try:
        if not bulk_load.pending(db):
            return
        with bulk_load.locked(db), _progress() as progress:
            task = progress.add_task("indexes left by an interrupted load", total=None)
            built = bulk_load.build_indexes(
                db, lambda n, total: progress.update(task, completed=n, total=total))
        console.print(f"built {built} indexes an interrupted `crvshub generate` had dropped")
    except bulk_load.Busy as exc:
        fail(str(exc))
    finally:
        db.dispose()


@app.command()
def seed(
    country_dir: Annotated[
        Path | None, typer.Option(help="Folder of country CSV files (default: built-in FAR).")
    ] = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Also create the demo staff users of employees.csv, all "
                     "with the password CRVSHUB_DEMO_PASSWORD (local demos only)."),
    ] = False,
) -> None:
    """Load the country's locations and statistics (safe to run again); users only with --demo."""
    from crvshub.auth.seed import load_users
    from crvshub.composition import build_context
    from crvshub.location.seed import CountryDataError, load_country

    settings = settings_or_fail()
    check_database(settings)
    folder = country_dir or settings.country_dir
    check_country_dir(folder)
    ctx = build_context(settings)
    try:
        with ctx.db.transaction() as session, _progress() as progress:
            task = progress.add_task("locations", total=None)
            report = load_country(
                session,
                folder,
                settings.country_code,
                lambda done, total: progress.update(task, completed=done, total=total),
            )
            users: list[tuple[str, str, str]] = []
            if demo:
                utask = progress.add_task("demo users", total=None)
                users = load_users(
                    session,
                    folder,
                    settings.demo_password,
                    lambda done, total: progress.update(utask, completed=done, total=total),
                )
            ctx.keys.ensure(session)
    except CountryDataError as exc:
        fail(f"country data: {exc}")
    finally:
        ctx.db.dispose()
    console.print(
        f"locations: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )
    if users:
        _print_demo_users(users, settings.demo_password)
        console.print(f"insecure: {len(users)} demo staff users with the password "
                      f"{settings.demo_password!r} (crvshub seed --demo)")
    elif not demo:
        console.print("no staff users created; create the first one with "
                      "`crvshub user create-admin USERNAME --office OFFICE`")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    )


def _print_demo_users(users: list[tuple[str, str, str]], password: str) -> None:
    table = Table(title=f"Demo staff users (password: {password})")
    table.add_column("username")
    table.add_column("role")
    table.add_column("office")
    for username, role, office in users:
        table.add_row(username, role, office)
    console.print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="API processes.")] = None,
) -> None:
    """Start the API, the staff web UI and the embedded outbox worker."""
    import uvicorn

    from crvshub.observability import configure_logging

    settings = settings_or_fail()
    for line in settings.insecure_opt_ins():
        console.print(f"insecure: {line}")
    if port is not None and not 1 <= port <= 65535:
        fail(f"--port: {port} is not a port number (1-65535)")
    check_database(settings)
    check_country_config(settings)
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.api_workers
    try:
        supervisor.check_port_free(host, port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    configure_logging(settings.log_level, json=settings.log_json)
    # Forwarding headers are read by the application itself (CRVSHUB_TRUSTED_PROXIES).
    options = {"app": "crvshub.asgi:create", "factory": True, "log_level": "warning",
               "access_log": False, "timeout_graceful_shutdown": 20, "proxy_headers": False}
    if workers == 1:
        console.print(f"CRVS Hub listening on http://{host}:{port}  (docs: /documentation)")
        uvicorn.run(host=host, port=port, **options)  # type: ignore[arg-type]
        return
    _share_metrics_between_processes()
    with_worker = settings.embedded_worker
    # The API processes leave the outbox to the worker process the supervisor runs beside them.
    os.environ["CRVSHUB_EMBEDDED_WORKER"] = "false"
    console.print(f"CRVS Hub listening on http://{host}:{port}  (docs: /documentation)")
    try:
        status = supervisor.Supervisor(options, host, port, workers, with_worker).run()
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return
    if status:
        fail("the API processes exit as soon as they start; see the log above")


def _share_metrics_between_processes() -> None:
    """Merge the metrics of every process through files in one folder."""
    prom_dir = Path("var/prometheus").resolve()
    prom_dir.mkdir(parents=True, exist_ok=True)
    for stale in prom_dir.glob("*.db"):
        stale.unlink()
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(prom_dir))


@app.command()
def worker(
    parent_pid: Annotated[int | None, typer.Option(
        hidden=True, help="Stop when this process (the `serve` that started it) dies.")] = None,
) -> None:
    """Run the outbox worker alone (webhook deliveries, registration hook calls)."""
    import threading

    from crvshub.composition import build_context
    from crvshub.observability import configure_logging
    from crvshub.outbox.worker import Worker

    if parent_pid is not None:
        supervisor.watch_parent(parent_pid)
    settings = settings_or_fail()
    check_database(settings)
    configure_logging(settings.log_level, json=settings.log_json)
    ctx = build_context(settings)
    with ctx.db.transaction() as session:
        ctx.keys.ensure(session)
    runner = Worker(ctx)
    stopped = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stopped.set()
        runner.stop(timeout=0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    console.print("outbox worker running (Ctrl-C to stop)")
    runner.run_forever()
    runner.close()
    ctx.db.dispose()


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[
        str,
        typer.Option(
            help="FIELD_AGENT, REGISTRATION_AGENT, LOCAL_REGISTRAR, "
            "LOCAL_SYSTEM_ADMIN, NATIONAL_SYSTEM_ADMIN, "
            "PERFORMANCE_MANAGER or NATIONAL_REGISTRAR"
        ),
    ],
    office: Annotated[str, typer.Option(help="Office id or statistical id.")],
    given_names: Annotated[str, typer.Option(help="Given names.")],
    family_name: Annotated[str, typer.Option(help="Family name.")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password.")
    ],
) -> None:
    """Create a staff user attached to an office."""
    from crvshub.auth import service
    from crvshub.errors import AppError

    with cli_session() as (session, _ctx):
        try:
            user = service.create_user(
                session,
                username=username,
                given_names=given_names,
                family_name=family_name,
                role=role,
                office=office,
                password=password,
            )
        except AppError as exc:
            fail(exc.message)
        console.print(f"created user {user.username} ({user.role})")


@user_app.command("create-admin")
def user_create_admin(
    username: str,
    office: Annotated[str, typer.Option(help="Office id or statistical id (e.g. the HQ office).")],
    given_names: Annotated[str, typer.Option(help="Given names.")] = "National",
    family_name: Annotated[str, typer.Option(help="Family name.")] = "Administrator",
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                     help="Password (asked twice when not given; 12+ characters)."),
    ] = "",
) -> None:
    """Create a national system admin (the first user of a production server)."""
    from crvshub.auth import passwords, service
    from crvshub.errors import AppError

    problem = passwords.password_problem(password, username)
    if problem:
        fail(problem)
    with cli_session() as (session, _ctx):
        try:
            user = service.create_user(
                session, username=username, given_names=given_names, family_name=family_name,
                role="NATIONAL_SYSTEM_ADMIN", office=office, password=password,
            )
        except AppError as exc:
            fail(exc.message)
        console.print(f"created national system admin {user.username}")


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List staff users."""
    from crvshub.auth import repository

    with cli_session() as (session, _ctx):
        users = repository.list_users(session)
        rows = [
            {
                "username": u.username,
                "name": f"{u.given_names} {u.family_name}",
                "role": u.role,
                "office_id": u.office_id,
                "status": u.status,
            }
            for u in users
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table()
    for col in ("username", "name", "role", "status", "office_id"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("username", "name", "role", "status", "office_id")))
    Console().print(table)


def _cli_manager() -> Any:
    import getpass

    from crvshub.auth import user_admin

    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "unknown"
    return user_admin.cli_manager(account)


@contextmanager
def _user_session() -> Iterator[tuple[Session, AppContext]]:
    """Open a transaction; print an AppError with its issues as one line and exit 2."""
    from crvshub.errors import AppError

    try:
        with cli_session() as (session, ctx):
            yield session, ctx
    except AppError as exc:
        fail("; ".join(f"{i.expression}: {i.message}" if i.expression else i.message
                       for i in exc.issues))


@user_app.command("deactivate")
def user_deactivate(username: str) -> None:
    """Deactivate a staff user: their tokens stop working within a second."""
    from crvshub.auth import user_admin

    with _user_session() as (session, ctx):
        user_admin.deactivate(session, ctx, _cli_manager(), username)
    console.print(f"deactivated {username}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Deactivate a staff user (the older name of `deactivate`)."""
    user_deactivate(username)


@user_app.command("reactivate")
def user_reactivate(username: str) -> None:
    """Reactivate a staff user."""
    from crvshub.auth import user_admin

    with _user_session() as (session, ctx):
        user_admin.reactivate(session, ctx, _cli_manager(), username)
    console.print(f"reactivated {username}")


@user_app.command("update")
def user_update(
    username: str,
    given_names: Annotated[str | None, typer.Option(help="Given names.")] = None,
    family_name: Annotated[str | None, typer.Option(help="Family name.")] = None,
    role: Annotated[str | None, typer.Option(help="New role.")] = None,
    office: Annotated[str | None, typer.Option(help="Office id or statistical id.")] = None,
    mobile: Annotated[str | None, typer.Option(help="Phone number (empty to clear).")] = None,
    email: Annotated[str | None, typer.Option(help="Email address (empty to clear).")] = None,
) -> None:
    """Change a staff user's names, role, office or contact details."""
    from crvshub.auth import user_admin

    changes = user_admin.UserChanges(given_names=given_names, family_name=family_name,
                                     role=role, office=office, mobile=mobile, email=email)
    with _user_session() as (session, ctx):
        user = user_admin.update(session, ctx, _cli_manager(), username, changes)
        view = user_admin.user_view(user)
    typer.echo(json.dumps(view, indent=2))


@user_app.command("reset-password")
def user_reset_password(username: str) -> None:
    """Give a user a temporary password (printed once); they set a new one at next sign-in."""
    from crvshub.auth import user_admin

    with _user_session() as (session, ctx):
        issued = user_admin.reset_password(session, ctx, _cli_manager(), username)
        secret = issued.temporary_password
    typer.echo(f"temporary password for {username}: {secret}")
    typer.echo("They must set a new password when they next sign in.")


@user_app.command("audit")
def user_audit(
    username: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what a user did (records, management) and what was done to the account."""
    from crvshub.auth import user_admin

    with _user_session() as (session, _ctx):
        entries = [e.view() for e in user_admin.audit(session, _cli_manager(), username)]
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
        return
    table = Table()
    for col in ("at", "kind", "what", "target", "actor", "ip"):
        table.add_column(col)
    for entry in entries:
        table.add_row(*(str(entry[c] or "") for c in ("at", "kind", "what", "target", "actor",
                                                      "ip")))
    Console().print(table)


@user_app.command("token")
def user_token(username: str) -> None:
    """Print a short-lived access token for a staff user (for scripts)."""
    from crvshub.auth import repository, service

    with cli_session() as (session, ctx):
        user = repository.user_by_username(session, username)
        if user is None or user.status != "active":
            fail(f"no active user {username!r}")
            return
        if user.must_change_password:
            fail(f"{username} must set a new password first (sign in on the web page)")
            return
        token, _ttl = service.issue_user_token(ctx.settings, ctx.keys, user)
    typer.echo(token)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Create new signing keys (tokens, DCI messages); the old ones stay published so what
    they signed still verifies."""
    from crvshub.auth import keys

    with cli_session() as (session, ctx):
        new = keys.rotate(session, ctx.settings.derived_key("encryption"))
    console.print(f"new signing key {new.kid} is active (and a new DCI message key); the "
                  "previous keys are retired")


@keys_app.command("reencrypt")
def keys_reencrypt(
    old_key: Annotated[
        str,
        typer.Option(prompt="Previous CRVSHUB_ENCRYPTION_KEY or CRVSHUB_SECRET_KEY",
                     hide_input=True, envvar="CRVSHUB_OLD_KEY",
                     help="The key in use before the change (asked when not given)."),
    ],
) -> None:
    """Re-encrypt the secrets stored at rest with the current encryption key."""
    from functools import partial

    from crvshub.auth import crypto
    from crvshub.auth import rekey as auth_rekey
    from crvshub.certificate import rekey as certificate_rekey
    from crvshub.composition import build_context
    from crvshub.settings import key_from_value, master_derived_key
    from crvshub.webhook import rekey as webhook_rekey

    settings = settings_or_fail()
    check_database(settings)
    # The old value may have been an explicit encryption key or the master key it derived from.
    old = [key_from_value(old_key), master_derived_key("encryption", old_key)]
    ctx = build_context(settings)
    try:
        with ctx.db.transaction() as session:
            rewrap = partial(_rewrap, old, settings.derived_key("encryption"))
            changed = auth_rekey.reencrypt_secrets(session, rewrap)
            changed += webhook_rekey.reencrypt_secrets(session, rewrap)
            changed += certificate_rekey.reencrypt_secrets(session, rewrap)
    except crypto.UnknownKey:
        fail("a stored secret was encrypted with neither the current nor the previous key; "
             "nothing was changed")
    finally:
        ctx.db.dispose()
    console.print(f"{changed} stored secrets re-encrypted with the current key")


def _rewrap(old: list[bytes], new: bytes, blob: bytes, context: bytes) -> bytes | None:
    from crvshub.auth import crypto

    return crypto.reencrypt(blob, old, new, context=context)


@keys_app.command("list")
def keys_list() -> None:
    """List the published signing keys."""
    from crvshub.auth import repository

    with cli_session() as (session, _ctx):
        for key in repository.published_keys(session):
            typer.echo(f"{key.kid}\t{key.status}\t{key.created_at.isoformat()}\t{key.algorithm}")


@contextmanager
def cli_session() -> Iterator[tuple[Session, AppContext]]:
    """Open a transaction with the application context for a CLI command."""
    from crvshub.composition import build_context

    settings = settings_or_fail()
    check_database(settings)
    ctx = build_context(settings)
    try:
        with ctx.db.transaction() as session:
            ctx.keys.ensure(session)
            yield session, ctx
    finally:
        ctx.db.dispose()


@contextmanager
def cli_context() -> Iterator[AppContext]:
    """Return the application context for a CLI command that runs its own transactions."""
    from crvshub.composition import build_context

    settings = settings_or_fail()
    check_database(settings)
    ctx = build_context(settings)
    try:
        yield ctx
    finally:
        ctx.db.dispose()


@app.command("verify-certificate")
def verify_certificate(
    code: Annotated[str, typer.Argument(
        help="The QR code's text (URL or payload), a file holding it, or a certificate PDF")],
    jwks: Annotated[str | None, typer.Option(
        help="JWKS file or URL (default: this server's /.well-known/jwks.json)")] = None,
    server: Annotated[str | None, typer.Option(
        help="Also ask this server's /api/verify whether it is still current")] = None,
) -> None:
    """Verify a certificate or wallet credential offline; exit 1 if invalid (or not current)."""
    import httpx

    from crvshub.certificate import offline

    try:
        text = offline.code_from(code)
        source = jwks or f"{settings_or_fail().base_url}/.well-known/jwks.json"
        result = offline.verify(text, offline.load_jwks(source))
        status = offline.online(server, text) if server and result.valid else None
    except offline.OfflineError as exc:
        fail(str(exc))
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"cannot read the published keys: {exc}")
    found = {"valid": result.valid, "reason": result.reason, "kid": result.kid,
             "certificate": result.facts}
    if status is not None:
        found |= {"outcome": status.get("outcome"), "current": status.get("current"),
                  "message": status.get("message")}
    typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
    if not result.valid or (status is not None and not status.get("current")):
        raise typer.Exit(1)


def register_feature_commands() -> None:
    """Attach the command groups of feature packages."""
    from crvshub.auth.cli import cli as client_cli
    from crvshub.dci.cli import cli as dci_cli
    from crvshub.registration_hook.nid_sim import cli as nid_sim_cli
    from crvshub.statistics.cli import register as register_statistics
    from crvshub.synthetic.cli import register

    app.add_typer(client_cli, name="client")
    app.add_typer(dci_cli, name="dci")
    app.command("nid-sim")(nid_sim_cli)
    register(app)
    register_statistics(app)


def main() -> None:
    """Run the CLI."""
    register_feature_commands()
    try:
        app()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        # The database went away or changed under a running command: one line, not a traceback.
        reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])
        typer.echo(f"error: database: {reason[0][:200]} (is it up and migrated? "
                   "run: crvshub migrate)", err=True)
        sys.exit(2)
