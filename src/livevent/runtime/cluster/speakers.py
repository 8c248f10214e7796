"""Who speaks on each channel of a live event, whichever instance each one reached.

Behind a load balancer, booth partners often land on different instances. The
owner instance keeps every channel's `Booth` (active speaker, partners standing
by) for all of them; speakers on a relay are entries in the owner's booth too.
A relay sends its speakers' commands (enter, hand over, mute, leave) on the
event's booth channel on the bus; the owner applies each and answers with the
channel's new state (who is active, whether muted), which every relay applies to
its own speakers. When a relay takes over as owner, it rebuilds the booths from
its own speakers and asks the others to enter theirs again.

On one instance (or a memory:// bus), the owner's booth is all there is.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from livevent.aio import raise_if_cancelled
from livevent.bus import Bus, Subscription, keys
from livevent.errors import LiveventError, Unavailable
from livevent.runtime.cluster.messages import (
    BoothCommand,
    BoothMessage,
    BoothState,
    Resync,
    read_booth_message,
)
from livevent.runtime.cluster.promotion import Promotion
from livevent.runtime.cluster.seats import SeatKeeping, Seats
from livevent.runtime.live.booth import TurnCallback
from livevent.runtime.live.channels import ChannelState

log = logging.getLogger(__name__)

# A relay waits this long for the owner to answer a speaker's command.
ASK_TIMEOUT = 5.0


def _unheard(active: bool) -> None:
    """A remote speaker's turn is told by the state message, not by a callback."""


class BoothOutbox:
    """The booth's messages to the bus, in order, never blocking the one who sends them."""

    def __init__(self, bus: Bus, channel: str) -> None:
        self.bus, self.channel = bus, channel
        self._queue: asyncio.Queue[BoothMessage] = asyncio.Queue()

    def post(self, message: BoothMessage) -> None:
        self._queue.put_nowait(message)

    async def run(self) -> None:
        while True:
            raise_if_cancelled()
            message = await self._queue.get()
            try:
                await self.bus.publish(self.channel, message.to_json())
            except LiveventError as error:
                log.warning("booth message not sent: %s", error)


class Speakers(SeatKeeping, Promotion):
    def __init__(
        self,
        *,
        bus: Bus,
        event_id: int,
        instance: str,
        channels: dict[str, ChannelState],
        is_owner: Callable[[], bool],
        changed: Callable[[str], None],
        muted: Callable[[str, bool], None],
        spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
    ) -> None:
        self.bus = bus
        self.event_id = event_id
        self.instance = instance
        self.channels = channels
        self._is_owner = is_owner
        self.seats = Seats()  # the owner's: where each speaker is, with which token
        self._replaced: dict[str, Callable[[], None]] = {}  # this instance's: close the socket
        self._changed = changed  # the owner: the active speaker changed (flush, notify, ...)
        self._apply_mute = muted
        self._spawn = spawn
        self._local: dict[str, tuple[str, TurnCallback]] = {}  # id -> language, callback
        self._active: dict[str, str | None] = {}  # a relay's view of each channel's booth
        self._active_seat: dict[str, BoothState] = {}  # and of where its active speaker is
        self._replies: dict[str, asyncio.Future[bool]] = {}
        self._pending: dict[str, BoothCommand] = {}  # asked, not answered: by request
        self._took_over = asyncio.Event()  # this relay became the owner
        self._resumed: set[str] = set()  # speakers of relays that entered again
        self._channel = keys.live_booth(event_id)
        self._outbox = BoothOutbox(bus, self._channel)
        self._post = self._outbox.post
        # Who each speaker is (their token's subject): this instance's own, and on the
        # owner every booth's, for the organizer's live view.
        self.names: dict[str, str] = {}

    async def open(self) -> None:
        subscription = await self.bus.subscribe(self._channel)
        self._spawn(self._listen(subscription), f"booth-in:{self.event_id}")
        self._spawn(self._outbox.run(), f"booth-out:{self.event_id}")

    # -- what a speaker's socket does ---------------------------------------------------

    async def claim(
        self,
        language: str,
        *,
        standby: bool = False,
        on_turn: TurnCallback | None = None,
        who: str | None = None,
        token: str | None = None,
        on_replaced: Callable[[], None] | None = None,
    ) -> str | None:
        """A speaker id when the channel was free (or, with `standby`, a partner's), else None.

        The speaker on air who came with the same `token` is replaced (`on_replaced` is
        how this connection is told, should it be replaced in its turn)."""
        turn = on_turn or _unheard
        if self._is_owner():
            booth = self.channels[language].booth
            old = self._take_back(language, token, standby)
            if old is not None:
                speaker_id: str | None = booth.replace(old, turn)
            else:
                speaker_id = booth.enter(turn, standby=standby)
            if speaker_id is not None:
                self._local[speaker_id] = (language, turn)
                self._seat(speaker_id, language, self.instance, token, who)
                if self.channels[language].booth.active == speaker_id:
                    self._changed(language)
                self._broadcast(language)
        else:
            speaker_id = uuid.uuid4().hex
            command = BoothCommand(
                op="enter", language=language, speaker=speaker_id, standby=standby, who=who,
                instance=self.instance, token=token,
            )  # fmt: skip
            answered = await self._ask(command)
            if answered is None:  # the owner died and this instance took the event over
                return await self.claim(
                    language, standby=standby, on_turn=on_turn, who=who, token=token,
                    on_replaced=on_replaced,
                )  # fmt: skip
            if not answered:
                return None
            # Only now: the socket tells its speaker the first turn itself.
            self._local[speaker_id] = (language, turn)
            if who:
                self.names[speaker_id] = who
        if speaker_id is not None and on_replaced is not None:
            self._replaced[speaker_id] = on_replaced
        return speaker_id

    def is_active(self, language: str, speaker_id: str) -> bool:
        if self._is_owner():
            return self.channels[language].booth.active == speaker_id
        return self._active.get(language) == speaker_id

    async def hand_over(self, language: str, speaker_id: str) -> bool:
        """The active speaker yields to a partner in standby; False when there is none."""
        if not self._is_owner():
            command = BoothCommand(op="handover", language=language, speaker=speaker_id)
            answered = await self._ask(command)
            if answered is not None:
                return answered
        if not self.channels[language].booth.hand_over(speaker_id):
            return False
        self._changed(language)
        self._broadcast(language)
        return True

    def set_muted(self, language: str, speaker_id: str, muted: bool) -> None:
        """The active speaker mutes or unmutes the channel (others are not heard anyway)."""
        if not self._is_owner():
            self._post(BoothCommand(op="mute", language=language, speaker=speaker_id, on=muted))
        elif self.channels[language].booth.active == speaker_id:
            self._apply_mute(language, muted)
            self._broadcast(language)

    def release(self, language: str, speaker_id: str) -> None:
        if self._local.pop(speaker_id, None) is None:
            return  # replaced by a new connection of the same speaker: not theirs to free
        self._replaced.pop(speaker_id, None)
        self.names.pop(speaker_id, None)
        self.seats.leave(speaker_id)
        if not self._is_owner():
            self._post(BoothCommand(op="leave", language=language, speaker=speaker_id))
            if self._active.get(language) == speaker_id:
                self._active[language] = None
            return
        if self.channels[language].booth.leave(speaker_id):
            self._changed(language)
        self._broadcast(language)

    # -- the bus ------------------------------------------------------------------------

    def _broadcast(self, language: str, request: str | None = None, ok: bool = True) -> None:
        booth, muted = self.channels[language].booth, self.channels[language].muted
        seat = self.seats.of(booth.active)
        state = BoothState(
            language=language, active=booth.active, muted=muted, ok=ok,
            instance=seat.instance if seat else None, token=seat.token if seat else None,
        )  # fmt: skip
        self._post(state.model_copy(update={"request": request}))

    async def _ask(self, command: BoothCommand) -> bool | None:
        """Send a command to the owner and wait for its answer; None when this instance
        took the event over meanwhile (the caller applies it here). A dead owner is not
        waited for: whoever takes over answers, or this instance does."""
        request = uuid.uuid4().hex
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        sent = command.model_copy(update={"request": request})
        self._replies[request], self._pending[request] = answer, sent
        self._post(sent)
        took_over: asyncio.Future[Any] = asyncio.ensure_future(self._took_over.wait())
        try:
            async with asyncio.timeout(ASK_TIMEOUT):
                waiting: set[asyncio.Future[Any]] = {answer, took_over}
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            return answer.result() if answer.done() else None
        except TimeoutError:
            raise Unavailable(
                f"the instance running event {self.event_id} did not answer; try again"
            ) from None
        finally:
            took_over.cancel()
            self._replies.pop(request, None)
            self._pending.pop(request, None)

    async def _listen(self, subscription: Subscription) -> None:
        try:
            async for message in subscription:
                try:
                    parsed = read_booth_message(message.data)
                except ValueError as error:
                    log.warning("unreadable booth message: %s", error)
                    continue
                if self._is_owner():
                    if isinstance(parsed, BoothCommand):
                        self._command(parsed)
                else:
                    self._heard(parsed)
        finally:
            await subscription.aclose()

    def _command(self, message: BoothCommand) -> None:
        """The owner applies a relay's command and answers with the channel's state."""
        language = message.language
        if language not in self.channels:
            return
        booth = self.channels[language].booth
        speaker_id, request, ok = message.speaker, message.request, True
        was = booth.active
        if message.op == "enter":
            if message.resume:
                self._resumed.add(speaker_id)
            standby = message.standby or message.resume
            old = None if message.resume else self._take_back(language, message.token, standby)
            if old is not None:
                ok = booth.replace(old, _unheard, speaker_id=speaker_id) == speaker_id
            else:
                ok = booth.enter(_unheard, standby=standby, speaker_id=speaker_id) is not None
            if ok:
                where = message.instance or "?"
                self._seat(speaker_id, language, where, message.token, message.who)
        elif message.op == "handover":
            ok = booth.hand_over(speaker_id)
        elif message.op == "leave":
            booth.leave(speaker_id)
            self.names.pop(speaker_id, None)
            self.seats.leave(speaker_id)
        elif booth.active == speaker_id:  # mute: only the active speaker's counts
            self._apply_mute(language, message.on)
        if booth.active != was:
            self._changed(language)
        self._broadcast(language, request, ok)

    def _heard(self, message: BoothMessage) -> None:
        """A relay: the owner's answers and states, applied to this instance's speakers."""
        if isinstance(message, Resync):
            self._enter_again()
            return
        if not isinstance(message, BoothState) or message.language not in self.channels:
            return  # other relays' commands, for the owner only
        language, active = message.language, message.active
        before = self._active.get(language)
        self._active[language] = active
        self._active_seat[language] = message
        self.channels[language].muted = message.muted
        answer = self._replies.get(message.request or "")
        if answer is not None and not answer.done():
            answer.set_result(message.ok)
        for speaker_id, (lang, turn) in list(self._local.items()):
            if lang == language and (before == speaker_id) != (active == speaker_id):
                turn(active == speaker_id)

    def _enter_again(self) -> None:
        """A new owner: this relay's speakers enter its booths again, the active ones first."""
        ordered = sorted(
            self._local.items(), key=lambda item: self._active.get(item[1][0]) != item[0]
        )
        for speaker_id, (language, _) in ordered:
            place = {"language": language, "speaker": speaker_id, "who": self.names.get(speaker_id)}
            self._post(BoothCommand(op="enter", resume=True, **place))
        # Commands the dead owner never answered: the new one answers them.
        for command in list(self._pending.values()):
            self._post(command)
