"""What an event's owner and its speech worker say to each other, typed both ways.

On `speech_in` the owner sends the floor's and the interpreters' PCM frames, when a
speaker's utterance ended, and every half second the channels' state (who is on air,
who listens); the state is whole each time, so a lost message is mended by the next.
On `speech_out` the worker sends the machine channels' speech frames, captions and
what listeners are told, and its job's state. One bytes channel each way keeps frames
and the messages about them in order: `F` + language + PCM, or `J` + JSON.

A worker's heartbeat (`WorkerReport`) says what it holds and how loaded it is; an
owner offers it a job with a `JobOffer` on its offers channel.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, computed_field

FRAME_TAG = b"F"
JSON_TAG = b"J"
LANGUAGE_MAX = 35


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_bytes(self) -> bytes:
        return JSON_TAG + self.model_dump_json(exclude_none=True).encode()


# -- owner -> worker -----------------------------------------------------------------


class ChannelView(_Message):
    on_air: bool = False  # a person speaks the channel (the floor speaker, an interpreter)
    paused: bool = True  # nobody listens, nor records it: no work for it
    listeners: bool = False


class OwnerState(_Message):
    """The owner's channels as the speech work needs them, sent whole every half second."""

    t: Literal["state"] = "state"
    owner: str = Field(max_length=200)
    rehearsing: bool = False
    origin: float | None = None  # when the recordings began (epoch seconds): the SRT clock
    channels: dict[str, ChannelView] = Field(default_factory=dict)
    seq: int = Field(0, ge=0)  # messages the owner sent, this one included


class SpeechEnded(_Message):
    """The speaker of `language` stopped, left or muted: what they said is an utterance."""

    t: Literal["ended"] = "ended"
    language: str = Field(max_length=LANGUAGE_MAX)


class Reconfigured(_Message):
    """Channels were added while live: read the event's config again."""

    t: Literal["config"] = "config"


class StopJob(_Message):
    """The event ended or its session closed: the job is over."""

    t: Literal["stop"] = "stop"


# -- worker -> owner -----------------------------------------------------------------


class CaptionOut(_Message):
    t: Literal["caption"] = "caption"
    language: str = Field(max_length=LANGUAGE_MAX)
    caption: dict[str, Any]


class Flush(_Message):
    t: Literal["flush"] = "flush"
    language: str = Field(max_length=LANGUAGE_MAX)


class Playing(_Message):
    t: Literal["playing"] = "playing"
    language: str = Field(max_length=LANGUAGE_MAX)
    on: bool


class StandingIn(_Message):
    t: Literal["standing_in"] = "standing_in"
    language: str = Field(max_length=LANGUAGE_MAX)
    on: bool


class Tell(_Message):
    """What the channel's listeners are told: a problem, a note, a warning, or which
    interpreter a relayed channel translates now (`relay`; None: the floor)."""

    t: Literal["tell"] = "tell"
    language: str = Field(max_length=LANGUAGE_MAX)
    what: Literal["problem", "note", "warning", "relay"]
    text: str | None = Field(None, max_length=2000)


JobPhase = Literal["starting", "ready", "refused", "draining", "released", "dropped"]


class JobState(_Message):
    """The worker's job of the event: its phase, and every half second how it goes."""

    t: Literal["job"] = "job"
    worker: str = Field(max_length=200)
    phase: JobPhase
    problem: str | None = Field(None, max_length=2000)  # the machine channels cannot run
    busy: bool = False
    finished: bool = True
    upto: int = Field(0, ge=0)  # the owner's last state (`seq`) read before this report
    stats: dict[str, Any] = Field(default_factory=dict)


ToWorker = Annotated[OwnerState | SpeechEnded | Reconfigured | StopJob, Field(discriminator="t")]
ToOwner = Annotated[
    CaptionOut | Flush | Playing | StandingIn | Tell | JobState, Field(discriminator="t")
]
_to_worker: TypeAdapter[OwnerState | SpeechEnded | Reconfigured | StopJob] = TypeAdapter(ToWorker)
_to_owner: TypeAdapter[CaptionOut | Flush | Playing | StandingIn | Tell | JobState] = TypeAdapter(
    ToOwner
)


def frame_message(language: str, pcm: bytes) -> bytes:
    tag = language.encode()
    return FRAME_TAG + bytes([len(tag)]) + tag + pcm


def read_frame(data: bytes) -> tuple[str, bytes] | None:
    """(language, PCM) of a frame message; None for anything else."""
    if not data.startswith(FRAME_TAG) or len(data) < 2:
        return None
    size = data[1]
    if size == 0 or size > LANGUAGE_MAX or len(data) < 2 + size:
        return None
    try:
        return data[2 : 2 + size].decode(), data[2 + size :]
    except UnicodeDecodeError:
        return None


def read_to_worker(data: bytes) -> OwnerState | SpeechEnded | Reconfigured | StopJob:
    """The owner's message, or ValueError saying why it is none."""
    if not data.startswith(JSON_TAG):
        raise ValueError("not a speech job message")
    try:
        return _to_worker.validate_json(data[1:])
    except ValidationError as error:
        raise ValueError(f"not a speech job message: {error.error_count()} problem(s)") from None


def read_to_owner(data: bytes) -> CaptionOut | Flush | Playing | StandingIn | Tell | JobState:
    """The worker's message, or ValueError saying why it is none."""
    if not data.startswith(JSON_TAG):
        raise ValueError("not a speech job message")
    try:
        return _to_owner.validate_json(data[1:])
    except ValidationError as error:
        raise ValueError(f"not a speech job message: {error.error_count()} problem(s)") from None


# -- the registry --------------------------------------------------------------------


class JobOffer(_Message):
    """An owner asks a worker to run its event's speech."""

    t: Literal["offer"] = "offer"
    event: int = Field(ge=1)
    owner: str = Field(max_length=200)


def read_offer(data: str) -> JobOffer | None:
    try:
        return JobOffer.model_validate_json(data)
    except ValidationError:
        return None


class WorkerReport(BaseModel):
    """A speech worker's heartbeat: what it holds and how loaded it is."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # a newer worker may say more

    name: str
    slots: int
    jobs: list[int] = Field(default_factory=list)
    load: float = 0.0  # the busier of its CPU share and its recognisers' real-time factor
    cpu: float = 0.0  # its process's CPU, in cores
    behind: float = 0.0  # the worst of its recognisers' real-time factors
    draining: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def free(self) -> int:
        return 0 if self.draining else max(0, self.slots - len(self.jobs))

    @classmethod
    def read(cls, data: str | None) -> WorkerReport | None:
        if not data:
            return None
        try:
            return cls.model_validate_json(data)
        except ValidationError:
            return None
