"""Who is where on the bus: listener counts, speaker slots, stats rounds, and key cleanup.

Every instance serving a live event keeps its own share of the listener counts
(rebuilt from its own connections every round, so a Redis restart heals), renews
the speaker slots of the channels whose speaker it has, publishes its per-channel
counters, and retires the shares of instances whose heartbeat stopped. `read_stats`
is the one reader of what they publish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from livevent.aio import raise_if_cancelled
from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.runtime.cluster.messages import Heartbeat
from livevent.runtime.live.channels import ChannelState

log = logging.getLogger(__name__)

STATS_PERIOD = 1.0
# After a bus outage (a Redis restart keeps nothing), heartbeats take a moment to be
# written again: nobody is declared gone until the bus has answered this long.
SETTLE_SECONDS = 6.0


class Presence:
    """This instance's part in the shared counts of one live event."""

    def __init__(
        self,
        *,
        bus: Bus,
        event_id: int,
        instance: str,
        channels: dict[str, ChannelState],
        idle_pause: float,
        on_gone: Callable[[str], None] | None = None,
        sound_check: Callable[[], bool] = lambda: False,
    ) -> None:
        self.bus = bus
        # A rehearsal is the sound check: its channels work with nobody listening (the
        # organizer sees the machine channels run before going live).
        self._sound_check = sound_check
        self.event_id = event_id
        self.instance = instance
        self.channels = channels
        self.idle_pause = idle_pause
        self._on_gone = on_gone  # an instance's heartbeat lapsed: its speakers leave
        self._bus_up_since: float | None = None  # since when every round reached the bus
        self._missing: set[str] = set()  # instances whose heartbeat one round did not see
        # The counts of every instance as last read: kept through an outage of the bus,
        # so the owner goes on encoding for relays' listeners (they hear it over the line).
        self._everywhere: dict[str, int] = {}

    async def announce(self) -> None:
        await self.bus.sadd(keys.live_instances(self.event_id), self.instance)

    # -- listeners ------------------------------------------------------------------

    async def admit(self, language: str, listener_id: str, limit: int | None) -> bool:
        """Count a listener in, unless the event is at its limit (across every instance)."""
        try:
            admitted = await self.bus.hincr_shared(
                keys.live_listeners(self.event_id),
                keys.live_listeners_share(self.event_id, self.instance),
                language,
                1,
                limit=limit,
            )
        except LiveventError as error:
            # The bus is down: serve the listener; the counts are rebuilt when it is back.
            log.warning("admitting a listener uncounted: %s", error)
            return True
        if admitted:
            with contextlib.suppress(LiveventError):
                await self.bus.sadd(keys.live_connections(self.event_id, language), listener_id)
        return admitted

    async def discharge(self, language: str, listener_id: str) -> None:
        with contextlib.suppress(LiveventError):
            await self.bus.hincr_shared(
                keys.live_listeners(self.event_id),
                keys.live_listeners_share(self.event_id, self.instance),
                language,
                -1,
            )
            await self.bus.srem(keys.live_connections(self.event_id, language), listener_id)

    # -- the stats round ------------------------------------------------------------

    async def publish_stats(
        self, snapshot: Callable[[], dict[str, Any]], role: Callable[[], str]
    ) -> None:
        """Every second: heal the counts, renew slots, publish counters, update pauses."""
        event_id = self.event_id
        total = keys.live_listeners(event_id)
        share = keys.live_listeners_share(event_id, self.instance)
        while True:
            raise_if_cancelled()
            try:
                # Exact counts again after a Redis restart, from our own connections.
                here = {language: audience(s) for language, s in self.channels.items()}
                await self.bus.reconcile_share(total, share, here)
                await self.announce()
                await self._retire_dead_instances()
                everywhere = {k: int(v) for k, v in (await self.bus.hgetall(total)).items()}
                self._everywhere = everywhere
                self.update_pauses(everywhere, owner=role() == "owner")
                for language, values in snapshot()["channels"].items():
                    stats_key = keys.live_channel_stats(event_id, language, self.instance)
                    await self.bus.hset(stats_key, {**_flat(values), "role": role()})
            except LiveventError as error:
                log.warning("could not publish live stats: %s", error)
                self._bus_up_since = None  # an outage of the bus is nobody's death
                self._missing.clear()
                self.update_pauses(self._everywhere, owner=role() == "owner", known=False)
            except Exception:
                # A bug here must not stop the counts from healing next time round.
                log.exception("live stats of event %s failed", event_id)
            await asyncio.sleep(STATS_PERIOD)  # the stats period, not a synchronisation

    def update_pauses(
        self, everywhere: Mapping[str, int], *, owner: bool, known: bool = True
    ) -> None:
        """A channel nobody listens to anywhere for `idle_pause` seconds pauses its work.

        Not `known` (the bus is down, `everywhere` is the last count read): nothing is
        turned off for want of listeners elsewhere; relays say over their lines whom
        they encode for."""
        now = time.monotonic()
        checking = self._sound_check()
        for language, state in self.channels.items():
            remote = everywhere.get(language, 0) - len(state.hub.listeners)
            if not known and state.hub.remote_audio:
                remote = max(remote, 1)
            state.hub.remote_audio = owner and remote > 0
            if state.hub.listeners or remote > 0 or checking:
                state.paused = False
                state.idle_since = None
            elif state.idle_since is None:
                state.idle_since = now
            elif now - state.idle_since >= self.idle_pause:
                state.paused = True

    async def _retire_dead_instances(self) -> None:
        """Take the instances whose heartbeat stopped out of the counts, and tell the
        session (their speakers leave their channels).

        Only while the bus has answered for `SETTLE_SECONDS`, and only an instance missed
        on two rounds in a row: a Redis restart wipes every heartbeat at once, and the
        instances write theirs again within a second or two.
        """
        now = time.monotonic()
        if self._bus_up_since is None:
            self._bus_up_since = now
        if now - self._bus_up_since < SETTLE_SECONDS:
            return
        event_id = self.event_id
        missing = set()
        for other in await self.bus.smembers(keys.live_instances(event_id)):
            if other == self.instance or await self.bus.get(keys.instance_alive(other)):
                continue
            missing.add(other)
            if other not in self._missing:
                continue  # seen missing once: wait for the next round to be sure
            log.warning("instance %s is gone: its listeners of event %s leave", other, event_id)
            await self.bus.retire_share(
                keys.live_listeners(event_id), keys.live_listeners_share(event_id, other)
            )
            await self.bus.srem(keys.live_instances(event_id), other)
            if self._on_gone is not None:
                self._on_gone(other)
        self._missing = missing

    # -- leaving --------------------------------------------------------------------

    async def leave_keys(self) -> None:
        """This instance stops serving a live event: take its share out, nothing else."""
        event_id = self.event_id
        try:
            await self.bus.retire_share(
                keys.live_listeners(event_id), keys.live_listeners_share(event_id, self.instance)
            )
            await self.bus.srem(keys.live_instances(event_id), self.instance)
            await self.bus.delete(
                *(keys.live_channel_stats(event_id, lang, self.instance) for lang in self.channels)
            )
        except LiveventError as error:
            log.warning("could not leave the live keys of event %s: %s", event_id, error)

    async def clean_keys(self) -> None:
        """The event is over: every live key of it goes, every instance's."""
        event_id = self.event_id
        try:
            instances = await self.bus.smembers(keys.live_instances(event_id)) | {self.instance}
            await self.bus.delete(
                keys.live_state(event_id),
                keys.live_listeners(event_id),
                keys.live_channels(event_id),
                keys.live_instances(event_id),
                *(keys.live_listeners_share(event_id, i) for i in instances),
                *(keys.live_connections(event_id, language) for language in self.channels),
                *(
                    keys.live_channel_stats(event_id, language, instance)
                    for language in self.channels
                    for instance in instances
                ),
            )
        except LiveventError as error:
            log.warning("could not clean the live keys of event %s: %s", event_id, error)


def audience(state: ChannelState) -> int:
    """The channel's listeners here, its staff's own feeds left out."""
    return sum(1 for listener in state.hub.listeners.values() if not listener.staff)


def _flat(values: Mapping[str, Any]) -> dict[str, str | int | float]:
    """What a bus hash holds: numbers and text; a flag is 0 or 1, an unknown is left out."""
    return {
        name: int(value) if isinstance(value, bool) else value
        for name, value in values.items()
        if isinstance(value, str | int | float)
    }


async def _spooled(bus: Bus, instance: str) -> int:
    """Transcript segments waiting in an instance's spool, from its heartbeat."""
    beat = Heartbeat.read(await bus.get(keys.instance_alive(instance)))
    return beat.spool if beat is not None else 0


async def read_stats(bus: Bus, event_id: int) -> dict[str, Any]:
    """What every instance published about a live event, and the totals per channel.

    `livevent stats` and `/live/{id}/stats` both read the bus through this.
    """
    status = await bus.get(keys.live_state(event_id))
    languages = sorted(await bus.smembers(keys.live_channels(event_id)))
    listeners = await bus.hgetall(keys.live_listeners(event_id))
    instances: dict[str, Any] = {}
    for instance in sorted(await bus.smembers(keys.live_instances(event_id))):
        share = await bus.hgetall(keys.live_listeners_share(event_id, instance))
        rows: dict[str, Any] = {}
        role = "?"
        for language in languages:
            values: dict[str, Any] = dict(
                await bus.hgetall(keys.live_channel_stats(event_id, language, instance))
            )
            role = values.pop("role", role)
            values["listeners"] = int(share.get(language, 0))
            rows[language] = values
        instances[instance] = {
            "role": role,
            "channels": rows,
            "spool": await _spooled(bus, instance),
        }
    channels = {}
    for language in languages:
        # The owner's view of each channel, with the listeners of every instance.
        owner: dict[str, Any] = next(
            (i["channels"][language] for i in instances.values() if i["role"] == "owner"), {}
        )
        channels[language] = {**owner, "listeners": int(listeners.get(language, 0))}
        # The speaker's microphone is measured where they connected, maybe not the owner.
        for name in ("input_level", "input_peak"):
            heard = [float(i["channels"][language].get(name, -1)) for i in instances.values()]
            channels[language][name] = max([-1.0, *heard])
    return {
        "event": event_id,
        "status": status or "OFFLINE",
        "channels": channels,
        "instances": instances,
        "listeners": {language: int(count) for language, count in listeners.items()},
    }
