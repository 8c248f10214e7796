"""`livevent db ...`: the store's schema."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from livevent.cli._utilities import console, guarded, print_json, state
from livevent.store import open_store

app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("migrate")
def migrate(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Apply the schema migrations the store lacks (safe to run again)."""
    settings = guarded(lambda: state(ctx).settings)

    async def work() -> tuple[str, list[str]]:
        store = await open_store(settings.database_url, migrate=False)
        try:
            return store.database.describe(), await store.migrate()
        finally:
            await store.aclose()

    where, applied = guarded(lambda: asyncio.run(work()))
    if as_json:
        print_json({"database": where, "applied": applied})
    elif applied:
        console.print(f"Applied {', '.join(applied)} to {where}.", markup=False)
    else:
        console.print(f"{where} is up to date.", markup=False)


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show which store is configured and which migrations it lacks."""
    settings = guarded(lambda: state(ctx).settings)

    async def work() -> tuple[str, str, list[str]]:
        store = await open_store(settings.database_url, migrate=False)
        try:
            return store.dialect, store.database.describe(), await store.pending_migrations()
        finally:
            await store.aclose()

    dialect, where, pending = guarded(lambda: asyncio.run(work()))
    if as_json:
        print_json({"dialect": dialect, "database": where, "pending": pending})
    else:
        console.print(f"{dialect}: {where}", markup=False)
        console.print(f"pending migrations: {', '.join(pending) or 'none'}", markup=False)
