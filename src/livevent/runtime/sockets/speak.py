"""`/speak/{event_id}/{channel}`: the speaker (floor) or an interpreter sends PCM audio."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

from aiohttp import WSMsgType, web
from pydantic import ValidationError

from livevent import logs
from livevent.auth.access import may_speak
from livevent.bus import keys
from livevent.errors import LiveventError, NotFound, NotStartable, Unavailable
from livevent.http.params import bearer_token
from livevent.http.sockets import CloseCode, close_socket, expiry_watch
from livevent.model import EventConfig
from livevent.model.ids import channel_key
from livevent.runtime.appkeys import AUTO_START, RUNTIME
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.live.notes import NOTES_PER_SENDER_PER_MINUTE
from livevent.runtime.live.session import LiveSession
from livevent.runtime.media.audio import FrameChunker
from livevent.runtime.sockets.listen import accept
from livevent.runtime.wire import (
    BoothNote,
    ErrorMessage,
    GlossaryLine,
    Outgoing,
    Ready,
    SpeakerChat,
    SpeakerEnd,
    SpeakerHandover,
    SpeakerHello,
    SpeakerLevel,
    SpeakerMute,
    SpeakerSignal,
    Standby,
    send,
    speaker_messages,
)

log = logging.getLogger(__name__)

# One second of 16 kHz s16le audio, inclusive; a client sends 20-100 ms at a time.
MAX_AUDIO_MESSAGE = 32_000
ODD_AUDIO = "audio must be whole 16-bit samples (even length)"


async def speak(request: web.Request) -> web.WebSocketResponse:
    runtime = request.app[RUNTIME]
    ws, event_id = await accept(request, MAX_AUDIO_MESSAGE)
    logs.EVENT.set(event_id)
    # The token is checked before anything happens: no one opens an event unasked.
    config = await runtime.cache.get(event_id)
    channel = config.channel(channel_key(request.match_info["channel"]))
    if channel is None:
        raise NotFound("no such channel in this event")
    claims = may_speak(runtime.verifier, bearer_token(request, query=True), config, channel)
    session = runtime.sessions.get(event_id)
    if session is None:
        if not request.app[AUTO_START]:
            raise NotStartable(f"event {event_id} is not live here")
        # Early, a speaker rehearses: going live is the organizer's act, not theirs.
        session = await runtime.rehearse(event_id, actor=f"{claims.role.value}:{claims.sub}")
    state = session.find_channel(channel.number)
    if state is None:
        raise NotFound("no such channel in this event")
    language = state.hub.language
    logs.CHANNEL.set(language)
    news = SpeakerNews(session, ws, state, _glossary(config, language))
    wants_standby = request.query.get("standby", "") in ("1", "true", "yes")
    speaker_id = await session.speakers.claim(
        language, standby=wants_standby, on_turn=news.turn, who=claims.sub, token=claims.jti,
        on_replaced=_closer(session, ws),
    )  # fmt: skip
    if speaker_id is None:
        await close_socket(
            ws,
            CloseCode.CHANNEL_BUSY,
            f"channel {language} already has a speaker (a booth partner joins with ?standby=1)",
        )
        return ws
    news.speaker_id = speaker_id
    session.audience.track(f"speaker:{speaker_id}", ws)
    session.notes.speaker_joined(speaker_id, language, ws)
    end_event = False
    live_news = None if session.went_live.is_set() else asyncio.ensure_future(news.when_live())
    try:
        await send(ws, news.current())
        async with expiry_watch(ws, claims.exp if claims else None):
            end_event = await _receive(ws, session, state, speaker_id)
    finally:
        if live_news is not None:
            live_news.cancel()
        # Free the channel before the closing handshake, which waits on the client.
        was_active = session.speakers.is_active(language, speaker_id)
        session.speakers.release(language, speaker_id)
        session.notes.speaker_left(speaker_id)
    floor = language == session.config.source_language
    if end_event and was_active and floor and not session.rehearsing:
        # The channels finish their last sentences (seconds); this socket needs not wait.
        runtime.end(event_id, reason="the speaker ended the event")
    if not ws.closed:
        await close_socket(ws, CloseCode.NORMAL, "speaker ended")
    return ws


def _closer(session: LiveSession, ws: web.WebSocketResponse) -> Callable[[], None]:
    """How a speaker's socket is closed when the same speaker connects again."""

    def replaced() -> None:
        reason = "you connected again with the same token: this connection is off"
        session.spawn(close_socket(ws, CloseCode.REPLACED, reason), name="speaker-replaced")

    return replaced


class SpeakerNews:
    """What a speaker is told of their place: on air (ready) or standing by, and whether
    it is still a rehearsal."""

    def __init__(
        self,
        session: LiveSession,
        ws: web.WebSocketResponse,
        state: ChannelState,
        glossary: list[GlossaryLine],
    ) -> None:
        self.session, self.ws, self.state, self.glossary = session, ws, state, glossary
        self.speaker_id = ""

    def ready(self) -> Ready:
        hub = self.state.hub
        return Ready(
            event=self.session.event_id,
            channel=hub.channel.number,
            language=hub.language,
            glossary=self.glossary,
            rehearsal=self.session.rehearsing or None,
        )

    def standby(self, reason: str) -> Standby:
        rehearsal = self.session.rehearsing or None
        return Standby(reason=reason, glossary=self.glossary, rehearsal=rehearsal)

    def current(self) -> Ready | Standby:
        if self.session.speakers.is_active(self.state.hub.language, self.speaker_id):
            return self.ready()
        return self.standby("a partner is speaking")

    def turn(self, active: bool) -> None:
        """Called by the booth when partners change places: tell this speaker at once."""
        message = self.ready() if active else self.standby("handed over")
        self.session.spawn(_send_quietly(self.ws, message), name="booth-turn")

    async def when_live(self) -> None:
        """The rehearsal turned live: the speaker's page says so."""
        await self.session.went_live.wait()
        await _send_quietly(self.ws, self.current())


def _glossary(config: EventConfig, language: str) -> list[GlossaryLine]:
    """The booth's glossary: the terms as the machine channels say them, in this language."""
    return [
        GlossaryLine(term=e.term, translation=e.translations.get(language, e.term))
        for e in config.glossary
    ]


async def _send_quietly(ws: web.WebSocketResponse, message: Outgoing) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await send(ws, message)


async def _receive(
    ws: web.WebSocketResponse, session: LiveSession, state: ChannelState, speaker_id: str
) -> bool:
    """Feed the channel until the speaker ends or leaves; True if it asked to end the event."""
    language = state.hub.language
    chunker = FrameChunker()
    async for message in ws:
        if message.type is WSMsgType.BINARY:
            if not session.speakers.is_active(language, speaker_id):
                chunker = FrameChunker()  # a partner standing by: nobody hears it
                continue
            data: bytes = message.data
            if len(data) % 2:
                await send(ws, ErrorMessage(message=ODD_AUDIO))
                continue
            arrived = time.monotonic()
            for frame in chunker.push(data):
                session.feed(language, frame, arrived)
        elif message.type is WSMsgType.TEXT:
            ended = await _control(ws, session, language, speaker_id, message.data)
            if ended is not None:
                _flush(session, language, speaker_id, chunker)
                return ended
    _flush(session, language, speaker_id, chunker)
    return False


def _flush(session: LiveSession, language: str, speaker_id: str, chunker: FrameChunker) -> None:
    if not session.speakers.is_active(language, speaker_id):
        return
    last = chunker.flush()
    if last is not None:
        session.feed(language, last)
    session.flush(language)


async def _control(
    ws: web.WebSocketResponse,
    session: LiveSession,
    language: str,
    speaker_id: str,
    text: str,
) -> bool | None:
    """Apply a control message; when the speaker ends, whether it ends the event too."""
    try:
        parsed = speaker_messages.validate_json(text)
    except (ValidationError, json.JSONDecodeError) as error:
        detail = _said_wrong(error) if isinstance(error, ValidationError) else "not JSON"
        await send(ws, ErrorMessage(message=f"unreadable message: {detail}"))
        return None
    if isinstance(parsed, SpeakerHello):
        return None  # the only format is the one in the hello's defaults
    if isinstance(parsed, SpeakerLevel):
        if session.speakers.is_active(language, speaker_id):
            state = session.channels[language]
            state.input_level = (parsed.level, parsed.peak, time.monotonic())
        return None
    if isinstance(parsed, SpeakerChat | SpeakerSignal):
        if not await _may_note(ws, session, speaker_id):
            return None
        floor = language == session.config.source_language
        note = BoothNote(
            kind="chat" if isinstance(parsed, SpeakerChat) else parsed.signal,
            channel=language,
            sender="speaker" if floor else "interpreter",
            text=parsed.text if isinstance(parsed, SpeakerChat) else None,
            at=time.time(),
        )
        await session.notes.say(note)
        return None
    active = session.speakers.is_active(language, speaker_id)
    if isinstance(parsed, SpeakerHandover):
        if not active:
            await send(ws, ErrorMessage(message="only the active speaker hands over"))
        else:
            await _hand_over(ws, session, language, speaker_id)
        return None
    if isinstance(parsed, SpeakerMute):
        if active:
            session.speakers.set_muted(language, speaker_id, parsed.type == "mute")
        return None
    assert isinstance(parsed, SpeakerEnd)
    return parsed.end_event


def _said_wrong(error: ValidationError) -> str:
    """The first problem, naming its field: "level: Input should be ..."."""
    first = error.errors()[0]
    where = str(first["loc"][-1]) if len(first["loc"]) > 1 else ""
    return f"{where}: {first['msg']}" if where else first["msg"]


async def _hand_over(
    ws: web.WebSocketResponse, session: LiveSession, language: str, speaker_id: str
) -> None:
    try:
        handed = await session.speakers.hand_over(language, speaker_id)
    except Unavailable as error:
        await send(ws, ErrorMessage(message=f"not handed over: {error}"))
        return
    if not handed:
        await send(ws, ErrorMessage(message="no booth partner is standing by on this channel"))


async def _may_note(ws: web.WebSocketResponse, session: LiveSession, speaker_id: str) -> bool:
    """Notes per person per minute: a partner's hundred "slow down"s help nobody."""
    per_minute = NOTES_PER_SENDER_PER_MINUTE
    who = session.speakers.names.get(speaker_id) or speaker_id
    try:
        count = await session.bus.incr_window(keys.rate_notes(session.event_id, who), 60)
    except LiveventError:
        return True  # a bus outage silences nobody
    if count > per_minute:
        await send(ws, ErrorMessage(message=f"too many notes: {per_minute} a minute at most"))
        return False
    return True
