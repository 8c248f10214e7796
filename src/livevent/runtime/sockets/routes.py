"""The runtime's HTTP routes: channels, stats and stop of a live event; health."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from livevent.auth.access import may_listen, may_manage
from livevent.auth.middleware import actor_of
from livevent.errors import Forbidden, InvalidInput, LiveventError, NotFound, Unauthorized
from livevent.http.operations import read_body
from livevent.http.params import bearer_token, event_id_of, shown
from livevent.http.problems import problem
from livevent.model import EventConfig, Role
from livevent.model.language import normalize_language
from livevent.runtime.appkeys import RUNTIME
from livevent.runtime.engines import voice_report
from livevent.runtime.live.channels import channel_info
from livevent.runtime.live.notes import ALL_BOOTHS
from livevent.runtime.live.presence import read_stats
from livevent.runtime.live.session import LiveSession
from livevent.runtime.runtime import LiveRuntime
from livevent.runtime.speech.duties import needs_machine
from livevent.runtime.wire import BoothNote
from livevent.runtime.workers import registry
from livevent.runtime.workers.remote import RemoteSpeech
from livevent.settings import Settings


async def _visible_config(request: web.Request) -> EventConfig:
    """The event's config, for a caller who may listen to it (as the listen socket decides)."""
    runtime = request.app[RUNTIME]
    config = await runtime.cache.get(event_id_of(request))
    may_listen(runtime.verifier, bearer_token(request, query=True), config)
    return config


async def live_channels(request: web.Request) -> web.Response:
    """The event's channels and, when it is live here, each one's state."""
    runtime = request.app[RUNTIME]
    config = await _visible_config(request)
    event_id = config.id
    session = runtime.sessions.get(event_id)
    channels = []
    for channel in config.channels:
        info = channel_info(channel).model_dump()
        info["state"] = session.channel_state(channel.language) if session else "offline"
        channels.append(info)
    return web.json_response(
        {
            "event": event_id,
            "name": config.name,
            "status": config.status.value,
            "public": config.public,
            "channels": channels,
        }
    )


async def live_stats(request: web.Request) -> web.Response:
    """This instance's counters, and what every instance published on the bus."""
    runtime = request.app[RUNTIME]
    config = await _visible_config(request)
    event_id = config.id
    session = runtime.sessions.get(event_id)
    shared = await read_stats(runtime.bus, event_id)
    body: dict[str, Any] = session.snapshot() if session else {"event": event_id, "channels": {}}
    if session is None or session.role != "owner":
        # A relay mirrors the owner's channels: who speaks, their state and a machine
        # channel's lag are the owner's to say, whichever instance is asked.
        for language, owner_view in shared["channels"].items():
            body["channels"][language] = {**body["channels"].get(language, {}), **owner_view}
    for language, shared_view in shared["channels"].items():
        mine = body["channels"].setdefault(language, {})
        for name in ("input_level", "input_peak"):  # a speaker on another instance
            mine[name] = max(float(mine.get(name, -1)), float(shared_view.get(name, -1)))
    body["status"] = session.status.value if session else config.status.value
    if session is None and runtime.closing(event_id):
        body["ending"] = True  # its last transcript segments and recordings are written
    body["rehearsal"] = bool(session and session.rehearsing)
    body["listeners"] = shared["listeners"]
    body["instances"] = shared["instances"]
    if not _runs(request, config):
        body = audience_view(body)
    elif runtime.settings.speech == "workers" and needs_speech(config, runtime.settings):
        body["speech"] = await speech_view(runtime, session)
    return web.json_response(body)


def needs_speech(config: EventConfig, settings: Settings) -> bool:
    captions = settings.interpreter_captions
    return any(needs_machine(c, interpreter_captions=captions) for c in config.channels)


async def speech_view(runtime: LiveRuntime, session: LiveSession | None) -> dict[str, Any]:
    """Where the event's speech runs, and the room left on the workers (organizers see it
    in the live view and the sound check, before going live)."""
    reports = await registry.workers(runtime.bus)
    view: dict[str, Any] = {
        "where": "workers",
        "workers": len(reports),
        "slots": sum(r.slots for r in reports),
        "free": sum(r.free for r in reports),
        "worker": None,
        "problem": None,
    }
    speech = session.duties.speech if session is not None else None
    if isinstance(speech, RemoteSpeech):
        view["worker"] = speech.worker if speech.ready else None
        view["problem"] = speech.problem
    elif view["free"] == 0:
        view["problem"] = registry.capacity_problem(reports)
    return view


def _runs(request: web.Request, config: EventConfig) -> bool:
    """Whether the caller runs the event (an organizer): they see who speaks, levels and
    rehearsals; anyone else who may listen sees what a listener would."""
    token = bearer_token(request, query=True)
    if not token:
        return False
    try:
        may_manage(request.app[RUNTIME].verifier, token, config)
    except LiveventError:
        return False
    return True


def audience_view(body: dict[str, Any]) -> dict[str, Any]:
    """Listener counts per channel and the state: no names, no levels, no rehearsal (a
    rehearsal is the stage's business: to the audience the event is still to start)."""
    rehearsing = bool(body.get("rehearsal"))
    channels = {
        language: {
            "number": view.get("number"),
            "kind": view.get("kind"),
            "state": "offline" if rehearsing else view.get("state", "offline"),
            "listeners": int(view.get("listeners", 0)),
            # How far behind the speaker a machine channel is: the listener page says so.
            **({"evs_s": view["evs_s"]} if "evs_s" in view and not rehearsing else {}),
            **({"evs_from": view["evs_from"]} if "evs_from" in view else {}),
        }
        for language, view in body.get("channels", {}).items()
    }
    status = body.get("status")
    return {
        "event": body.get("event"),
        "status": "SCHEDULED" if rehearsing and status == "LIVE" else status,
        "channels": channels,
        "listeners": body.get("listeners", {}),
    }


async def live_start(request: web.Request) -> web.Response:
    """Take a SCHEDULED or READY event live (the console's "Go live"): its rehearsal, if
    speakers are rehearsing, turns live here."""
    session = await request.app[RUNTIME].start(event_id_of(request), actor=actor_of(request))
    return web.json_response(
        {"event": session.event_id, "status": "LIVE", "role": session.role}, status=201
    )


async def live_stop(request: web.Request) -> web.Response:
    """End a live event run by this process (what `livevent live stop` calls)."""
    runtime = request.app[RUNTIME]
    event_id = event_id_of(request)
    if event_id not in runtime.sessions:
        raise NotFound(f"event {event_id} is not live on this server")
    reason = request.query.get("reason") or "stopped by an operator"
    # Answered once the channels said their last words; a client that leaves first
    # does not cut them short.
    await asyncio.shield(runtime.end(event_id, reason=reason[:500], actor=actor_of(request)))
    return web.json_response({"event": event_id, "status": "ENDED"})


async def live_notes(request: web.Request) -> web.Response:
    """The booths' notes (chat, "slow down", "audio unusable"), for the organizer."""
    runtime = request.app[RUNTIME]
    config = await runtime.cache.get(event_id_of(request))
    may_manage(runtime.verifier, bearer_token(request), config)
    session = runtime.sessions.get(config.id)
    notes = [n.model_dump(exclude_none=True) for n in session.notes.log] if session else []
    return web.json_response({"event": config.id, "notes": notes})


async def send_note(request: web.Request) -> web.Response:
    """The organizer writes to one booth (`channel`) or to every booth."""
    session, body = await _organizer_note(request)
    channel = ALL_BOOTHS
    if body.channel is not None:
        state = session.find_channel(body.channel)
        if state is None:
            raise InvalidInput(f"no channel {shown(body.channel)} in this event")
        channel = state.hub.language
    note = BoothNote(
        kind="chat", channel=channel, sender="organizer", text=body.text, at=time.time()
    )
    await session.notes.say(note)
    return web.json_response(note.model_dump(exclude_none=True), status=201)


async def announce(request: web.Request) -> web.Response:
    """The organizer's message to every listener, on every channel and instance."""
    session, body = await _organizer_note(request)
    note = BoothNote(
        kind="announcement", channel=ALL_BOOTHS, sender="organizer", text=body.text, at=time.time()
    )
    await session.notes.say(note)
    return web.json_response(note.model_dump(exclude_none=True), status=201)


async def _organizer_note(request: web.Request) -> tuple[LiveSession, OrganizerNote]:
    """The live session here, and the organizer's note (the middleware checked who)."""
    event_id = event_id_of(request)
    session = request.app[RUNTIME].sessions.get(event_id)
    if session is None:
        raise NotFound(f"event {event_id} is not live on this server")
    return session, await read_body(request, OrganizerNote)


class OrganizerNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=500)
    channel: str | None = Field(
        None, max_length=35, description="a booth's language; all if absent"
    )


async def voice_of(request: web.Request) -> web.Response:
    """Which voice would speak a machine channel in this language here, and how well: what
    the console tells an organizer making the channel."""
    try:
        language = normalize_language(request.match_info["language"])
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    report = await voice_report(request.app[RUNTIME].engines, language)
    return web.json_response(asdict(report))


async def live_workers(request: web.Request) -> web.Response:
    """The speech workers on the bus (admins): each one's name, slots, jobs and load."""
    runtime = request.app[RUNTIME]
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("send an admin token: Authorization: Bearer <token>")
    claims = runtime.verifier.verify(token)
    if claims.role is not Role.ADMIN or claims.scope is not None:
        raise Forbidden("only an admin token may see the speech workers")
    return web.json_response([r.model_dump() for r in await registry.workers(runtime.bus)])


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "live_events": len(request.app[RUNTIME].sessions)})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        await runtime.gateway.ping()
        await runtime.bus.ping()
    except LiveventError as error:
        return problem(503, f"not ready: {error}")
    return web.json_response({"status": "ready"})
