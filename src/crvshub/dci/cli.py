"""`crvshub dci`: register the public key a DCI client signs its messages with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from crvshub.dci import service
from crvshub.errors import AppError

cli = typer.Typer(help="DCI registry API: clients' signing keys, delivery log.",
                  no_args_is_help=True)
ClientIdArg = Annotated[str, typer.Argument(help="The client's public client_id.")]


@cli.command("set-key")
def set_key(client_id: ClientIdArg,
            jwk_file: Annotated[Path, typer.Argument(help="A file holding the public JWK.")],
            ) -> None:
    """Register (or replace) a client's public JWK; it must then sign every message."""
    from crvshub.cli import cli_session

    try:
        jwk = json.loads(jwk_file.read_text(encoding="utf-8"))
        with cli_session() as (session, _ctx):
            result = service.set_client_key(session, client_id, jwk)
    except (OSError, ValueError, AppError) as exc:
        typer.echo(f"error: {getattr(exc, 'message', exc)}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result))


@cli.command("remove-key")
def remove_key(client_id: ClientIdArg) -> None:
    """Forget a client's signing key (its messages are refused until it registers another)."""
    from crvshub.cli import cli_session

    try:
        with cli_session() as (session, _ctx):
            result = service.remove_client_key(session, client_id)
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result))


@cli.command("deliveries")
def deliveries(client_id: ClientIdArg,
               limit: Annotated[int, typer.Option(min=1, max=200,
                                                  help="Deliveries shown per channel.")] = 20,
               ) -> None:
    """List a client's DCI channels (notifies, callbacks) with their latest deliveries."""
    from crvshub.cli import cli_session

    try:
        with cli_session() as (session, _ctx):
            result = service.delivery_log(session, client_id, limit)
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result, indent=2))
