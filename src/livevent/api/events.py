"""/api/events: list, create, read, patch, delete, transitions, channels, history."""

from __future__ import annotations

import contextlib
import re

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from livevent.auth.middleware import actor_of, delegate_of, own_customer
from livevent.errors import BadRequest, Forbidden, InvalidInput, NotFound, PreconditionRequired
from livevent.http.appkeys import SERVICE
from livevent.http.operations import (
    EVENT_ID,
    IF_MATCH,
    IF_MATCH_REQUIRED,
    OperationTable,
    Parameter,
    etag,
    id_parameter,
    if_match_version,
    path_int,
    read_body,
)
from livevent.http.params import event_id_of
from livevent.model import (
    Channel,
    ChannelKind,
    ChannelSpec,
    Event,
    EventConfig,
    EventCopy,
    EventCreate,
    EventFilter,
    EventPage,
    EventPatch,
    EventStatus,
    StatusChange,
)
from livevent.model.validation import describe

table = OperationTable()


class TransitionRequest(BaseModel):
    reason: str | None = Field(None, max_length=500, description="why, for the audit trail")


class ChannelList(BaseModel):
    items: list[Channel]


class StatusChangeList(BaseModel):
    items: list[StatusChange]
    names: dict[str, str] = Field(
        default_factory=dict, description="the people behind the actors (`manager:user:12`)"
    )


_USER_ACTOR = re.compile(r"^[a-z]+:user:([0-9]{1,15})$")


async def _people_named(request: web.Request, changes: list[StatusChange]) -> dict[str, str]:
    """Each actor that is a person, by name: the history reads "Ana Puig", not user:12."""
    users = request.app[SERVICE].store.users
    names: dict[str, str] = {}
    for actor in {change.actor for change in changes}:
        found = _USER_ACTOR.match(actor)
        if found is not None:
            with contextlib.suppress(NotFound):
                names[actor] = (await users.get(int(found[1]))).name
    return names


def _json(model: BaseModel, *, status: int = 200, version: int | None = None) -> web.Response:
    response = web.json_response(text=model.model_dump_json(), status=status)
    if version is not None:
        response.headers["ETag"] = etag(version)
    return response


def _filter(request: web.Request) -> EventFilter:
    query = request.query
    statuses: list[str] = []
    for value in query.getall("status", []):
        statuses.extend(part for part in value.split(",") if part)
    raw = {
        "statuses": [s.upper() for s in statuses],
        "customer_id": query.get("customer"),
        "starts_from": query.get("from"),
        "starts_before": query.get("to"),
        "limit": query.get("limit", 50),
        "offset": query.get("offset", 0),
    }
    try:
        return EventFilter.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as error:
        raise BadRequest(f"bad query: {describe(error)}") from None


_LIST_PARAMETERS = (
    Parameter(
        "status",
        "query",
        {"type": "array", "items": {"type": "string", "enum": [s.value for s in EventStatus]}},
        "only events in these statuses (repeat it or separate with commas)",
    ),
    id_parameter("customer", "only this customer's events", where="query"),
    Parameter("from", "query", {"type": "string", "format": "date-time"}, "starting at or after"),
    Parameter("to", "query", {"type": "string", "format": "date-time"}, "starting before"),
    Parameter(
        "limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "page size (50)"
    ),
    Parameter(
        "offset",
        "query",
        {"type": "integer", "minimum": 0, "maximum": 1_000_000_000},
        "events to skip",
    ),
)


@table.add(
    "GET",
    "/api/events",
    summary="List events, filtered and paginated",
    tag="events",
    response=EventPage,
    parameters=_LIST_PARAMETERS,
    errors=(400,),
)
async def list_events(request: web.Request) -> web.Response:
    query = _filter(request)
    query = query.model_copy(update={"customer_id": own_customer(request, query.customer_id)})
    events, total = await request.app[SERVICE].list_events(query)
    return _json(EventPage(items=events, total=total, limit=query.limit, offset=query.offset))


@table.add(
    "POST",
    "/api/events",
    summary="Create an event (DRAFT)",
    tag="events",
    status=201,
    body=EventCreate,
    response=Event,
    errors=(400, 404, 409, 422),
    response_headers=("ETag",),
)
async def create_event(request: web.Request) -> web.Response:
    data = await read_body(request, EventCreate)
    data = data.model_copy(update={"customer_id": own_customer(request, data.customer_id)})
    event = await request.app[SERVICE].create_event(data, actor=actor_of(request))
    response = _json(event, status=201, version=event.version)
    response.headers["Location"] = f"/api/events/{event.id}"
    return response


@table.add(
    "POST",
    "/api/events/{event_id}/duplicate",
    summary="A new DRAFT like this event: channels, glossary, limits (start moved if given)",
    tag="events",
    status=201,
    body=EventCopy,
    response=Event,
    parameters=(EVENT_ID,),
    errors=(400, 403, 404, 409, 422),
    response_headers=("ETag",),
)
async def duplicate_event(request: web.Request) -> web.Response:
    copy = await read_body(request, EventCopy)
    service = request.app[SERVICE]
    original = await service.get_event(event_id_of(request))
    if delegate_of(request, original.customer_id) is not None:
        # A copy is a new event: the right to run one event is not the right to make more.
        raise Forbidden("duplicating creates an event: only the customer's managers may")
    event = await service.duplicate_event(original.id, copy, actor=actor_of(request))
    response = _json(event, status=201, version=event.version)
    response.headers["Location"] = f"/api/events/{event.id}"
    return response


@table.add(
    "GET",
    "/api/events/{event_id}",
    summary="An event with its languages and limits",
    tag="events",
    response=EventConfig,
    parameters=(EVENT_ID,),
    errors=(404,),
    response_headers=("ETag",),
)
async def get_event(request: web.Request) -> web.Response:
    config = await request.app[SERVICE].get_config(event_id_of(request))
    return _json(config, version=config.version)


@table.add(
    "PATCH",
    "/api/events/{event_id}",
    summary="Change an event at a known version",
    tag="events",
    body=EventPatch,
    response=Event,
    parameters=(EVENT_ID, IF_MATCH_REQUIRED),
    errors=(400, 404, 409, 422, 428),
    response_headers=("ETag",),
)
async def patch_event(request: web.Request) -> web.Response:
    event_id = event_id_of(request)
    version = if_match_version(request)
    patch = await read_body(request, EventPatch)
    if version is None:
        raise PreconditionRequired(
            'send If-Match with the version you read (e.g. If-Match: "3"); '
            "updates without it could overwrite someone else's change"
        )
    event = await request.app[SERVICE].update_event(
        event_id, patch, expected_version=version, actor=actor_of(request)
    )
    return _json(event, version=event.version)


@table.add(
    "DELETE",
    "/api/events/{event_id}",
    summary="Delete a DRAFT event",
    tag="events",
    status=204,
    parameters=(EVENT_ID,),
    errors=(404, 409),
)
async def delete_event(request: web.Request) -> web.Response:
    await request.app[SERVICE].delete_event(event_id_of(request), actor=actor_of(request))
    return web.Response(status=204)


def _transition(action: str, summary: str) -> None:
    async def handler(request: web.Request) -> web.Response:
        event_id = event_id_of(request)
        version = if_match_version(request)
        body = await read_body(request, TransitionRequest)
        event = await request.app[SERVICE].act(
            event_id, action, actor=actor_of(request), reason=body.reason, expected_version=version
        )
        return _json(event, version=event.version)

    handler.__name__ = f"{action}_event"
    table.add(
        "POST",
        f"/api/events/{{event_id}}/{action}",
        summary=summary,
        tag="transitions",
        body=TransitionRequest,
        response=Event,
        parameters=(EVENT_ID, IF_MATCH),
        errors=(400, 404, 409, 422),
        response_headers=("ETag",),
    )(handler)


_transition("schedule", "DRAFT -> SCHEDULED")
_transition("ready", "SCHEDULED -> READY")
_transition("start", "SCHEDULED or READY -> LIVE (what the live runtime does)")
_transition("end", "LIVE -> ENDED")
_transition("cancel", "Cancel an event that has not ended")


@table.add(
    "GET",
    "/api/events/{event_id}/history",
    summary="The event's status changes, oldest first",
    tag="events",
    response=StatusChangeList,
    parameters=(EVENT_ID,),
    errors=(404,),
)
async def event_history(request: web.Request) -> web.Response:
    changes = await request.app[SERVICE].history(event_id_of(request))
    return _json(StatusChangeList(items=changes, names=await _people_named(request, changes)))


@table.add(
    "GET",
    "/api/events/{event_id}/channels",
    summary="The event's channels",
    tag="channels",
    response=ChannelList,
    parameters=(EVENT_ID,),
    errors=(404,),
)
async def list_channels(request: web.Request) -> web.Response:
    event = await request.app[SERVICE].get_event(event_id_of(request))
    return _json(ChannelList(items=event.channels), version=event.version)


@table.add(
    "POST",
    "/api/events/{event_id}/channels",
    summary="Add a channel",
    tag="channels",
    status=201,
    body=ChannelSpec,
    response=Event,
    parameters=(EVENT_ID, IF_MATCH),
    errors=(400, 404, 409, 422),
    response_headers=("ETag",),
)
async def add_channel(request: web.Request) -> web.Response:
    event_id = event_id_of(request)
    version = if_match_version(request)
    spec = await read_body(request, ChannelSpec)
    service = request.app[SERVICE]
    current = await service.get_event(event_id)
    patch = EventPatch(channels=[*current.channels, spec])
    event = await service.update_event(
        event_id,
        patch,
        expected_version=current.version if version is None else version,
        actor=actor_of(request),
    )
    return _json(event, status=201, version=event.version)


@table.add(
    "DELETE",
    "/api/events/{event_id}/channels/{number}",
    summary="Remove a channel",
    tag="channels",
    response=Event,
    parameters=(
        EVENT_ID,
        Parameter(
            "number",
            "path",
            {"type": "integer", "minimum": 1, "maximum": 99},
            "channel",
            required=True,
        ),
        IF_MATCH,
    ),
    errors=(400, 404, 409, 422),
    response_headers=("ETag",),
)
async def remove_channel(request: web.Request) -> web.Response:
    event_id = event_id_of(request)
    number = path_int(request, "number")
    version = if_match_version(request)
    service = request.app[SERVICE]
    current = await service.get_event(event_id)
    channel = current.channel(number)
    if channel is None:
        raise NotFound(f"event {event_id} has no channel {number}")
    if channel.kind is ChannelKind.FLOOR:
        raise InvalidInput("the floor channel carries the original audio and cannot be removed")
    patch = EventPatch(channels=[c for c in current.channels if c.number != number])
    event = await service.update_event(
        event_id,
        patch,
        expected_version=current.version if version is None else version,
        actor=actor_of(request),
    )
    return _json(event, version=event.version)
