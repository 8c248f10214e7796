"""`livevent event ...`: create, list, show, update, move through the status machine, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from livevent.cli._utilities import EventId, actor, console, guarded, print_json, run, state
from livevent.cli.engines import warn_of_voices
from livevent.cli.output import BroadcastOption, PushOption, parse_push
from livevent.cli.render import event_detail, events_table, history_table
from livevent.errors import InvalidInput, NotFound
from livevent.events.service import EventService
from livevent.model import (
    ChannelKind,
    ChannelSpec,
    Event,
    EventCopy,
    EventCreate,
    EventFilter,
    EventPage,
    EventPatch,
    EventStatus,
)
from livevent.model.ids import channel_key
from livevent.model.validation import validate
from livevent.settings import Settings

app = typer.Typer(help="Create and manage events.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ReasonOption = Annotated[
    str | None, typer.Option("--reason", "-r", help="Why, for the audit trail.")
]


def parse_channel(text: str) -> dict[str, Any]:
    """`es-ES:machine:consecutive:voice=pico` -> language, kind, interpretation and voice;
    `es-ES:human:fallback=machine` -> an interpreter's channel the machine stands in for.

    The kind is `machine` when left out; the options may come in any order (a voice last).
    """
    language, _, rest = text.partition(":")
    kind, _, options = rest.partition(":")
    spec: dict[str, Any] = {"language": language}
    if kind:
        spec["kind"] = kind.strip().lower()
    for option in filter(None, (part.strip() for part in options.split(":"))):
        name, equals, _ = option.partition("=")
        if equals and name.lower() == "voice":
            # A voice may itself hold a colon (festival:upc_ca_ona_hts): take the rest.
            spec["voice"] = options[options.index(option) + len("voice=") :].strip()
            break
        if equals and name.lower() in ("fallback", "source"):
            value = option.partition("=")[2].strip()
            spec[name.lower()] = value.lower() if name.lower() == "fallback" else value
            continue
        spec["interpretation"] = option.lower()
    return spec


InterpretationOption = Annotated[
    str | None,
    typer.Option(
        "--interpretation",
        help="Machine channels: simultaneous (a few seconds behind) or consecutive.",
    ),
]


GlossaryOption = Annotated[
    Path | None,
    typer.Option(
        "--glossary",
        help='JSON file: [{"term": "annual meeting", "translations": {"es-ES": "asamblea anual"}}]',
    ),
]


def read_glossary(path: Path | None) -> list[Any] | None:
    """The glossary file's entries (validated with the event), or None without a file."""
    if path is None:
        return None
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"cannot read glossary {path}: {error}") from None
    if not isinstance(entries, list):
        raise InvalidInput(f"glossary {path} must hold a JSON list of entries")
    return entries


def _show(event: Event, as_json: bool, settings: Settings | None = None) -> None:
    if as_json:
        print_json(event)
        return
    console.print(event_detail(event))
    if settings is not None:
        warn_of_voices(event, settings)


NameOption = Annotated[str, typer.Option("--name", "-n", help="The event's name.")]
StartsAtOption = Annotated[
    str, typer.Option("--starts-at", help="Start, ISO 8601: 2026-12-01T10:00+01:00.")
]
SourceOption = Annotated[
    str, typer.Option("--source", "-s", help="Original language, BCP-47: ca-ES.")
]
ChannelsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--channel",
        help="LANG[:KIND[:MODE][:fallback=machine][:source=LANG][:voice=VOICE]], KIND"
        " floor|human|machine (machine if left out), MODE simultaneous|consecutive,"
        " fallback=machine: the machine stands in while no interpreter is on air,"
        " source=LANG: a machine channel relayed from that interpreter's channel,"
        " VOICE an engine or engine:voice; repeat it.",
    ),
]
EndsAtOption = Annotated[str | None, typer.Option("--ends-at", help="Planned end.")]
TimezoneOption = Annotated[
    str, typer.Option("--timezone", "--tz", help="IANA time zone it is shown in.")
]
CustomerOption = Annotated[
    str | None, typer.Option("--customer", help="Customer name or id (else the default).")
]
IdOption = Annotated[
    int | None, typer.Option("--id", help="Choose the id (else a random one).", min=1)
]
MaxListenersOption = Annotated[
    int | None, typer.Option("--max-listeners", help="Cap below the customer's.", min=1)
]
PrivateOption = Annotated[bool, typer.Option("--private", help="Listeners need a token to join.")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: NameOption,
    starts_at: StartsAtOption,
    source: SourceOption,
    channel: ChannelsOption = None,
    ends_at: EndsAtOption = None,
    timezone: TimezoneOption = "UTC",
    customer: CustomerOption = None,
    event_id: IdOption = None,
    max_listeners: MaxListenersOption = None,
    private: PrivateOption = False,
    glossary: GlossaryOption = None,
    interpretation: InterpretationOption = None,
    push: PushOption = None,
    broadcast: BroadcastOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an event in DRAFT. The floor channel (original language) is added for you."""
    entries = guarded(lambda: read_glossary(glossary)) or []
    outputs = guarded(lambda: [parse_push(text) for text in push or []])
    data = guarded(
        lambda: validate(
            EventCreate,
            {
                "id": event_id,
                "name": name,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "timezone": timezone,
                "source_language": source,
                "channels": [parse_channel(c) for c in channel or []],
                "max_listeners": max_listeners,
                "public": not private,
                "glossary": entries,
                "interpretation": interpretation,
                "broadcast": broadcast is not False,
            },
        )
    )

    async def work(service: EventService) -> Event:
        owner = await service.resolve_customer(customer)
        event = await service.create_event(
            data.model_copy(update={"customer_id": owner.id}), actor=actor()
        )
        for output in outputs:
            await service.add_output(event.id, output, actor=actor())
        return event

    event = run(ctx, work)
    if as_json:
        print_json(event)
    else:
        console.print(f"Created event [bold]{event.id}[/] ({event.status}).")
        _show(event, as_json, state(ctx).settings)


@app.command("list")
def list_events(
    ctx: typer.Context,
    status: Annotated[
        list[EventStatus] | None,
        typer.Option("--status", help="Only these statuses; repeat it.", case_sensitive=False),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's (name or id).")
    ] = None,
    starts_from: Annotated[
        str | None, typer.Option("--from", help="Starting at or after (ISO 8601).")
    ] = None,
    starts_before: Annotated[
        str | None, typer.Option("--to", help="Starting before (ISO 8601).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """List events by start time."""

    async def work(service: EventService) -> EventPage:
        customer_id = None
        if customer is not None:
            customer_id = (await service.resolve_customer(customer)).id
        query = validate(
            EventFilter,
            {
                "statuses": status or [],
                "customer_id": customer_id,
                "starts_from": starts_from,
                "starts_before": starts_before,
                "limit": limit,
                "offset": offset,
            },
        )
        events, total = await service.list_events(query)
        return EventPage(items=events, total=total, limit=limit, offset=offset)

    page = run(ctx, work)
    if as_json:
        print_json(page)
    else:
        console.print(events_table(page.items, page.total))


@app.command("show")
def show(ctx: typer.Context, event_id: EventId, as_json: JsonOption = False) -> None:
    """Show an event with its channels and limits."""
    config = run(ctx, lambda service: service.get_config(event_id))
    _show(config, as_json)


@app.command("history")
def history(ctx: typer.Context, event_id: EventId, as_json: JsonOption = False) -> None:
    """Show the event's history: status changes and edits, who, when, why or what."""
    changes = run(ctx, lambda service: service.history(event_id))
    if as_json:
        print_json([change.model_dump(mode="json") for change in changes])
    else:
        console.print(history_table(event_id, changes))


@app.command("update")
def update(
    ctx: typer.Context,
    event_id: EventId,
    name: Annotated[str | None, typer.Option("--name", "-n")] = None,
    starts_at: Annotated[str | None, typer.Option("--starts-at")] = None,
    ends_at: Annotated[str | None, typer.Option("--ends-at")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", "--tz")] = None,
    source: Annotated[str | None, typer.Option("--source", "-s")] = None,
    add_channel: Annotated[
        list[str] | None, typer.Option("--add-channel", help="As --channel of create; repeat it.")
    ] = None,
    remove_channel: Annotated[
        list[str] | None, typer.Option("--remove-channel", help="LANG or number; repeat it.")
    ] = None,
    max_listeners: Annotated[int | None, typer.Option("--max-listeners", min=1)] = None,
    public: Annotated[
        bool | None, typer.Option("--public/--private", help="Who may listen.")
    ] = None,
    version: Annotated[
        int | None,
        typer.Option("--version", help="Only if the event is still at this version.", min=1),
    ] = None,
    glossary: GlossaryOption = None,
    interpretation: InterpretationOption = None,
    broadcast: BroadcastOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an event; with --version, only if nobody changed it since you read it."""
    entries = guarded(lambda: read_glossary(glossary))
    changes: dict[str, Any] = {
        key: value
        for key, value in {
            "name": name,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "timezone": timezone,
            "source_language": source,
            "max_listeners": max_listeners,
            "public": public,
            "glossary": entries,
            "interpretation": interpretation,
            "broadcast": broadcast,
        }.items()
        if value is not None
    }

    async def work(service: EventService) -> Event:
        current = await service.get_event(event_id)
        if add_channel or remove_channel:
            changes["channels"] = _edit_channels(current, add_channel or [], remove_channel or [])
        if not changes:
            raise InvalidInput("nothing to change: give at least one option")
        patch = validate(EventPatch, changes)
        return await service.update_event(
            event_id, patch, expected_version=version or current.version, actor=actor()
        )

    _show(run(ctx, work), as_json, state(ctx).settings)


def _edit_channels(event: Event, add: list[str], remove: list[str]) -> list[dict[str, Any]]:
    kept = [c.model_dump() for c in event.channels]
    for key in remove:
        found = event.channel(channel_key(key))
        if found is None:
            raise NotFound(f"event {event.id} has no channel {key}")
        if found.kind is ChannelKind.FLOOR:
            raise InvalidInput("the floor channel carries the original audio and cannot be removed")
        kept = [c for c in kept if c["number"] != found.number]
    added = [validate(ChannelSpec, parse_channel(text)).model_dump() for text in add]
    return kept + added


def _transition_command(action: str, help_text: str) -> None:
    def command(
        ctx: typer.Context,
        event_id: EventId,
        reason: ReasonOption = None,
        as_json: JsonOption = False,
    ) -> None:
        event = run(
            ctx, lambda service: service.act(event_id, action, actor=actor(), reason=reason)
        )
        if as_json:
            print_json(event)
        else:
            console.print(f"Event [bold]{event.id}[/] is now {event.status}.")

    command.__doc__ = help_text
    app.command(action)(command)


_transition_command("schedule", "DRAFT -> SCHEDULED: the event is announced.")
_transition_command("ready", "SCHEDULED -> READY: channels and people are in place.")
_transition_command(
    "start",
    "SCHEDULED or READY -> LIVE: go live. Speakers rehearsing go on air, listeners hear"
    " them, recording begins (the servers running the event follow).",
)
_transition_command("end", "LIVE -> ENDED: the event is over.")
_transition_command("cancel", "Cancel an event that has not ended (listeners are told why).")


@app.command("duplicate")
def duplicate(
    ctx: typer.Context,
    event_id: EventId,
    name: Annotated[str | None, typer.Option("--name", "-n", help="The copy's name.")] = None,
    starts_at: Annotated[
        str | None, typer.Option("--starts-at", help="The copy's start (ISO 8601).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A new DRAFT like this event: its channels, glossary, limits and settings."""
    copy = guarded(
        lambda: validate(
            EventCopy, {k: v for k, v in {"name": name, "starts_at": starts_at}.items() if v}
        )
    )
    event = run(ctx, lambda service: service.duplicate_event(event_id, copy, actor=actor()))
    if as_json:
        print_json(event)
    else:
        console.print(f"Created event [bold]{event.id}[/] ({event.status}), a copy of {event_id}.")


@app.command("delete")
def delete(ctx: typer.Context, event_id: EventId) -> None:
    """Delete a DRAFT event (cancel anything later instead)."""
    run(ctx, lambda service: service.delete_event(event_id, actor=actor()))
    console.print(f"Deleted event {event_id}.")
