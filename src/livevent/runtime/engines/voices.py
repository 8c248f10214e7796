"""Which voice speaks a language: the most intelligible installed one, by measurement.

The ranking comes from `benchmarks/voices.py` (round trip: synthesise 20 sentences,
recognise them with Whisper base, word error rate against the text; see
docs/benchmarks.md). Any other language falls back to espeak-ng, which has ~100.

A channel may name its voice: an engine (`pico`), an engine and one of its voices
(`festival:upc_ca_ona_hts`, `espeak:es-419`), or, as before engines were ranked, a
voice of the channel's own engine (`es-419`).
"""

from __future__ import annotations

from collections.abc import Collection

# Round-trip WER through Whisper base, 20 meeting sentences written in each language
# (benchmarks/voices.py, 2026-11-28; docs/benchmarks.md). Best first:
#   en  pico 0.018, piper 0.031 (10x slower to synthesise), espeak 0.099
#   es  pico 0.005, espeak 0.401        ca  festival (ona) 0.157, espeak 0.713
#   fr  pico 0.059, espeak 0.804        it  pico 0.057, espeak 0.637
#   de  pico (not measured: no German pair to give a channel German)
#   pt  espeak 0.966 (the only voice: hard to follow); gl: no voice installed
RANKING: dict[str, tuple[str, ...]] = {
    "en": ("pico", "piper", "espeak"),
    "es": ("pico", "espeak"),
    "ca": ("festival", "espeak"),
    "fr": ("pico", "espeak"),
    "it": ("pico", "espeak"),
    "de": ("pico", "espeak"),
}
FALLBACK = "espeak"
# The same measurements, for what a channel tells its listeners and the organizer.
MEASURED_WER: dict[tuple[str, str], float] = {
    ("en", "pico"): 0.018,
    ("en", "piper"): 0.031,
    ("en", "espeak"): 0.099,
    ("es", "pico"): 0.005,
    ("es", "espeak"): 0.401,
    ("ca", "festival"): 0.157,
    ("ca", "espeak"): 0.713,
    ("fr", "pico"): 0.059,
    ("fr", "espeak"): 0.804,
    ("it", "pico"): 0.057,
    ("it", "espeak"): 0.637,
    ("pt", "espeak"): 0.966,
}
# Past this round-trip WER, listeners are told to lean on the captions.
HARD_TO_FOLLOW = 0.5


def ranked(language: str) -> tuple[str, ...]:
    """The text-to-speech engines to try for `language`, best first."""
    return RANKING.get(language.lower().split("-")[0], (FALLBACK,))


def parse_voice(voice: str | None, engines: Collection[str]) -> tuple[str | None, str | None]:
    """A channel's `voice` as (engine, the engine's own voice), either of them None."""
    if not voice:
        return None, None
    engine, colon, inner = voice.partition(":")
    if colon and engine in engines:
        return engine, inner or None
    if voice in engines:
        return voice, None
    return None, voice


def measured_wer(language: str, engine: str) -> float | None:
    """The engine's round-trip WER in `language`, where it was measured."""
    return MEASURED_WER.get((language.lower().split("-")[0], engine))


def voice_warning(language: str, engine: str) -> str | None:
    """What listeners and the organizer are told of a voice that is hard to follow."""
    wer = measured_wer(language, engine)
    if wer is None or wer <= HARD_TO_FOLLOW:
        return None
    return (
        f"the machine voice for this language ({engine}) is hard to follow:"
        f" {round((1 - wer) * 100)} % of its words are understood; read the captions"
    )
