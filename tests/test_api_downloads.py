"""Downloads name their files one way: a language that is no tag never reaches a header."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from livevent.http.downloads import attachment

Client = TestClient[web.Request, web.Application]
EVENT = {"name": "x", "starts_at": "2026-12-01T10:00:00Z", "source_language": "en-US"}


@pytest.fixture
async def event_id(api: Client) -> int:
    created: dict[str, Any] = await (await api.post("/api/events", json=EVENT)).json()
    return int(created["id"])


@pytest.mark.parametrize(
    "language",
    [
        "es\"; filename*=UTF-8''evil.html",
        "es\r\nSet-Cookie: stolen=1",
        "es\nX: y",
        "es;x=y",
        "../../etc/passwd",
    ],
)
async def test_a_hostile_language_is_a_problem_not_a_header(
    api: Client, event_id: int, language: str
) -> None:
    # The event has no transcript: the old code took the language unchecked here.
    path = f"/api/events/{event_id}/transcript?format=srt&language={quote(language)}"
    response = await api.get(path)
    assert response.status == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "Content-Disposition" not in response.headers
    assert "language" in (await response.json())["fields"]


async def test_a_tag_in_any_spelling_names_the_file_in_its_canonical_form(
    api: Client, event_id: int
) -> None:
    response = await api.get(f"/api/events/{event_id}/transcript?format=vtt&language=ca_es")
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="event-{event_id}-ca-ES.vtt"'
    )


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("123457-es-ES-1.ogg", 'attachment; filename="123457-es-ES-1.ogg"'),
        (
            'a"b;c\r\nd é.srt',
            'attachment; filename="a_b_c__d__.srt";'
            " filename*=UTF-8''a%22b%3Bc%0D%0Ad%20%C3%A9.srt",
        ),
    ],
)
def test_the_header_is_built_by_rfc_6266_whatever_the_name(name: str, header: str) -> None:
    assert attachment(name) == header
