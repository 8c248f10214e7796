"""`livevent customer ...`: who events belong to, and their limits."""

from __future__ import annotations

from typing import Annotated

import typer

from livevent.cli._utilities import console, guarded, print_json, run
from livevent.cli.render import customers_table
from livevent.model import CustomerCreate
from livevent.model.validation import validate

app = typer.Typer(help="Create and list customers.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name.")],
    max_live_events: Annotated[
        int, typer.Option("--max-live-events", help="Concurrent LIVE events.", min=1)
    ] = 5,
    max_listeners: Annotated[
        int, typer.Option("--max-listeners", help="Listeners per event.", min=1)
    ] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Create a customer."""
    data = guarded(
        lambda: validate(
            CustomerCreate,
            {
                "name": name,
                "max_live_events": max_live_events,
                "max_listeners_per_event": max_listeners,
            },
        )
    )
    customer = run(ctx, lambda service: service.create_customer(data))
    if as_json:
        print_json(customer)
    else:
        console.print(f"Created customer [bold]{customer.id}[/] ({customer.name}).")


@app.command("list")
def list_customers(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List customers."""
    customers = run(ctx, lambda service: service.list_customers())
    if as_json:
        print_json([c.model_dump(mode="json") for c in customers])
    else:
        console.print(customers_table(customers))
