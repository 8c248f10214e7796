"""The OpenAPI 3.1 document, built from the same operation tables that route requests."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from livevent.__about__ import __version__
from livevent.http.operations import Operation
from livevent.http.problems import PROBLEM_JSON


class Problem(BaseModel):
    """An error, as RFC 9457 describes it; extra members give details."""

    type: str = Field(description="urn:livevent:problem:<code>")
    title: str
    status: int
    detail: str


def build_openapi(operations: list[Operation]) -> dict[str, Any]:
    models: set[type[BaseModel]] = {Problem}
    for op in operations:
        models.update(m for m in (op.body, op.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, schemas = models_json_schema(
        [
            (model, "validation" if _is_body(model, operations) else "serialization")
            for model in ordered
        ],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "livevent event service",
            "version": __version__,
            "description": "Events, channels and customers: the source of truth of livevent.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
    }


def _is_body(model: type[BaseModel], operations: list[Operation]) -> bool:
    return any(op.body is model for op in operations)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(op: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
    }
    if op.parameters:
        spec["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required,
                "description": p.description,
                "schema": p.schema,
                **({"style": "form", "explode": True} if p.schema.get("type") == "array" else {}),
            }
            for p in op.parameters
        ]
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    success: dict[str, Any] = {"description": HTTPStatus(op.status).phrase}
    if op.response is not None:
        success["content"] = {"application/json": {"schema": _ref(op.response)}}
    if op.media_type is not None:
        success["content"] = {op.media_type: {"schema": {"type": "string", "format": "binary"}}}
    if op.response_headers:
        success["headers"] = {h: {"schema": {"type": "string"}} for h in op.response_headers}
    responses: dict[str, Any] = {str(op.status): success}
    if op.media_type is not None:
        responses["206"] = {**success, "description": HTTPStatus(206).phrase}
    for status in sorted({*op.errors, 401, 403, 429, 500, 503}):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": _ref(Problem)}},
        }
    spec["responses"] = responses
    if op.public:
        spec["security"] = []
    return spec
