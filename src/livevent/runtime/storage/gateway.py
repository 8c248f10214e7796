"""How the runtime reaches the event service: in process, or over HTTP when deployed apart.

The runtime never invents configuration: it reads events and moves them
through the status machine only through one of these.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Protocol

import aiohttp

from livevent.auth.signing import service_token
from livevent.bus import Bus
from livevent.errors import Conflict, InvalidInput, InvalidTransition, NotFound, Unavailable
from livevent.events.service import EventService
from livevent.model import Event, EventConfig, StatusChange, TranscriptSegment
from livevent.model.output import OutputTarget
from livevent.settings import Settings
from livevent.store import open_store

RUNTIME_ACTOR = "runtime"


class EventGateway(Protocol):
    async def load(self, event_id: int) -> EventConfig:
        """The event's current config from the source of truth (no cache)."""
        ...

    async def act(
        self, event_id: int, action: str, *, reason: str | None = None, actor: str | None = None
    ) -> Event:
        """Move the event: `start`, `end` or `cancel`, on behalf of `actor` (else the runtime);
        the event as it is after the move."""
        ...

    async def last_change(self, event_id: int) -> StatusChange | None: ...

    async def record(self, segment: TranscriptSegment) -> None:
        """Store a final transcript segment."""
        ...

    async def transcript(self, event_id: int) -> list[TranscriptSegment]:
        """The event's transcript, in order (an ended event's archive page offers it)."""
        ...

    async def ping(self) -> None: ...

    async def outputs(self, event_id: int) -> list[OutputTarget]:
        """Where the event's channels are pushed, with their stream keys."""
        ...


class LocalGateway:
    """The event service in this process (the embedded default, or a shared store)."""

    def __init__(self, service: EventService) -> None:
        self.service = service
        self.loads = 0

    async def load(self, event_id: int) -> EventConfig:
        self.loads += 1
        return await self.service.get_config(event_id)

    async def act(
        self, event_id: int, action: str, *, reason: str | None = None, actor: str | None = None
    ) -> Event:
        return await self.service.act(event_id, action, actor=actor or RUNTIME_ACTOR, reason=reason)

    async def last_change(self, event_id: int) -> StatusChange | None:
        history = await self.service.history(event_id)
        return history[-1] if history else None

    async def record(self, segment: TranscriptSegment) -> None:
        await self.service.add_transcript_segment(segment)

    async def transcript(self, event_id: int) -> list[TranscriptSegment]:
        return await self.service.transcript(event_id)

    async def ping(self) -> None:
        await self.service.store.ping()

    async def outputs(self, event_id: int) -> list[OutputTarget]:
        return await self.service.output_targets(event_id)


class HttpGateway:
    """The event service's HTTP API (`event_service_url`)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: Callable[[], str] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._session = session
        self.loads = 0

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _request(self, method: str, path: str, body: object = None) -> object:
        try:
            headers = {"Authorization": f"Bearer {self._token()}"} if self._token else {}
            async with self._client().request(
                method, f"{self.base_url}{path}", json=body, headers=headers
            ) as response:
                text = await response.text()
                payload = json.loads(text) if text else None
                if response.status < 400:
                    return payload
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as error:
            raise Unavailable(f"the event service at {self.base_url} failed: {error}") from error
        detail = payload.get("detail", text) if isinstance(payload, dict) else text
        if response.status == 404:
            raise NotFound(detail)
        if response.status == 409 and isinstance(payload, dict) and "target_status" in payload:
            raise InvalidTransition(
                payload.get("event_id", 0), payload["current_status"], payload["target_status"]
            )
        if response.status == 409:
            raise Conflict(detail)
        if response.status < 500:
            raise InvalidInput(detail)
        raise Unavailable(f"the event service at {self.base_url} answered {response.status}")

    async def load(self, event_id: int) -> EventConfig:
        self.loads += 1
        return EventConfig.model_validate(await self._request("GET", f"/api/events/{event_id}"))

    async def act(
        self, event_id: int, action: str, *, reason: str | None = None, actor: str | None = None
    ) -> Event:
        # The event service names the token's holder (this runtime); the person goes in the reason.
        if actor is not None:
            reason = f"{reason or action} (by {actor})"
        moved = await self._request("POST", f"/api/events/{event_id}/{action}", {"reason": reason})
        return Event.model_validate(moved)

    async def last_change(self, event_id: int) -> StatusChange | None:
        payload = await self._request("GET", f"/api/events/{event_id}/history")
        items = payload.get("items", []) if isinstance(payload, dict) else []
        return StatusChange.model_validate(items[-1]) if items else None

    async def record(self, segment: TranscriptSegment) -> None:
        await self._request(
            "POST",
            f"/api/events/{segment.event_id}/transcript",
            segment.model_dump(mode="json"),
        )

    async def transcript(self, event_id: int) -> list[TranscriptSegment]:
        payload = await self._request("GET", f"/api/events/{event_id}/transcript")
        items = payload.get("items", []) if isinstance(payload, dict) else []
        return [TranscriptSegment.model_validate(item) for item in items]

    async def ping(self) -> None:
        await self._request("GET", "/readyz")

    async def outputs(self, event_id: int) -> list[OutputTarget]:
        payload = await self._request("GET", f"/api/events/{event_id}/output-targets")
        items = payload.get("items", []) if isinstance(payload, dict) else []
        return [OutputTarget.model_validate(item) for item in items]


async def open_gateway(
    settings: Settings, stack: AsyncExitStack, bus: Bus, service: EventService | None
) -> tuple[EventGateway, EventService | None]:
    """Over HTTP when the settings name an event service; else in process, on `service`
    or on a store opened from the settings (closed with `stack`)."""
    if settings.event_service_url:
        http = HttpGateway(settings.event_service_url, token=lambda: service_token(settings))
        stack.push_async_callback(http.aclose)
        return http, None
    if service is None:
        store = await open_store(settings.database_url, pool_size=settings.database_pool_size)
        stack.push_async_callback(store.aclose)
        service = EventService(store=store, bus=bus, default_customer=settings.default_customer)
    return LocalGateway(service), service
