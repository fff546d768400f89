"""`crvshub client`: manage integration clients from the command line (every change audited)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from crvshub.auth import client_admin
from crvshub.auth.clients import IssuedCredentials
from crvshub.context import AppContext
from crvshub.errors import AppError

cli = typer.Typer(
    help="Manage integration clients (hospital systems, record search, webhooks, national ID).",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (for scripts).")]
ClientIdArg = Annotated[str, typer.Argument(help="The client's public client_id.")]
BirthOpt = Annotated[
    str | None,
    typer.Option(help="Birth sections a WEBHOOK client receives, comma separated, e.g. "
                 "child-details,mother-details (empty string for none)."),
]
DeathOpt = Annotated[
    str | None,
    typer.Option(help="Death sections a WEBHOOK client receives, comma separated, e.g. "
                 "deceased-details,death-encounter (empty string for none)."),
]
CompatOpt = Annotated[
    str | None,
    typer.Option("--compat", help="crvshub (default) or opencrvs-strict: answer with "
                 "OpenCRVS's exact status codes (docs/integrations/compatibility.md)."),
]
QuotaOpt = Annotated[
    int | None, typer.Option(help="Record searches allowed per day (RECORD_SEARCH clients).")
]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _actor() -> client_admin.Actor:
    try:
        account = getpass.getuser()
    except (KeyError, OSError):
        account = "unknown"
    return client_admin.Actor(f"cli:{account}")


@contextmanager
def _session() -> Iterator[tuple[Session, AppContext]]:
    """Open one transaction; print AppErrors as one line and exit 2."""
    from crvshub.cli import cli_session

    try:
        with cli_session() as (session, ctx):
            yield session, ctx
    except AppError as exc:
        details = "; ".join(
            f"{i.expression}: {i.message}" if i.expression else i.message for i in exc.issues
        )
        _fail(details)


def _permissions(birth: str | None, death: str | None) -> list[dict[str, Any]] | None:
    if birth is None and death is None:
        return None
    result = []
    for event, value in (("birth", birth), ("death", death)):
        if value is not None:
            codes = [c.strip() for c in value.split(",") if c.strip()]
            result.append({"event": event, "permissions": codes})
    return result


def _changes(
    name: str | None, daily_quota: int | None, birth: str | None, death: str | None,
    *, integrating_system_type: str | None = None, compat: str | None = None,
) -> client_admin.ClientChanges:
    """Return the client fields given on the command line."""
    return client_admin.ClientChanges(
        name=name, daily_quota=daily_quota, webhook_permissions=_permissions(birth, death),
        integrating_system_type=integrating_system_type, compat_mode=compat,
    )


def _print_credentials(creds: IssuedCredentials, as_json: bool) -> None:
    data = {
        "client_id": creds.client.client_id,
        "client_secret": creds.client_secret,
        "sha_secret": creds.sha_secret,
        "client": client_admin.client_view(creds.client),
    }
    if as_json:
        typer.echo(json.dumps(data))
        return
    out.print(f"[bold]{creds.client.name}[/bold] ({creds.client.type})")
    for key in ("client_id", "client_secret", "sha_secret"):
        out.print(f"{key:14} {data[key]}", highlight=False)
    out.print("[yellow]Copy the client secret now: it is never shown again.[/yellow]")


def _print_client(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(view))
        return
    table = Table(show_header=False)
    for key, value in view.items():
        table.add_row(key, json.dumps(value) if isinstance(value, list | dict) else str(value))
    out.print(table)


@cli.command("create")
def create(
    client_type: Annotated[
        str, typer.Option("--type",
                          help="HEALTH, RECORD_SEARCH, WEBHOOK, NATIONAL_ID or STATISTICS.")
    ],
    name: Annotated[str, typer.Option(help="A unique, human name, e.g. 'Central Hospital'.")],
    integrating_system_type: Annotated[
        str | None, typer.Option(help="NATIONAL_ID only: MOSIP, OSIA or OTHER.")
    ] = None,
    daily_quota: QuotaOpt = None,
    webhook_birth: BirthOpt = None,
    webhook_death: DeathOpt = None,
    compat: CompatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a client and print its client_id, client_secret and sha_secret (shown once)."""
    changes = _changes(name, daily_quota, webhook_birth, webhook_death,
                       integrating_system_type=integrating_system_type, compat=compat)
    with _session() as (session, ctx):
        creds = client_admin.register(session, ctx, _actor(), client_type.upper(), changes)
    _print_credentials(creds, as_json)


@cli.command("list")
def list_clients(as_json: JsonOpt = False) -> None:
    """List every integration client with its type and status."""
    with _session() as (session, _ctx):
        views = [client_admin.client_view(c) for c in client_admin.list_all(session)]
    if as_json:
        typer.echo(json.dumps(views))
        return
    table = Table()
    for column in ("client_id", "name", "type", "status", "created_at"):
        table.add_column(column)
    for view in views:
        table.add_row(*(str(view[c]) for c in ("client_id", "name", "type", "status",
                                                "created_at")))
    out.print(table)


@cli.command("show")
def show(
    client_id: ClientIdArg,
    reveal_sha_secret: Annotated[
        bool, typer.Option(help="Also print the webhook signing secret (audited).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one client; its secret is never shown, its sha_secret only on request."""
    with _session() as (session, ctx):
        view = client_admin.client_view(client_admin.get(session, client_id))
        if reveal_sha_secret:
            view["sha_secret"] = client_admin.reveal_sha_secret(session, ctx, _actor(), client_id)
    _print_client(view, as_json)


@cli.command("update")
def update(
    client_id: ClientIdArg,
    name: Annotated[str | None, typer.Option(help="New unique name.")] = None,
    daily_quota: QuotaOpt = None,
    webhook_birth: BirthOpt = None,
    webhook_death: DeathOpt = None,
    compat: CompatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a client's name, daily quota, webhook permissions or compatibility mode."""
    changes = _changes(name, daily_quota, webhook_birth, webhook_death, compat=compat)
    with _session() as (session, _ctx):
        view = client_admin.client_view(client_admin.update(session, _actor(), client_id, changes))
    _print_client(view, as_json)


@cli.command("deactivate")
def deactivate(client_id: ClientIdArg) -> None:
    """Deactivate a client: its tokens stop working within a second."""
    with _session() as (session, ctx):
        client = client_admin.deactivate(session, ctx, _actor(), client_id)
    out.print(f"deactivated {client.name} ({client.client_id})")


@cli.command("reactivate")
def reactivate(client_id: ClientIdArg) -> None:
    """Reactivate a client; it must request new tokens."""
    with _session() as (session, ctx):
        client = client_admin.reactivate(session, ctx, _actor(), client_id)
    out.print(f"reactivated {client.name} ({client.client_id})")


@cli.command("refresh-secret")
def refresh_secret(client_id: ClientIdArg, as_json: JsonOpt = False) -> None:
    """Issue a new client secret; the old one and its tokens stop working."""
    with _session() as (session, ctx):
        creds = client_admin.refresh_secret(session, ctx, _actor(), client_id)
    _print_credentials(creds, as_json)


@cli.command("delete")
def delete(
    client_id: ClientIdArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a client for good, with its webhook subscriptions."""
    if not yes:
        typer.confirm(f"Permanently delete client {client_id} and its subscriptions?", abort=True)
    with _session() as (session, ctx):
        snapshot = client_admin.delete(session, ctx, _actor(), client_id)
    out.print(f"deleted {snapshot['name']} ({client_id})")


@cli.command("audit")
def audit(client_id: ClientIdArg, as_json: JsonOpt = False) -> None:
    """Show who registered, changed, deactivated or deleted a client, and when."""
    with _session() as (session, _ctx):
        rows = [client_admin.audit_view(r) for r in client_admin.audit_trail(session, client_id)]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table()
    for column in ("at", "actor", "action", "ip"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("at", "actor", "action", "ip")))
    out.print(table)
