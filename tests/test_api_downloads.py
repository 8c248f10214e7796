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


def segment(event_id: int, **changes: Any) -> dict[str, Any]:
    body = {
        "event_id": event_id,
        "sequence": 1,
        "language": "en-US",
        "text": "Good morning.",
        "translations": {"es-ES": "Buenos días."},
        "start_seconds": 1.0,
        "end_seconds": 2.0,
        "spoken_at": "2026-12-01T10:00:01Z",
    }
    return {**body, **changes}


@pytest.mark.parametrize(
    "span",
    [[1e308, 1e308], [-5.0, 1.0], [3.0, 2.0], [0.0, 1e8], ["nan", 1.0]],
)
async def test_a_segments_spans_stay_on_the_recordings_clock(
    api: Client, event_id: int, span: list[Any]
) -> None:
    """Issue 35: [1e308, 1e308] made that language's SRT and VTT a 500 for good."""
    path = f"/api/events/{event_id}/transcript"
    refused = await api.post(path, json=segment(event_id, timings={"es-ES": span}))
    assert refused.status == 422, await refused.text()
    kept = await api.post(path, json=segment(event_id, timings={"es-ES": [1.5, 2.5]}))
    assert kept.status in (200, 201, 204), await kept.text()
    for form in ("srt", "vtt"):
        export = await api.get(f"{path}?format={form}&language=es-ES")
        assert export.status == 200
        assert "00:00:01" in await export.text()


async def test_a_span_stored_before_the_bounds_still_exports(
    api: Client, event_id: int, service: Any
) -> None:
    path = f"/api/events/{event_id}/transcript"
    assert (await api.post(path, json=segment(event_id))).status in (200, 201, 204)
    async with service.store.database.write() as connection:
        await connection.execute(
            "UPDATE transcript_segments SET timings = $1 WHERE event_id = $2",
            '{"es-ES": [1e308, 1e308], "fr-FR": [4.0, -2.0]}',
            event_id,
        )
    export = await api.get(f"{path}?format=srt&language=es-ES")
    assert export.status == 200, await export.text()
    assert "-->" in await export.text()
