"""`livevent token create`: a signed token with a role and grants, for scripts and people."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from livevent import tokens
from livevent.auth import Role
from livevent.auth.signing import own_verifier
from livevent.cli._utilities import guarded, print_json, state

app = typer.Typer(help="Issue tokens.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    role: Annotated[Role, typer.Option("--role", help="admin, manager, speaker or listener.")],
    event: Annotated[
        list[str] | None, typer.Option("--event", help="An event id, or * for all; repeat it.")
    ] = None,
    channel: Annotated[
        int | None, typer.Option("--channel", help="The channel a speaker may speak on.", min=1)
    ] = None,
    customer: Annotated[
        int | None, typer.Option("--customer", help="The customer a manager manages.", min=1)
    ] = None,
    sub: Annotated[str, typer.Option("--sub", help="Who the token is for.")] = "cli",
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 90s, 15m, 2h, 7d.")] = "1h",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the token and its claims.")
    ] = False,
) -> None:
    """Print a signed access token (HS256, the configured secret, audience and issuer)."""
    settings = guarded(lambda: state(ctx).settings)
    token = guarded(
        lambda: tokens.issue(
            settings,
            role=role,
            event=event or [],
            channel=channel,
            customer=customer,
            sub=sub,
            ttl=ttl,
        )
    )
    if as_json:
        verifier = own_verifier(settings)
        print_json({"token": token, "claims": verifier.verify(token).model_dump(mode="json")})
    else:
        sys.stdout.write(token + "\n")
