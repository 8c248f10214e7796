"""What the speech pipeline may do to a session's channels (its `PipelineHost` side):
captions, speech flushed, a channel's state and what listeners are told of it."""

from __future__ import annotations

import asyncio
import time

from livevent.runtime.live.channels import ON_AIR_LINGER, ChannelState
from livevent.runtime.wire import Announcement, BoothNote, Caption


class ChannelHost:
    """Mixed into `LiveSession`: its channels as the pipeline sees them."""

    channels: dict[str, ChannelState]

    @property
    def role(self) -> str:
        raise NotImplementedError

    def speak(self, language: str, frame: bytes) -> None:
        """The machine's speech: to the channel's listeners, never to a recogniser (an
        interpreter's silence is watched on their own frames only)."""
        self.channels[language].hub.push(frame, None)

    def announce_here(self, note: BoothNote) -> None:
        """The organizer's message to every listener: the owner sends it on every channel
        (relays pass it on), so each listener gets it once."""
        if self.role != "owner" or note.text is None:
            return
        message = Announcement(text=note.text, at=note.at)
        for state in self.channels.values():
            state.hub.send(message)

    def _notify(self, language: str) -> None:
        raise NotImplementedError  # the session tells the channel's listeners

    def retell(self, language: str) -> None:
        """The channel's listeners hear its status again (its machine's state changed)."""
        self._notify(language)

    def caption(self, language: str, caption: Caption) -> None:
        self.channels[language].hub.send(caption)

    def flush(self, language: str) -> None:
        self.channels[language].hub.flush()

    def interpreting(self) -> bool:
        """Whether the machine is at work on speech it heard (the session knows)."""
        return False

    @property
    def machine_ready(self) -> bool:
        raise NotImplementedError

    def channel_state(self, language: str) -> str:
        """What listeners are told of the channel: live, waiting, paused or unavailable."""
        state = self.channels[language]
        return state.on_air(machine_ready=self.machine_ready, interpreting=self.interpreting())

    def set_playing(self, language: str, playing: bool) -> None:
        """A machine channel started or finished speaking a translation."""
        state = self.channels[language]
        state.playing = playing
        if not playing:
            # Between two sentences of continuous speech the channel is still on air:
            # listeners are told it waits only once it stays quiet and nothing is left to
            # interpret (it flipped every 1-2 s, then 15 times in 4 minutes).
            state.quiet_since = time.monotonic()
            self._recheck(language, self._state_of(language), ON_AIR_LINGER + 0.05)
        self._notify(language)  # who speaks may have changed with it (a stand-in ended)

    def _state_of(self, language: str) -> str:
        return self.channels[language].on_air(machine_ready=True, interpreting=self.interpreting())

    def _recheck(self, language: str, was: str, after: float) -> None:
        asyncio.get_running_loop().call_later(after, self._notify_if_changed, language, was)

    def _notify_if_changed(self, language: str, was: str) -> None:
        state = self.channels.get(language)
        if state is None or state.playing:
            return  # speaking again: it said so when it started
        now = self._state_of(language)
        if now != was:
            self._notify(language)
        elif now == "live" and self.interpreting():
            self._recheck(language, now, 1.0)  # on air while the machine works: look again

    def set_problem(self, language: str, problem: str) -> None:
        """A machine channel cannot run, and says why."""
        self.channels[language].problem = problem

    def set_note(self, language: str, note: str) -> None:
        self.channels[language].note = note
        self._notify(language)

    def set_warning(self, language: str, warning: str) -> None:
        self.channels[language].warning = warning
        self._notify(language)

    def set_relay(self, language: str, origin: str | None) -> None:
        self.channels[language].relayed_from = origin
        self._notify(language)

    def is_paused(self, language: str) -> bool:
        # A recorded channel keeps working: its recording holds what it said, listened
        # to or not (the recorder hears the hub as a listener would).
        state = self.channels[language]
        return state.paused and state.hub.recorder is None

    def has_listeners(self, language: str) -> bool:
        return bool(self.channels[language].hub.listeners)
