"""`livevent user ...`: people who sign in, and what each may do on which event."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from livevent.auth.accounts import Accounts
from livevent.auth.grants import add_grant
from livevent.auth.invitations import Invitation, InvitationRequest, Invitations
from livevent.cli._utilities import (
    EventId,
    actor,
    console,
    err_console,
    exit_with_error,
    guarded,
    print_json,
    run,
    state,
)
from livevent.cli.render import users_table
from livevent.events.service import EventService
from livevent.model import Capability, Grant, Role, User, UserCreate
from livevent.model.user import MIN_PASSWORD
from livevent.model.validation import validate

app = typer.Typer(help="Create users and grant them events.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]
EmailArgument = Annotated[str, typer.Argument(help="The user's email.")]


def _accounts(ctx: typer.Context, service: EventService) -> Accounts:
    settings = state(ctx).settings
    # Users live in the event store; Accounts is the one door to them.
    return Accounts.from_settings(settings, users=service.store.users, bus=service.bus)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        exit_with_error("give the password on a terminal, or with --password-stdin")
    if len(password) < MIN_PASSWORD:
        exit_with_error(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def _show(user: User, as_json: bool, said: str) -> None:
    if as_json:
        print_json(user)
        return
    console.print(f"{said} user [bold]{user.id}[/] ({user.email}, {user.role.value}).")
    for grant in user.grants:
        console.print(f"  may {grant}")


@app.command("create")
def create(
    ctx: typer.Context,
    email: EmailArgument,
    name: Annotated[str, typer.Option("--name", help="The name shown to others.")],
    role: Annotated[Role, typer.Option("--role", help="What the user is.")] = Role.SPEAKER,
    customer: Annotated[
        str | None,
        typer.Option("--customer", help="The customer (name or id) a manager works for."),
    ] = None,
    password_stdin: PasswordStdin = False,
    as_json: AsJson = False,
) -> None:
    """Create a user who signs in with an email and a password."""
    password = _password(password_stdin)

    async def work(service: EventService) -> User:
        customer_id = None
        if customer is not None:
            customer_id = (await service.resolve_customer(customer)).id
        data = validate(
            UserCreate,
            {
                "email": email,
                "name": name,
                "role": role,
                "customer_id": customer_id,
                "password": password,
            },
        )
        return await _accounts(ctx, service).create_user(data)

    _show(run(ctx, work), as_json, "Created")


@app.command("list")
def list_users(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's (name or id).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List users and their grants."""

    async def work(service: EventService) -> list[User]:
        customer_id = None
        if customer is not None:
            customer_id = (await service.resolve_customer(customer)).id
        return await _accounts(ctx, service).list_users(customer_id=customer_id)

    users = run(ctx, work)
    if as_json:
        print_json([user.model_dump(mode="json") for user in users])
    else:
        console.print(users_table(users))


def _grant(event_id: int, capability: Capability, channel: int | None) -> Grant:
    return guarded(
        lambda: validate(Grant, {"event": event_id, "can": capability, "channel": channel})
    )


EventArgument = EventId
CapabilityArgument = Annotated[
    Capability, typer.Argument(help="manage, speak (the floor), interpret or listen.")
]
ChannelOption = Annotated[
    int | None, typer.Option("--channel", help="The channel interpreted.", min=1, max=99)
]


AcrossCustomers = Annotated[
    bool,
    typer.Option(
        "--across-customers",
        help="Grant an event of another customer than the user's (written in its history).",
    ),
]


@app.command("grant")
def grant(
    ctx: typer.Context,
    email: EmailArgument,
    event_id: EventArgument,
    capability: CapabilityArgument,
    channel: ChannelOption = None,
    across_customers: AcrossCustomers = False,
    as_json: AsJson = False,
) -> None:
    """Let a user manage, speak on, interpret a channel of, or listen to an event."""
    change = _grant(event_id, capability, channel)

    async def work(service: EventService) -> User:
        accounts = _accounts(ctx, service)
        user = await accounts.find(email)
        return await add_grant(
            accounts,
            service.store,
            user,
            change,
            actor=actor(),
            across_customers=across_customers,
        )

    _show(run(ctx, work), as_json, "Granted; now")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    email: EmailArgument,
    event_id: EventArgument,
    capability: CapabilityArgument,
    channel: ChannelOption = None,
    as_json: AsJson = False,
) -> None:
    """Take a grant back (it ends when the user's access token does, at most minutes)."""
    _change_grants(ctx, email, _grant(event_id, capability, channel), add=False, as_json=as_json)


def _change_grants(
    ctx: typer.Context, email: str, change: Grant, *, add: bool, as_json: bool
) -> None:
    async def work(service: EventService) -> User:
        accounts = _accounts(ctx, service)
        user = await accounts.find(email)
        return await (accounts.grant if add else accounts.revoke)(user.id, change)

    _show(run(ctx, work), as_json, "Granted; now" if add else "Revoked; now")


@app.command("invite")
def invite(
    ctx: typer.Context,
    event_id: EventArgument,
    channel: Annotated[
        int, typer.Option("--channel", help="The channel they speak on (1: the floor).", min=1)
    ],
    email: Annotated[str, typer.Option("--email", help="Their email (a new or known user).")],
    name: Annotated[str | None, typer.Option("--name", help="Their name, for a new user.")] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The address people reach the server at (else public_url)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Invite a speaker or interpreter: a grant, and a one-time link that signs them in.

    The link is printed for a new person; with smtp_url set it goes to them by mail;
    a person who already has an account signs in with it (no link is made). The link
    names the server's public address: --url, else the setting public_url.
    """
    settings = state(ctx).settings
    # Without one, a guess from this machine's settings: the server may run elsewhere.
    guessed = (url or settings.public_url) is None
    base = url or settings.public_url or f"http://{settings.host}:{settings.port}"

    async def work(service: EventService) -> Invitation:
        event = await service.get_event(event_id)
        invitations = Invitations.from_settings(settings, _accounts(ctx, service), service.store)
        request = validate(InvitationRequest, {"channel": channel, "email": email, "name": name})
        return await invitations.invite(event, request, base_url=base, actor=actor())

    invitation = run(ctx, work)
    if as_json:
        print_json(invitation)
        return
    console.print(f"Invited {invitation.user.email} to {invitation.grant}. {invitation.message}")
    if invitation.link is not None and invitation.expires_at is not None:
        console.print(f"The link works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC:")
        print(invitation.link)
        if guessed:
            err_console.print(
                f"Warning: the link names {base}, a guess; set public_url"
                " (LIVEVENT_PUBLIC_URL) or pass --url: the address people reach the server at."
            )


@app.command("password")
def password(
    ctx: typer.Context, email: EmailArgument, password_stdin: PasswordStdin = False
) -> None:
    """Set a new password; the user's refresh tokens stop working."""
    new = _password(password_stdin)

    async def work(service: EventService) -> None:
        accounts = _accounts(ctx, service)
        await accounts.set_password((await accounts.find(email)).id, new)

    run(ctx, work)
    console.print(f"Password changed for {email}; sign in again everywhere.")


@app.command("disable")
def disable(ctx: typer.Context, email: EmailArgument) -> None:
    """Stop a user from signing in; its refresh tokens stop working."""
    _set_disabled(ctx, email, True)
    console.print(f"Disabled {email}.")


@app.command("enable")
def enable(ctx: typer.Context, email: EmailArgument) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(ctx, email, False)
    console.print(f"Enabled {email}.")


def _set_disabled(ctx: typer.Context, email: str, disabled: bool) -> None:
    async def work(service: EventService) -> None:
        accounts = _accounts(ctx, service)
        await accounts.set_disabled((await accounts.find(email)).id, disabled)

    run(ctx, work)


@app.command("delete")
def delete(ctx: typer.Context, email: EmailArgument) -> None:
    """Delete a user and its grants."""

    async def work(service: EventService) -> None:
        accounts = _accounts(ctx, service)
        await accounts.delete((await accounts.find(email)).id)

    run(ctx, work)
    console.print(f"Deleted {email}.")
