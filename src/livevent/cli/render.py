"""Rich views of events and customers for people; `--json` prints the models instead."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text

from livevent.model import (
    Channel,
    Customer,
    Event,
    EventConfig,
    EventStatus,
    StatusChange,
    User,
    language_name,
)

STATUS_STYLE = {
    EventStatus.DRAFT: "dim",
    EventStatus.SCHEDULED: "cyan",
    EventStatus.READY: "green",
    EventStatus.LIVE: "bold red",
    EventStatus.ENDED: "dim",
    EventStatus.CANCELLED: "yellow",
}


def status_text(status: EventStatus) -> Text:
    return Text(status.value, style=STATUS_STYLE[status])


def when(moment: datetime | None, event: Event) -> str:
    if moment is None:
        return "-"
    return event.local(moment).strftime("%Y-%m-%d %H:%M %Z")


def channels_summary(event: Event) -> str:
    return ", ".join(f"{c.number}:{c.language} {c.kind.value}" for c in event.channels)


def events_table(events: list[Event], total: int) -> Table:
    table = Table(title=f"Events ({len(events)} of {total})", title_justify="left")
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Name")
    table.add_column("Starts", no_wrap=True)
    table.add_column("Status")
    table.add_column("Channels")
    table.add_column("Customer", justify="right")
    for event in events:
        table.add_row(
            str(event.id),
            Text(event.name),
            when(event.starts_at, event),
            status_text(event.status),
            channels_summary(event),
            str(event.customer_id),
        )
    return table


def event_detail(event: Event | EventConfig) -> Group:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Event", Text(f"{event.id}  {event.name}"))
    facts.add_row("Status", status_text(event.status))
    facts.add_row("Starts", when(event.starts_at, event))
    facts.add_row("Ends", when(event.ends_at, event))
    facts.add_row("Time zone", event.timezone)
    facts.add_row("Original", f"{event.source_language} ({language_name(event.source_language)})")
    facts.add_row("Customer", str(event.customer_id))
    facts.add_row("Access", "public" if event.public else "private (listener token)")
    facts.add_row("Broadcast", "HLS" if event.broadcast else "off (listeners' sockets only)")
    if isinstance(event, EventConfig):
        facts.add_row("Max listeners", str(event.limits.max_listeners))
    facts.add_row("Version", str(event.version))

    channels = Table(title="Channels", title_justify="left")
    channels.add_column("#", justify="right")
    channels.add_column("Language")
    channels.add_column("Kind")
    channels.add_column("Label / voice")
    channels.add_column("Relay / fallback")
    for channel in event.channels:
        channels.add_row(
            str(channel.number),
            f"{channel.language} ({language_name(channel.language)})",
            channel.kind.value,
            Text(" / ".join(x for x in (channel.label, channel.voice) if x) or "-"),
            Text(_relay_or_fallback(channel)),
        )
    return Group(facts, Text(""), channels)


def _relay_or_fallback(channel: Channel) -> str:
    if channel.source is not None:
        return f"relay of {channel.source}"  # the floor while no interpreter is on air
    if channel.fallback == "machine":
        return "machine fallback"
    return "-"


def history_table(event_id: int, changes: list[StatusChange]) -> Table:
    table = Table(title=f"History of event {event_id}", title_justify="left")
    table.add_column("When (UTC)", no_wrap=True)
    table.add_column("From")
    table.add_column("To")
    table.add_column("Who")
    table.add_column("Why, or what changed")
    for change in changes:
        table.add_row(
            change.at.strftime("%Y-%m-%d %H:%M:%S"),
            change.from_status.value if change.from_status else "-",
            status_text(change.to_status),
            Text(change.actor),
            Text(change.reason or change.change or ""),
        )
    return table


def customers_table(customers: list[Customer]) -> Table:
    table = Table(title="Customers", title_justify="left")
    table.add_column("ID", justify="right")
    table.add_column("Name")
    table.add_column("Max live events", justify="right")
    table.add_column("Max listeners / event", justify="right")
    for customer in customers:
        table.add_row(
            str(customer.id),
            Text(customer.name),
            str(customer.max_live_events),
            str(customer.max_listeners_per_event),
        )
    return table


def users_table(users: list[User]) -> Table:
    table = Table(title="Users", title_justify="left")
    table.add_column("ID", justify="right")
    table.add_column("Email")
    table.add_column("Name")
    table.add_column("Role")
    table.add_column("Customer", justify="right")
    table.add_column("Grants")
    for user in users:
        role = Text(user.role.value + (" (disabled)" if user.disabled else ""))
        table.add_row(
            str(user.id),
            Text(user.email),
            Text(user.name),
            role,
            "-" if user.customer_id is None else str(user.customer_id),
            Text("\n".join(str(grant) for grant in user.grants) or "-"),
        )
    return table
