"""The event API over a real socket, on both store backends."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from livevent.api.app import operations
from livevent.bus import MemoryBus
from livevent.bus.keys import EVENTS_CHANNEL

Client = TestClient[web.Request, web.Application]

EVENT = {
    "name": "Annual meeting",
    "starts_at": "2026-12-01T10:00:00+01:00",
    "timezone": "Europe/Madrid",
    "source_language": "ca-ES",
    "channels": [{"language": "en-US", "kind": "machine"}, {"language": "es-ES", "kind": "human"}],
}


async def create(api: Client, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/api/events", json={**EVENT, **overrides})
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    assert response.headers["Location"] == f"/api/events/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    return body


async def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json()
    assert body["status"] == status and body["detail"]
    return body


async def test_create_read_and_config(api: Client) -> None:
    event = await create(api, id=123457, max_listeners=300)
    assert event["status"] == "DRAFT"
    assert [c["language"] for c in event["channels"]] == ["ca-ES", "en-US", "es-ES"]
    response = await api.get("/api/events/123457")
    assert response.status == 200
    assert response.headers["ETag"] == '"1"'
    config = await response.json()
    assert config["languages"] == ["ca-ES", "en-US", "es-ES"]
    assert config["limits"] == {"max_listeners": 300, "max_live_events": 5}
    assert config["starts_at"] == "2026-12-01T09:00:00Z"


async def test_list_filters_and_paginates(api: Client) -> None:
    first = await create(api, starts_at="2026-12-01T10:00:00+00:00")
    second = await create(api, starts_at="2026-12-02T10:00:00+00:00")
    third = await create(api, starts_at="2026-12-03T10:00:00+00:00")
    await api.post(f"/api/events/{second['id']}/schedule")

    page = await (await api.get("/api/events", params={"limit": "2"})).json()
    assert [e["id"] for e in page["items"]] == [first["id"], second["id"]]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)

    page = await (await api.get("/api/events?limit=2&offset=2")).json()
    assert [e["id"] for e in page["items"]] == [third["id"]]

    page = await (await api.get("/api/events?status=scheduled")).json()
    assert [e["id"] for e in page["items"]] == [second["id"]]

    page = await (
        await api.get(
            "/api/events",
            params={"from": "2026-12-02T00:00:00Z", "to": "2026-12-03T00:00:00Z"},
        )
    ).json()
    assert [e["id"] for e in page["items"]] == [second["id"]]

    await problem(await api.get("/api/events?limit=0"), 400)
    await problem(await api.get("/api/events?status=SLEEPING"), 400)
    await problem(await api.get("/api/events?from=yesterday"), 400)
    # Numbers past what the databases hold are bad input, not a server error.
    await problem(await api.get("/api/events?offset=99999999999999999999"), 400)
    await problem(await api.get("/api/events?customer=99999999999999999999"), 400)


async def test_transitions_and_history(api: Client, bus: MemoryBus) -> None:
    event = await create(api)
    url = f"/api/events/{event['id']}"
    subscription = await bus.subscribe(EVENTS_CHANNEL)
    for action, status in (("schedule", "SCHEDULED"), ("ready", "READY")):
        response = await api.post(f"{url}/{action}", json={"reason": "on track"})
        assert response.status == 200
        assert (await response.json())["status"] == status
    body = await problem(await api.post(f"{url}/schedule"), 409)
    assert body["current_status"] == "READY" and body["target_status"] == "SCHEDULED"
    assert "READY" in body["detail"] and "SCHEDULED" in body["detail"]

    cancelled = await api.post(f"{url}/cancel", json={"reason": "speaker ill"})
    assert (await cancelled.json())["status"] == "CANCELLED"

    history = await (await api.get(f"{url}/history")).json()
    assert [(h["from_status"], h["to_status"]) for h in history["items"]] == [
        (None, "DRAFT"),
        ("DRAFT", "SCHEDULED"),
        ("SCHEDULED", "READY"),
        ("READY", "CANCELLED"),
    ]
    assert history["items"][-1]["reason"] == "speaker ill"

    received = [(await subscription.get()).data for _ in range(3)]
    assert received == [
        f"event:{event['id']}:SCHEDULED",
        f"event:{event['id']}:READY",
        f"event:{event['id']}:CANCELLED",
    ]


async def test_patch_needs_matching_version(api: Client) -> None:
    event = await create(api)
    url = f"/api/events/{event['id']}"
    await problem(await api.patch(url, json={"name": "No version"}), 428)
    response = await api.patch(url, json={"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert response.status == 200 and response.headers["ETag"] == '"2"'
    assert (await response.json())["name"] == "Renamed"
    body = await problem(
        await api.patch(url, json={"name": "Stale"}, headers={"If-Match": '"1"'}), 409
    )
    assert body["current_version"] == 2
    await problem(await api.patch(url, json={"name": "x"}, headers={"If-Match": "abc"}), 400)
    assert (await (await api.get(url)).json())["name"] == "Renamed"


async def test_channels_endpoints(api: Client) -> None:
    event = await create(api)
    url = f"/api/events/{event['id']}/channels"
    added = await api.post(url, json={"language": "fr-FR", "kind": "machine"})
    assert added.status == 201
    assert [c["number"] for c in (await added.json())["channels"]] == [1, 2, 3, 4]
    await problem(await api.post(url, json={"language": "fr-FR"}), 422)
    removed = await api.delete(f"{url}/3")
    assert [c["language"] for c in (await removed.json())["channels"]] == [
        "ca-ES",
        "en-US",
        "fr-FR",
    ]
    await problem(await api.delete(f"{url}/1"), 422)
    await problem(await api.delete(f"{url}/9"), 404)
    listed = await (await api.get(url)).json()
    assert [c["number"] for c in listed["items"]] == [1, 2, 4]


async def test_bad_input_is_a_problem_and_stores_nothing(api: Client) -> None:
    await problem(
        await api.post(
            "/api/events", data=b"{not json", headers={"Content-Type": "application/json"}
        ),
        400,
    )
    await problem(await api.post("/api/events", json=[1, 2]), 400)
    body = await problem(
        await api.post("/api/events", json={**EVENT, "source_language": "xx"}), 422
    )
    assert "source_language" in body["detail"] and body["fields"] == ["source_language"]
    await problem(
        await api.post("/api/events", json={**EVENT, "ends_at": "2026-12-01T08:00:00+01:00"}),
        422,
    )
    await problem(await api.post("/api/events", json={**EVENT, "colour": "blue"}), 422)
    await problem(await api.post("/api/events", json={**EVENT, "customer_id": 999}), 404)
    await problem(await api.post("/api/events", json={**EVENT, "customer_id": 10**20}), 422)
    await problem(await api.post("/api/events", data=b"x" * 300_000), 413)
    assert (await (await api.get("/api/events")).json())["total"] == 0


async def test_unknown_things_are_problems(api: Client) -> None:
    await problem(await api.get("/api/events/999"), 404)
    await problem(await api.get("/api/events/abc"), 404)
    await problem(await api.get("/api/nowhere"), 404)
    response = await api.put("/api/events")
    await problem(response, 405)
    assert "GET" in response.headers["Allow"]


async def test_delete_draft_only(api: Client) -> None:
    event = await create(api)
    assert (await api.delete(f"/api/events/{event['id']}")).status == 204
    await problem(await api.get(f"/api/events/{event['id']}"), 404)
    other = await create(api)
    await api.post(f"/api/events/{other['id']}/schedule")
    await problem(await api.delete(f"/api/events/{other['id']}"), 409)


async def test_customers(api: Client) -> None:
    response = await api.post("/api/customers", json={"name": "Acme", "max_live_events": 2})
    assert response.status == 201
    acme = await response.json()
    await problem(await api.post("/api/customers", json={"name": "Acme"}), 409)
    await problem(await api.post("/api/customers", json={"name": ""}), 422)
    assert (await (await api.get(f"/api/customers/{acme['id']}")).json())["name"] == "Acme"
    listed = await (await api.get("/api/customers")).json()
    assert "Acme" in [c["name"] for c in listed["items"]]
    event = await create(api, customer_id=acme["id"])
    assert event["customer_id"] == acme["id"]


async def test_concurrent_patches_lose_nothing(api: Client) -> None:
    """50 clients read-modify-write a counter: every answer 200 or 409, no update lost."""
    event = await create(api, max_listeners=1)
    url = f"/api/events/{event['id']}"

    async def increment() -> int:
        current = await (await api.get(url)).json()
        response = await api.patch(
            url,
            json={"max_listeners": current["max_listeners"] + 1},
            headers={"If-Match": f'"{current["version"]}"'},
        )
        return response.status

    statuses = await asyncio.gather(*(increment() for _ in range(50)))
    assert set(statuses) <= {200, 409}
    wins = statuses.count(200)
    assert wins >= 1
    final = await (await api.get(url)).json()
    assert final["version"] == 1 + wins
    assert final["max_listeners"] == 1 + wins


async def test_same_version_patches_exactly_one_wins(api: Client) -> None:
    event = await create(api)
    url = f"/api/events/{event['id']}"
    responses = await asyncio.gather(
        *(
            api.patch(url, json={"name": f"writer {i}"}, headers={"If-Match": '"1"'})
            for i in range(50)
        )
    )
    statuses = [r.status for r in responses]
    assert statuses.count(200) == 1 and statuses.count(409) == 49
    winner = next(r for r in responses if r.status == 200)
    final = await (await api.get(url)).json()
    assert final["version"] == 2 and final["name"] == (await winner.json())["name"]


async def test_openapi_matches_routes(api: Client) -> None:
    spec = await (await api.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    routed = {
        (route.method, route.resource.canonical)
        for route in api.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
        and route.resource.canonical != "/api/openapi.json"
    }
    assert documented == routed
    assert documented == {(op.method, op.path) for op in operations()}
    for item in spec["paths"].values():
        for operation in item.values():
            for ref in re.findall(r'"#/components/schemas/(\w+)"', json.dumps(operation)):
                assert ref in spec["components"]["schemas"]
    assert "EventCreate" in spec["components"]["schemas"]


async def test_health(api: Client) -> None:
    assert (await (await api.get("/healthz")).json()) == {"status": "ok"}
    assert (await (await api.get("/readyz")).json()) == {"status": "ready"}


async def test_an_event_is_duplicated_as_a_draft_with_its_channels_and_glossary(
    api: Client,
) -> None:
    original = await create(
        api,
        ends_at="2026-12-01T12:00:00+00:00",
        glossary=[{"term": "board", "translations": {"es-ES": "junta"}}],
    )
    await api.post(f"/api/events/{original['id']}/schedule")
    response = await api.post(
        f"/api/events/{original['id']}/duplicate", json={"starts_at": "2027-12-01T10:00:00Z"}
    )
    assert response.status == 201, await response.text()
    copy = await response.json()
    assert copy["id"] != original["id"] and copy["status"] == "DRAFT"
    assert copy["name"] == f"{original['name']} (copy)"
    assert copy["starts_at"].startswith("2027-12-01T10:00")
    assert copy["ends_at"].startswith("2027-12-01T13:00")  # 3 h after its start, as before
    assert copy["channels"] == original["channels"]
    assert copy["glossary"] == [{"term": "board", "translations": {"es-ES": "junta"}}]
    named = await api.post(f"/api/events/{original['id']}/duplicate", json={"name": "Next"})
    assert (await named.json())["starts_at"] == original["starts_at"]
    await problem(await api.post("/api/events/999999/duplicate", json={}), 404)
    await problem(
        await api.post(f"/api/events/{original['id']}/duplicate", json={"starts_at": 5}), 422
    )
