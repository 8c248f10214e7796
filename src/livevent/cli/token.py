"""`livevent token create`: a signed token with a role and grants, for scripts and people."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from livevent.auth import Role, issuer_for, parse_duration
from livevent.auth.signing import own_verifier
from livevent.cli._utilities import guarded, print_json, state
from livevent.errors import InvalidInput
from livevent.model.ids import parse_event_id

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
    seconds = guarded(lambda: parse_duration(ttl))
    events = guarded(lambda: parse_events(event or []))
    issuer = guarded(lambda: issuer_for(settings))
    token = issuer.issue(
        sub=sub,
        role=role,
        ttl=seconds,
        customer=customer,
        events=events,
        channel=channel,
    )
    if as_json:
        verifier = own_verifier(settings)
        print_json({"token": token, "claims": verifier.verify(token).model_dump(mode="json")})
    else:
        sys.stdout.write(token + "\n")


def parse_events(values: list[str]) -> list[int] | Literal["*"]:
    """`--event 1 --event 2` -> [1, 2]; `--event *` -> "*"."""
    if "*" in values:
        return "*"
    events = [parse_event_id(value) for value in values]
    for value, event_id in zip(values, events, strict=True):
        if event_id is None:
            raise InvalidInput(f"--event takes an event id or *, not {value!r}")
    return [event_id for event_id in events if event_id is not None]
