"""Settings by job: each group is a set of flat settings (a top-level TOML key and a
`LIVEVENT_*` variable each), so grouping them changes no name anyone configured."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator

from livevent.model.hosts import good_host

APP_NAME = "livevent"
# Good enough on one laptop, never anywhere else: the runtime will refuse a
# non-loopback address while it is in use.
EXAMPLE_SECRET = "livevent-example-secret-change-me-before-going-live-0123456789"

LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR"],
    BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
]


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'livevent.db'}"


class StoreSettings(BaseModel):
    """The store and what is written down: the database, transcripts' spool, recordings."""

    database_url: str = Field(
        default_factory=default_database_url,
        description="store URL: sqlite:///PATH (embedded) or postgresql://USER@HOST:PORT/DB",
    )
    database_pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connections")
    spool_dir: Path = Field(
        default_factory=lambda: data_dir() / "spool",
        description="folder of the on-disk queue that keeps transcript segments until the"
        " store has them (one file per store; instances on one host may share it)",
    )
    recordings_dir: Path = Field(
        default_factory=lambda: data_dir() / "recordings",
        description="folder where the owner instance records every channel as Ogg Opus"
        " (shared storage when instances run on several hosts)",
    )
    record: bool = Field(True, description="record every channel of live events")
    hls: bool = Field(
        True,
        description="package every channel of live events as HLS (AAC audio renditions,"
        " WebVTT subtitles) under /hls/, for a CDN and the players of streaming platforms;"
        " kept after the event as its archive",
    )
    hls_dir: Path | None = Field(
        None,
        description="folder of the HLS renditions (default: recordings_dir/hls; shared"
        " storage when instances run on several hosts, as recordings_dir)",
    )
    hls_segment_seconds: float = Field(
        1.0, ge=0.5, le=6.0, description="seconds of audio per HLS segment"
    )
    hls_link_ttl: int = Field(
        6 * 3600,
        ge=60,
        le=7 * 86400,
        description="seconds a private event's signed HLS address stays good",
    )
    recordings_retention_days: float = Field(
        30.0, ge=0, description="days recordings are kept after they end (0: forever)"
    )
    default_customer: str = Field(
        "default", description="customer that events created without one belong to"
    )


def base_url(value: str | None, *, example: str) -> str | None:
    """An http(s) base URL without query or fragment, without its trailing slash."""
    if value is None:
        return None
    parsed = urlsplit(value.strip())
    if parsed.scheme not in ("http", "https") or not good_host(parsed.netloc):
        raise ValueError(f"{value!r} is not an http(s) URL such as {example}")
    if parsed.query or parsed.fragment:
        raise ValueError(f"{value!r} has a query or fragment: give the base URL only")
    return value.strip().rstrip("/")


class BusSettings(BaseModel):
    """The bus (Redis or the in-memory twin), the config cache and the instances on it."""

    redis_url: str = Field(
        "memory://", description="bus URL: memory:// (one process) or redis://HOST:PORT/DB"
    )
    redis_prefix: str = Field(
        "", description="prefix for every Redis key and channel, to share one Redis"
    )
    config_cache_ttl: float = Field(
        60.0, gt=0, description="seconds an event config lives in the shared cache (Redis)"
    )
    config_local_ttl: float = Field(
        5.0, ge=0, description="seconds an event config lives in each process's own cache"
    )
    owner_lock_ttl: float = Field(
        3.0,
        ge=0.5,
        le=60,
        description="seconds an instance holds an event after its last renewal (failover time)",
    )
    instance_name: str | None = Field(
        None, max_length=100, description="this instance's name in stats (default: host:pid)"
    )
    peer_url: str | None = Field(
        None,
        description="where the other instances reach this one directly (http://HOST:PORT), for"
        " live audio that goes on while Redis is down (default: the address `serve` listens on,"
        " this machine's host name when that is every address)",
    )

    @field_validator("peer_url")
    @classmethod
    def _peer_url(cls, value: str | None) -> str | None:
        return base_url(value, example="http://10.0.0.5:8080")


class AuthSettings(BaseModel):
    """Tokens, logins, invitation links and the mail that carries them."""

    auth_secret: SecretStr = Field(
        SecretStr(EXAMPLE_SECRET),
        description="HS256 secret that signs and checks tokens; change it for any real use",
    )
    auth_public_key_file: Path | None = Field(
        None, description="PEM public key (RS256/ES256) of another service that issues tokens"
    )
    auth_jwks_file: Path | None = Field(
        None, description="JWKS file of another service that issues tokens"
    )
    auth_audience: str = Field("livevent", description="the `aud` tokens must carry")
    auth_issuer: str = Field("livevent", description="the `iss` tokens must carry")
    access_token_ttl: int = Field(
        900, ge=30, le=86400, description="seconds an access token from a login is good for"
    )
    refresh_token_ttl: int = Field(
        14 * 86400, ge=60, description="seconds a refresh token from a login is good for"
    )
    invite_link_ttl: int = Field(
        7 * 86400,
        ge=300,
        le=90 * 86400,
        description="seconds an invitation's one-time sign-in link stays usable",
    )
    smtp_url: SecretStr | None = Field(
        None,
        description="mail server for invitations: smtp://[USER:PASSWORD@]HOST[:PORT]"
        " (STARTTLS when offered) or smtps://...; when set, sign-in links go by mail to the"
        " invitee and never to the inviter",
    )
    smtp_from: str = Field(
        "livevent@localhost", max_length=254, description="the From address of livevent's mail"
    )


class SpeechSettings(BaseModel):
    """Live channels: machine interpretation, interpreters, rehearsals and endings."""

    interpretation: Literal["simultaneous", "consecutive"] = Field(
        "simultaneous",
        description="machine channels of events that name no mode: simultaneous follows"
        " the speaker a few seconds behind; consecutive speaks whole sentences at pauses",
    )
    decode_every: float = Field(
        0.5,
        ge=0.25,
        le=2.0,
        description="seconds of new speech between two decodes of a speaker at the most"
        " (longer when decoding is slow): 0.75 costs about a fifth less recognition and"
        " brings captions about 0.1 s later",
    )
    speech: Literal["local", "workers"] = Field(
        "local",
        description="where live events' speech work runs: local (in the instance that owns"
        " the event) or workers (`livevent worker` processes, each event placed on the one"
        " with the most free slots; without a free slot its machine channels say so)",
    )
    worker_slots: int | None = Field(
        None,
        ge=1,
        le=256,
        description="events one `livevent worker` takes at once (default: half its cores,"
        " at least one; docs/deployment.md has the measurements)",
    )
    interpreter_captions: bool = Field(
        True,
        description="recognise each interpreter's voice for their channel's captions and the"
        " transcript (one more speech recogniser per interpreter on air)",
    )
    fallback_after_silence: float = Field(
        15.0,
        ge=0,
        le=600,
        description="a channel with fallback=machine whose interpreter is on air but silent"
        " this long while the floor speaks gets the machine until they speak (0: never)",
    )
    engine_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='options per engine, by "stage.name": {"mt.libretranslate": {"url": ...}}',
    )
    channel_idle_pause: float = Field(
        30.0,
        ge=0,
        description="seconds without listeners before a channel's pipeline pauses (unless it"
        " is recorded: the recording holds what it said)",
    )
    rehearsal_idle_seconds: float = Field(
        120.0,
        ge=1,
        le=86_400,
        description="a rehearsal (speakers joined before the event is live) nobody has spoken"
        " in for this long closes; the event stays as it was",
    )
    finish_machine_seconds: float = Field(
        20.0,
        ge=0,
        le=300,
        description="when an event ends, machine channels speak what the floor said for as"
        " long as they keep saying something; this long without a word or a sound from them"
        " and it closes anyway (at most six times this in all)",
    )
    finish_human_seconds: float = Field(
        3.0,
        ge=0,
        le=60,
        description="when an event ends, how long interpreters on air may finish their sentence",
    )


class LimitSettings(BaseModel):
    """What one address, customer, delegate or token may do in a while."""

    invitations_per_customer_per_hour: int = Field(
        200, ge=0, description="invitations one customer's events may send an hour (0: no cap)"
    )
    new_people_per_customer_per_hour: int = Field(
        50, ge=0, description="people invitations may create for one customer an hour (0: no cap)"
    )
    invitations_per_delegate_per_hour: int = Field(
        30,
        ge=0,
        description="invitations one person with a single event's manage grant may send an"
        " hour (0: no cap)",
    )
    login_failures_per_account: int = Field(
        5, ge=1, description="failed logins for one email before it is locked for a while"
    )
    login_lockout_seconds: int = Field(
        900, ge=1, description="how long an email stays locked after too many failed logins"
    )
    login_attempts_per_ip_per_minute: int = Field(
        30, ge=0, description="login attempts one address may make a minute (0: no limit)"
    )
    api_requests_per_ip_per_minute: int = Field(
        600, ge=0, description="HTTP API requests one address may make a minute (0: no limit)"
    )
    joins_per_ip_per_minute: int = Field(
        120, ge=0, description="WebSocket joins one address may make a minute (0: no limit)"
    )
    staff_feeds_per_token: int = Field(
        4,
        ge=1,
        le=100,
        description="feeds one staff token (organizer, speaker, interpreter) may listen to at"
        " once on an instance: staff pass the listener limit, so each has only a few",
    )
    listener_send_buffer_bytes: int = Field(
        65536,
        ge=0,
        le=16 * 1024 * 1024,
        description="kernel send buffer of each listener's socket (0: the system's own,"
        " often megabytes); it bounds what a stalled listener holds",
    )


class DeploymentSettings(BaseModel):
    """Where the server listens, the proxies in front, the address people use, and logs."""

    host: str = Field("127.0.0.1", description="address the HTTP server listens on")
    port: int = Field(8080, ge=0, le=65535, description="port the HTTP server listens on")
    role: Literal["api", "live", "all"] = Field(
        "all",
        description="what `livevent serve` runs: api (the event API and the console), live"
        " (the live runtime: /listen, /speak, /live) or all; each role scales on its own",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of the reverse proxies in front (none by default):"
        " only from them, the client's address, scheme and host are read from the"
        ' forwarded_header family; e.g. ["127.0.0.1"]',
    )
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = Field(
        "x-forwarded-for",
        description="the one header family the proxies write (nginx's real_ip_header):"
        " x-forwarded-for (with X-Forwarded-Proto/-Host) or forwarded (RFC 7239); the other"
        " is ignored",
    )
    trusted_hops: int = Field(
        1,
        ge=1,
        le=10,
        description="how many proxies of ours stand in front: the client is the address that"
        " many entries from the right of the forwarded chain (what a client wrote before it"
        " counts for nothing)",
    )
    public_url: str | None = Field(
        None,
        description="base URL people reach this server at; links, QR codes and mails use it."
        " Unset, links are built only on a Host that is an IP address, localhost or one of"
        " allowed_hosts, and no invitation is mailed",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="host names (with a port if any) a request may name for the links built"
        ' while public_url is unset; e.g. ["live.example.org"]',
    )
    event_service_url: str | None = Field(
        None,
        description="the event service's HTTP API when the runtime runs apart from the store",
    )
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: Literal["text", "json"] = Field(
        "text", description="text for people, json (one object a line) for log collectors"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        checked = []
        for value in values:
            try:
                checked.append(str(ipaddress.ip_network(value.strip(), strict=False)))
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or network") from None
        return checked

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return base_url(value, example="https://live.example.org")

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, values: list[str]) -> list[str]:
        for value in values:
            if good_host(value) is None:
                raise ValueError(f"{value!r} is not a host name (with an optional port)")
        return [value.lower() for value in values]
