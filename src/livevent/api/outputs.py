"""/api/events/{id}/outputs: the event's channels pushed to streaming platforms (RTMP).

The addresses carry the platforms' stream keys: answers show them redacted (`target`).
Only the event service's own token (a live runtime that reaches the store over HTTP)
reads them whole, at /output-targets.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from livevent.auth.middleware import actor_of, claims_of
from livevent.auth.signing import SERVICE_SUBJECT
from livevent.errors import Forbidden
from livevent.http.appkeys import SERVICE
from livevent.http.operations import EVENT_ID, OperationTable, id_parameter, path_int, read_body
from livevent.http.params import event_id_of
from livevent.model.output import Output, OutputCreate, OutputTarget

table = OperationTable()
_OUTPUT_ID = id_parameter("output_id", "the output's id")


class OutputList(BaseModel):
    items: list[Output]


class OutputTargets(BaseModel):
    items: list[OutputTarget]


@table.add(
    "GET",
    "/api/events/{event_id}/outputs",
    summary="Where the event's channels are pushed (stream keys redacted)",
    tag="outputs",
    response=OutputList,
    parameters=(EVENT_ID,),
    errors=(404,),
)
async def list_outputs(request: web.Request) -> web.Response:
    items = await request.app[SERVICE].list_outputs(event_id_of(request))
    return web.json_response(text=OutputList(items=items).model_dump_json())


@table.add(
    "POST",
    "/api/events/{event_id}/outputs",
    summary="Push a channel to a streaming platform's RTMP ingest while the event is live",
    tag="outputs",
    status=201,
    body=OutputCreate,
    response=Output,
    parameters=(EVENT_ID,),
    errors=(400, 404, 409, 422),
)
async def add_output(request: web.Request) -> web.Response:
    data = await read_body(request, OutputCreate)
    event_id = event_id_of(request)
    output = await request.app[SERVICE].add_output(event_id, data, actor=actor_of(request))
    response = web.json_response(text=output.model_dump_json(), status=201)
    response.headers["Location"] = f"/api/events/{event_id}/outputs/{output.id}"
    return response


@table.add(
    "DELETE",
    "/api/events/{event_id}/outputs/{output_id}",
    summary="Stop pushing to this address",
    tag="outputs",
    status=204,
    parameters=(EVENT_ID, _OUTPUT_ID),
    errors=(404,),
)
async def remove_output(request: web.Request) -> web.Response:
    await request.app[SERVICE].remove_output(event_id_of(request), path_int(request, "output_id"))
    return web.Response(status=204)


@table.add(
    "GET",
    "/api/events/{event_id}/output-targets",
    summary="The outputs with their stream keys: for a live runtime (the service token) only",
    tag="outputs",
    response=OutputTargets,
    parameters=(EVENT_ID,),
    errors=(403, 404),
)
async def output_targets(request: web.Request) -> web.Response:
    if claims_of(request).sub != SERVICE_SUBJECT:
        raise Forbidden("only a live runtime's service token reads the outputs' stream keys")
    items = await request.app[SERVICE].output_targets(event_id_of(request))
    body = OutputTargets(items=items).model_dump(mode="json")
    for item, target in zip(body["items"], items, strict=True):
        item["url"] = target.url.get_secret_value()
    return web.json_response(body)
