"""How often the floor is decoded: as often as the machine allows, so work never piles up.

A slow decode stretches the period (degraded: captions lag); past `MAX_CHUNK` the
machine cannot interpret simultaneously at all, and the simultaneous booths turn
consecutive (whole sentences at pauses) until it can again.
"""

from __future__ import annotations

# Seconds of new speech between decodes at most. 0.5 against 0.75: captions 0.1 s
# closer and the onset earlier for a quarter more recognition on one event; with three
# events at once on 2 cores, where decodes slow down and the period grows either way,
# no later on any measure (docs/benchmarks.md, session 22).
MIN_CHUNK = 0.5
# ... and while a sentence's first unit is still to come to booths with nothing to say
# (the listener waits for its first sound, which waits for the unit's words to be
# committed, two decodes after they are heard): 0 decodes at `MIN_CHUNK` then too.
FIRST_UNIT_CHUNK = 0.3
MAX_CHUNK = 4.0
OVERLOADED_CHUNK = 8.0
DEGRADED_CHUNK = 2.0  # decoding this seldom, captions lag visibly: say so


class DecodePace:
    def __init__(self, min_chunk: float = MIN_CHUNK) -> None:
        self.min_chunk = min_chunk  # the shortest period: the deployment's decode_every
        self.chunk = min_chunk
        self.overloaded = False
        self.average = 0.0  # seconds a decode takes, smoothed

    @property
    def degraded(self) -> bool:
        return self.chunk >= DEGRADED_CHUNK

    @property
    def first_unit_chunk(self) -> float:
        """The period while a sentence's first unit is awaited: shorter, by the same rule
        as `chunk` (never faster than the decodes allow, never when overloaded)."""
        if not FIRST_UNIT_CHUNK or self.overloaded:
            return self.chunk
        return min(self.chunk, max(FIRST_UNIT_CHUNK, self.average * 1.5))

    def decoded(self, seconds: float) -> bool:
        """A decode took `seconds`: the next period. True when `overloaded` flipped."""
        # Smoothed: one slow decode (a busy neighbour) must not flip the channels'
        # mode; a machine that stays slow does.
        self.average += (seconds - self.average) * 0.3
        wanted = max(self.min_chunk, self.average * 1.5)
        overloaded = wanted > MAX_CHUNK
        # Overloaded, decode seldom: only to keep the buffer inside Whisper's window.
        self.chunk = OVERLOADED_CHUNK if overloaded else min(MAX_CHUNK, wanted)
        flipped = overloaded != self.overloaded
        self.overloaded = overloaded
        return flipped
