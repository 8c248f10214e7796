"""A route table that also describes itself: the routes and the OpenAPI come from one list."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from livevent.errors import BadRequest, NotFound
from livevent.http.params import shown
from livevent.http.problems import Handler
from livevent.model.ids import parse_id, parse_version
from livevent.model.validation import invalid

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    where: str  # "path", "query" or "header"
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    status: int = 200
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    parameters: tuple[Parameter, ...] = ()
    errors: tuple[int, ...] = ()
    response_headers: tuple[str, ...] = ()
    public: bool = False  # needs no bearer token (logins)
    media_type: str | None = None  # a file instead of JSON (audio/ogg), with Range support

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


@dataclass
class OperationTable:
    operations: list[Operation] = field(default_factory=list)

    def add(self, method: str, path: str, **info: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations.append(Operation(method=method, path=path, handler=handler, **info))
            return handler

        return register

    def routes(self) -> list[web.RouteDef]:
        return [web.route(op.method, op.path, op.handler) for op in self.operations]


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**53 - 1}


def id_parameter(name: str, description: str, *, where: str = "path") -> Parameter:
    """An id in the one spelling `parse_id` reads; a path's is required."""
    return Parameter(name, where, ID_SCHEMA, description, required=where == "path")


EVENT_ID = id_parameter("event_id", "the event's id")
_VERSION = {"type": "string", "pattern": r'^(W/)?"?[1-9][0-9]{0,8}"?$'}
IF_MATCH = Parameter("If-Match", "header", _VERSION, 'the version the change is for, e.g. "3"')
IF_MATCH_REQUIRED = Parameter(
    "If-Match", "header", _VERSION, 'the version the change is for, e.g. "3"', required=True
)


async def read_body(request: web.Request, model: type[ModelT]) -> ModelT:
    """The JSON body as `model`: 400 when it is not JSON, 422 when it does not fit."""
    raw = await request.read()
    if not raw:
        data: Any = {}
    else:
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadRequest(f"the body is not valid JSON: {error}") from None
        except RecursionError:
            raise BadRequest("the body is nested too deeply") from None
        except ValueError:
            # Python refuses integers of more than 4,300 digits (CVE-2020-10735).
            raise BadRequest("the body holds a number too long to read") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    check_text(data)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(error) from None


def check_text(value: Any) -> None:
    """Refuse strings no store keeps: NUL (PostgreSQL's text cannot) and lone surrogates.

    JSON's `\\u0000` and `\\ud800` escapes decode to them; both would fail
    deep inside a database driver or a password hash instead of here.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise BadRequest("text may not contain the NUL character")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise BadRequest("text holds an unpaired UTF-16 surrogate") from None


def path_int(request: web.Request, name: str) -> int:
    """A numeric path segment other than the event id (which `event_id_of` reads)."""
    raw = request.match_info[name]
    value = parse_id(raw)
    if value is None:
        raise NotFound(f"no {name.replace('_', ' ')} {shown(raw)}: it is a positive integer")
    return value


def if_match_version(request: web.Request) -> int | None:
    """The version in `If-Match: "3"` (also `W/"3"` or `3`); None when absent."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = parse_version(header.strip().removeprefix("W/").removeprefix('"').removesuffix('"'))
    if value is None:
        raise BadRequest(f'If-Match must hold an event version such as "3", not {shown(header)}')
    return value


def etag(version: int) -> str:
    return f'"{version}"'
