"""Turn pydantic's validation errors into one readable line."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from livevent.errors import InvalidInput

ModelT = TypeVar("ModelT", bound=BaseModel)


def describe(error: ValidationError | ValueError) -> str:
    """`starts_at: input should be a valid datetime; name: field required`."""
    if not isinstance(error, ValidationError):
        return str(error)
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"])
        # pydantic prefixes errors raised in our own validators with this.
        message = message.removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def invalid(error: ValidationError | ValueError) -> InvalidInput:
    errors: list[Any] = (
        error.errors(include_url=False) if isinstance(error, ValidationError) else []
    )
    fields = sorted({".".join(str(p) for p in e["loc"]) for e in errors if e["loc"]})
    return InvalidInput(describe(error), fields=fields)


def validate(model: type[ModelT], data: Any) -> ModelT:
    """`model.model_validate(data)`, raising InvalidInput with one readable line."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise invalid(error) from None
