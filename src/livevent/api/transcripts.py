"""/api/events/{id}/transcript: what was said, as JSON or as a file per language."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from livevent.errors import BadRequest, InvalidInput
from livevent.events.exports import FORMATS, export, export_filename, export_language
from livevent.http.appkeys import SERVICE
from livevent.http.downloads import attachment
from livevent.http.operations import EVENT_ID, OperationTable, Parameter, read_body
from livevent.http.params import event_id_of, shown
from livevent.model import TranscriptSegment

table = OperationTable()

_MEDIA_TYPES = {
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "txt": "text/plain",
    "json": "application/json",
}
_TRANSCRIPT_PARAMETERS = (
    Parameter("format", "query", {"type": "string", "enum": list(FORMATS)}, "a file to download"),
    Parameter(
        "language", "query", {"type": "string", "maxLength": 35}, "one language (with format)"
    ),
)


class Transcript(BaseModel):
    items: list[TranscriptSegment]


def _json(model: BaseModel, *, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status)


@table.add(
    "GET",
    "/api/events/{event_id}/transcript",
    summary="The event's transcript, in order; with ?format= a file (SRT, VTT, text, JSON)",
    tag="transcripts",
    response=Transcript,
    parameters=(EVENT_ID, *_TRANSCRIPT_PARAMETERS),
    errors=(400, 404, 422),
)
async def get_transcript(request: web.Request) -> web.Response:
    event_id = event_id_of(request)
    segments = await request.app[SERVICE].transcript(event_id)
    fmt = request.query.get("format")
    if fmt is None:
        return _json(Transcript(items=segments))
    if fmt not in FORMATS:
        raise BadRequest(f"format is one of {', '.join(FORMATS)}, not {shown(fmt)}")
    language = export_language(request.query.get("language"))
    text = export(segments, fmt, language)
    return web.Response(
        text=text,
        content_type=_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": attachment(export_filename(event_id, fmt, language))},
    )


@table.add(
    "POST",
    "/api/events/{event_id}/transcript",
    summary="Add a final segment (the runtime does)",
    tag="transcripts",
    status=201,
    body=TranscriptSegment,
    response=TranscriptSegment,
    parameters=(EVENT_ID,),
    errors=(400, 404, 422),
)
async def add_transcript_segment(request: web.Request) -> web.Response:
    event_id = event_id_of(request)
    segment = await read_body(request, TranscriptSegment)
    if segment.event_id != event_id:
        raise InvalidInput(f"the segment names event {segment.event_id}, not {event_id}")
    await request.app[SERVICE].get_event(event_id)
    await request.app[SERVICE].add_transcript_segment(segment)
    return _json(segment, status=201)
