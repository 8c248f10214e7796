"""What a machine pipeline says about itself in `livevent stats` and /live/{id}/stats."""

from __future__ import annotations

from typing import Any, Protocol

from livevent.runtime.speech.channel_engines import ChannelEngines
from livevent.runtime.speech.interpreter import ChannelInterpreter
from livevent.runtime.speech.streaming import StreamingRecognizer


class Interpreting(Protocol):
    """What the stats read of a pipeline (pipeline.py)."""

    recognizer: StreamingRecognizer | None
    booths: dict[str, ChannelInterpreter]
    chosen: dict[str, ChannelEngines]

    @property
    def chunk(self) -> float: ...

    @property
    def overloaded(self) -> bool: ...

    @property
    def busy(self) -> bool: ...

    @property
    def degraded(self) -> bool: ...


def pipeline_stats(pipeline: Interpreting) -> dict[str, Any]:
    recognizer = pipeline.recognizer
    rtf = recognizer.real_time_factor() if recognizer else None
    return {
        "busy": pipeline.busy,
        "mode": "streaming" if recognizer else "utterances",
        "stt_ms": round((recognizer.decode_seconds if recognizer else 0.0) * 1000, 1),
        "stt_rtf": round(rtf, 3) if rtf is not None else None,
        "chunk_s": round(pipeline.chunk, 2),
        "degraded": pipeline.degraded,
        "overloaded": pipeline.overloaded,
        "buffer_s": round(recognizer.buffered, 2) if recognizer else 0.0,
        "channels": {
            language: {
                "mode": booth.mode,
                "voice": pipeline.chosen[language].voice_label,
                "route": pipeline.chosen[language].route,
                "degraded": pipeline.degraded,
                "mt_ms": round(booth.player.metrics.mt_ms, 1),
                "tts_ms": round(booth.player.metrics.tts_ms, 1),
                "first_audio_ms": round(booth.player.metrics.first_audio_ms, 1),
                "evs_s": _rounded(booth.player.metrics.ear_voice_span.value()),
                # Behind whom: the floor, or the interpreter a relayed channel translates.
                "evs_from": booth.source,
                "backlog_s": round(booth.player.backlog(), 2),
                "skipped": booth.player.metrics.skipped,
            }
            for language, booth in pipeline.booths.items()
        },
    }


def _rounded(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None
