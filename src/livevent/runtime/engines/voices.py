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

# Round-trip WER, Whisper base, 20 sentences each (benchmarks/voices.py, 2026-11-28).
RANKING: dict[str, tuple[str, ...]] = {
    "en": ("piper", "pico", "espeak"),
    "es": ("pico", "espeak"),
    "ca": ("festival", "espeak"),
    "fr": ("pico", "espeak"),
    "it": ("pico", "espeak"),
    "de": ("pico", "espeak"),
}
FALLBACK = "espeak"


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
