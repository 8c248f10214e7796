"""Every bus key and pub/sub channel name, built in one place (ARCHITECTURE.md's table)."""

from __future__ import annotations

from livevent.model.hosts import address_key
from livevent.model.ids import parse_event_id

EVENTS_CHANNEL = "events"


def event_config(event_id: int) -> str:
    return f"event:{event_id}:config"


def event_change(event_id: int, change: str) -> str:
    """The message published on `events`: `event:{id}:UPDATED`, `event:{id}:CANCELLED`, ..."""
    return f"event:{event_id}:{change}"


def parse_event_change(message: str) -> tuple[int, str] | None:
    """`event:123457:CANCELLED` -> (123457, "CANCELLED"); None for anything else."""
    parts = message.split(":")
    event_id = parse_event_id(parts[1]) if len(parts) == 3 else None
    if event_id is None or parts[0] != "event" or not parts[2]:
        return None
    return event_id, parts[2]


def live_state(event_id: int) -> str:
    return f"live:event:{event_id}:state"


def live_listeners(event_id: int) -> str:
    return f"live:event:{event_id}:listeners"


def live_channels(event_id: int) -> str:
    return f"live:event:{event_id}:channels"


def live_connections(event_id: int, language: str) -> str:
    return f"live:event:{event_id}:channel:{language}:connections"


def rate_ip(ip: str) -> str:
    """An address's counters: IPv6 counted by its /64 (model.hosts.address_key)."""
    return f"rate:ip:{address_key(ip)}"


def rate_customer(customer_id: int, what: str) -> str:
    """What one customer did in a window (`invitations`, `new-people`), for its caps."""
    return f"rate:customer:{customer_id}:{what}"


def rate_delegate(subject: str, what: str) -> str:
    """What one holder of a single event's grant did in a window, for their own cap."""
    return f"rate:delegate:{subject}:{what}"


def rate_notes(event_id: int, sender: str) -> str:
    """Booth notes one person sent in a window."""
    return f"rate:notes:{event_id}:{sender}"


def live_channel_stats(event_id: int, language: str, instance: str) -> str:
    """One instance's counters of a channel (frames, drops, latency) for `livevent stats`."""
    return f"live:event:{event_id}:channel:{language}:stats:{instance}"


def login_attempts(email_digest: str) -> str:
    """Login attempts for one email (by digest) since its last success, in a window."""
    return f"rate:login:{email_digest}"


def live_owner(event_id: int) -> str:
    """The instance that runs the event's pipelines: a lock with a TTL, renewed while alive."""
    return f"live:event:{event_id}:owner"


def live_out(event_id: int, language: str) -> str:
    """Pub/sub (bytes): what the owner sends a channel's listeners, for other instances."""
    return f"live:event:{event_id}:channel:{language}:out"


def live_in(event_id: int, language: str) -> str:
    """Pub/sub (bytes): a speaker's PCM that reached another instance, for the owner."""
    return f"live:event:{event_id}:channel:{language}:in"


def live_listeners_share(event_id: int, instance: str) -> str:
    """One instance's share of `live:event:{id}:listeners` (hash lang -> count)."""
    return f"live:event:{event_id}:listeners:{instance}"


def live_instances(event_id: int) -> str:
    """The instances serving the event (set), so a dead one's share can be taken out."""
    return f"live:event:{event_id}:instances"


def instance_alive(instance: str) -> str:
    """An instance's heartbeat (TTL): where it listens and since when."""
    return f"live:instance:{instance}"


def live_notes(event_id: int) -> str:
    """Pub/sub (JSON): notes between the booths, the floor and the organizer (chat, signals)."""
    return f"live:event:{event_id}:notes"


def live_booth(event_id: int) -> str:
    """Pub/sub (JSON): speakers' commands to the owner's booths, and their states back."""
    return f"live:event:{event_id}:booth"


def live_workers() -> str:
    """The speech workers that registered (set of names); a name without a heartbeat is gone."""
    return "live:workers"


def worker_alive(worker: str) -> str:
    """A speech worker's heartbeat (TTL): its slots, jobs and load (runtime/workers)."""
    return f"live:worker:{worker}"


def worker_offers(worker: str) -> str:
    """Pub/sub (JSON): owners offer a speech worker their event's speech job."""
    return f"live:worker:{worker}:offers"


def speech_job(event_id: int) -> str:
    """The speech worker that runs the event's speech job: a lock with a TTL, renewed."""
    return f"live:event:{event_id}:speech"


def speech_in(event_id: int) -> str:
    """Pub/sub (bytes): the owner's frames and channel states, for the event's speech worker."""
    return f"live:event:{event_id}:speech:in"


def speech_out(event_id: int) -> str:
    """Pub/sub (bytes): the speech worker's captions, speech and job state, for the owner."""
    return f"live:event:{event_id}:speech:out"
