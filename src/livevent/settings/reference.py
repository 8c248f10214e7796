"""The settings reference (docs/settings.md), written from the code so the two agree.

`python -m livevent.settings.reference > docs/settings.md` makes it again; a test fails
when the page and the code differ.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from livevent.settings.groups import (
    AuthSettings,
    BusSettings,
    DeploymentSettings,
    LimitSettings,
    SpeechSettings,
    StoreSettings,
)

GROUPS: list[tuple[str, type[BaseModel]]] = [
    ("Deployment", DeploymentSettings),
    ("Store", StoreSettings),
    ("Bus", BusSettings),
    ("Auth", AuthSettings),
    ("Speech", SpeechSettings),
    ("Limits", LimitSettings),
]


def _default(field: FieldInfo) -> str:
    if field.default_factory in (list, dict):
        return "`[]`" if field.default_factory is list else "`{}`"
    if field.default_factory is not None:
        return "(in the user's data folder)"
    value: Any = field.default
    if value is PydanticUndefined:
        return "(required)"
    if isinstance(value, SecretStr):
        return "(a built-in example: change it)"
    if value is None:
        return "unset"
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference() -> str:
    lines = [
        "# Settings",
        "",
        "Every setting is a top-level key of `livevent.toml` and a `LIVEVENT_` variable"
        " (`database_url` is `LIVEVENT_DATABASE_URL`); a variable wins over the file.",
        "Made from the code by `python -m livevent.settings.reference`: do not edit by hand.",
    ]
    for title, group in GROUPS:
        lines += ["", f"## {title}", "", (group.__doc__ or "").strip(), ""]
        lines += ["| setting | variable | default | what |", "| --- | --- | --- | --- |"]
        for name, field in group.model_fields.items():
            variable = f"LIVEVENT_{name.upper()}"
            what = _cell(field.description or "")
            lines.append(f"| `{name}` | `{variable}` | {_cell(_default(field))} | {what} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
