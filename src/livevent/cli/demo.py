"""`livevent demo`: a demo event created, scheduled and shown on the configured store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer

from livevent.cli._utilities import actor, console, run
from livevent.cli.render import event_detail, history_table
from livevent.model import ChannelKind, ChannelSpec, EventConfig, EventCreate, StatusChange
from livevent.service import EventService


def demo(ctx: typer.Context) -> None:
    """Create a demo event (Catalan floor, English machine and Spanish human channels)."""

    async def work(service: EventService) -> tuple[EventConfig, list[StatusChange]]:
        owner = await service.ensure_customer("demo")
        starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)
        event = await service.create_event(
            EventCreate(
                customer_id=owner.id,
                name="livevent demo: welcome talk",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                timezone="Europe/Madrid",
                source_language="ca-ES",
                channels=[
                    ChannelSpec(language="en-US", kind=ChannelKind.MACHINE),
                    ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN, label="Castellano"),
                ],
            ),
            actor=actor(),
        )
        for action in ("schedule", "ready"):
            await service.act(event.id, action, actor=actor(), reason="demo")
        return await service.get_config(event.id), await service.history(event.id)

    config, changes = run(ctx, work)
    console.rule("livevent demo")
    console.print(event_detail(config))
    console.print(history_table(config.id, changes))
    console.print(
        f"\nNext: [bold]livevent event show {config.id}[/], "
        f"[bold]livevent event list[/], [bold]livevent event cancel {config.id}[/]."
    )
