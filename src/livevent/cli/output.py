"""`livevent output add|list|remove`: an event's channels pushed to streaming platforms
(RTMP ingests), and `--push LANG=URL`, which `livevent event create` takes too.

Stream keys are secrets: what is listed shows the address without its key.
"""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import SecretStr

from livevent.cli._utilities import EventId, actor, console, guarded, print_json, run
from livevent.errors import InvalidInput
from livevent.events.service import EventService
from livevent.model.output import Output, OutputCreate
from livevent.model.validation import validate

app = typer.Typer(help="Push channels to streaming platforms (RTMP).", no_args_is_help=True)

PushOption = Annotated[
    list[str] | None,
    typer.Option(
        "--push",
        help="LANG=rtmp://HOST[:PORT]/APP/STREAM-KEY: push that channel to a platform's"
        " ingest while the event is live; repeat it.",
    ),
]
BroadcastOption = Annotated[
    bool | None,
    typer.Option(
        "--broadcast/--no-broadcast",
        help="Its channels also go out as HLS for audiences of any size (on by default,"
        " where the server broadcasts).",
    ),
]


def parse_push(text: str) -> OutputCreate:
    """`es-ES=rtmp://host/app/key` as an output to add."""
    channel, sep, url = text.partition("=")
    if not sep or not channel.strip() or not url.strip():
        raise InvalidInput("--push is LANG=rtmp://HOST[:PORT]/APPLICATION/STREAM-KEY")
    return validate(OutputCreate, {"channel": channel.strip(), "url": SecretStr(url.strip())})


def show(outputs: list[Output]) -> None:
    if not outputs:
        console.print("No outputs: nothing is pushed to a platform.")
    for output in outputs:
        console.print(f"  {output.id}  {output.channel} -> {output.target}", highlight=False)


@app.command("add")
def add(
    ctx: typer.Context,
    event_id: EventId,
    push: Annotated[list[str], typer.Argument(help="LANG=rtmp://HOST[:PORT]/APP/KEY ...")],
) -> None:
    """Push channels of an event to platforms' ingests (from now on, while it is live)."""
    wanted = guarded(lambda: [parse_push(text) for text in push])

    async def work(service: EventService) -> list[Output]:
        return [await service.add_output(event_id, o, actor=actor()) for o in wanted]

    show(run(ctx, work))


@app.command("list")
def list_outputs(
    ctx: typer.Context,
    event_id: EventId,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Where the event's channels are pushed (stream keys not shown)."""

    async def work(service: EventService) -> list[Output]:
        return await service.list_outputs(event_id)

    outputs = run(ctx, work)
    if as_json:
        print_json([output.model_dump(mode="json") for output in outputs])
    else:
        show(outputs)


@app.command("remove")
def remove(
    ctx: typer.Context,
    event_id: EventId,
    output_id: Annotated[int, typer.Argument(help="The output's id (livevent output list).")],
) -> None:
    """Stop pushing to one address."""

    async def work(service: EventService) -> Output:
        return await service.remove_output(event_id, output_id)

    removed = run(ctx, work)
    console.print(f"Stopped pushing {removed.channel} to {removed.target}.", highlight=False)
