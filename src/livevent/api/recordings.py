"""/api/events/{id}/recordings: what was recorded of each channel, and the files.

Recordings are written by the instance that owns a live event, into
`recordings_dir`; the API lists and serves what that folder holds (share it
between hosts when instances run on several). A file is served with Range
support, so a player can seek and a download can resume.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import av
from aiohttp import web
from pydantic import BaseModel, Field

from livevent.errors import NotFound
from livevent.events.recordings import PART_NAME, Part, list_parts
from livevent.http.appkeys import SERVICE, SETTINGS
from livevent.http.downloads import attachment
from livevent.http.operations import EVENT_ID, OperationTable, Parameter
from livevent.http.params import event_id_of
from livevent.model.language import normalize_language

table = OperationTable()


class RecordingPart(BaseModel):
    channel: str = Field(description="the channel's language")
    part: str = Field(description="the file's name: when it began, and the instance")
    started_at: datetime
    instance: str
    bytes: int
    seconds: float | None = Field(description="duration of what is on disk")
    url: str


class RecordingList(BaseModel):
    items: list[RecordingPart]


CHANNEL = Parameter(
    "channel", "path", {"type": "string", "maxLength": 35}, "the channel's language", required=True
)
PART = Parameter(
    "part", "path", {"type": "string", "pattern": PART_NAME.pattern}, "a part's name", required=True
)


def _seconds(part: Part) -> float | None:
    try:
        with av.open(str(part.path)) as container:
            return round(container.duration / 1_000_000, 3) if container.duration else None
    except (OSError, av.FFmpegError):
        return None


async def _parts(request: web.Request) -> list[Part]:
    event_id = event_id_of(request)
    await request.app[SERVICE].get_event(event_id)  # 404 for an event that does not exist
    folder = request.app[SETTINGS].recordings_dir
    return await asyncio.to_thread(list_parts, folder, event_id)


@table.add(
    "GET",
    "/api/events/{event_id}/recordings",
    summary="The recorded parts of every channel, in order",
    tag="recordings",
    response=RecordingList,
    parameters=(EVENT_ID,),
    errors=(404,),
)
async def list_recordings(request: web.Request) -> web.Response:
    items = []
    for part in await _parts(request):
        seconds = await asyncio.to_thread(_seconds, part)
        url = f"/api/events/{part.event_id}/recordings/{part.language}/{part.name}"
        items.append(
            RecordingPart(
                channel=part.language,
                part=part.name,
                started_at=part.started_at,
                instance=part.instance,
                bytes=part.size,
                seconds=seconds,
                url=url,
            )
        )
    return web.json_response(text=RecordingList(items=items).model_dump_json())


@table.add(
    "GET",
    "/api/events/{event_id}/recordings/{channel}/{part}",
    summary="One recorded part, as Ogg Opus (Range requests work)",
    tag="recordings",
    media_type="audio/ogg",
    parameters=(EVENT_ID, CHANNEL, PART),
    errors=(404, 416),
)
async def download_recording(request: web.Request) -> web.StreamResponse:
    try:
        language = normalize_language(request.match_info["channel"])
    except ValueError:
        raise NotFound("no such channel") from None
    name = request.match_info["part"]
    # Only a name found on disk is served: nothing from the URL reaches a path.
    for part in await _parts(request):
        if part.language == language and part.name == name:
            return web.FileResponse(
                part.path,
                headers={
                    "Content-Type": "audio/ogg",
                    "Content-Disposition": attachment(f"{part.event_id}-{name}"),
                },
            )
    raise NotFound(f"no recorded part {name!r} of channel {language}")
