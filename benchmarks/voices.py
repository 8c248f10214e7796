"""Which voice can a listener make out? Round trips through Whisper, per language (not a test).

For each language a machine channel speaks, 20 sentences of a meeting (written
in that language: benchmarks/texts/; with `--translated`, the English ones as
Apertium translates them, the words a channel really says) are synthesised by
every installed voice for it, recognised by Whisper base (the language given),
and compared with the text (lower case, no punctuation, ligatures unfolded).
Reported per language and engine, side by side:

  wer        word error rate of the round trip (lower: easier to follow)
  synth p50  synthesis time per sentence, median (warm engines)
  audio s    seconds of speech per sentence, median

The ranking in src/livevent/runtime/engines/voices.py comes from these numbers.

    python benchmarks/voices.py [--languages es-ES ca-ES ...] [--translated] [--rates 1 1.5]

With `--rates`, every voice is also heard sped up, as a booth that falls behind
speaks (interpreter.py caps the speed-up by these numbers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
import unicodedata
from pathlib import Path
from typing import Any

import jiwer

from livevent.errors import LiveventError
from livevent.runtime.engines import Engines, engine_classes

RESULTS = Path(__file__).parent / "results"
TEXTS = Path(__file__).parent / "texts"
# Plain sentences of a meeting, without numbers (Whisper writes digits, the text words);
# texts/en-US.txt is the English the other languages' texts were written from.
ENGLISH = (TEXTS / "en-US.txt").read_text(encoding="utf-8").splitlines()
LANGUAGES = ["es-ES", "ca-ES", "fr-FR", "it-IT", "en-US", "pt-PT", "gl-ES"]


def words(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.lower()).replace("\u2019", "'")
    text = text.replace("œ", "oe").replace("æ", "ae").replace("-", " ")
    return " ".join(re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text))


async def sentences_in(engines: Engines, language: str, *, translated: bool) -> list[str]:
    if language.startswith("en"):
        return list(ENGLISH)
    written = TEXTS / f"{language}.txt"
    if not translated and written.exists():
        return written.read_text(encoding="utf-8").splitlines()
    mt = await engines.mt()
    return [await mt.translate(text, "en-US", language) for text in ENGLISH]


async def voices_for(engines: Engines, language: str) -> list[str]:
    """Every installed engine that speaks `language`: the chosen one first."""
    chosen, _ = await engines.choose_voice(language)
    found = []
    for name in [chosen, *sorted(set(engine_classes("tts")) - {chosen})]:
        try:
            tts = await engines.tts(name)
        except LiveventError:
            continue
        if tts.supports(language):
            found.append(name)
    return found


async def round_trip(
    engines: Engines, language: str, engine: str, texts: list[str], rate: float = 1.0
) -> dict[str, Any]:
    tts = await engines.tts(engine)
    stt = await engines.stt()
    await tts.synthesize(texts[0], language)  # warm: a process started, a voice loaded
    synth_ms, seconds, heard = [], [], []
    for text in texts:
        started = time.perf_counter()
        pcm = await tts.synthesize(text, language, rate=rate)
        synth_ms.append((time.perf_counter() - started) * 1000)
        seconds.append(len(pcm) / 32000)
        heard.append((await stt.transcribe(pcm, language)).text)
    wer = jiwer.wer([words(t) for t in texts], [words(h) for h in heard])
    return {
        "language": language,
        "engine": engine,
        "rate": rate,
        "wer": round(wer, 3),
        "synth_p50_ms": round(statistics.median(synth_ms), 1),
        "audio_p50_s": round(statistics.median(seconds), 2),
        "pairs": [{"said": t, "heard": h} for t, h in zip(texts, heard, strict=True)],
    }


async def main(
    languages: list[str], translated: bool, rates: list[float], only: list[str] | None = None
) -> list[dict[str, Any]]:
    rows = []
    engines = Engines()
    try:
        for language in languages:
            texts = await sentences_in(engines, language, translated=translated)
            speaking = [e for e in await voices_for(engines, language) if not only or e in only]
            if not speaking:
                print(f"{language:6} no voice installed speaks it", flush=True)
                rows.append({"language": language, "engine": None})
            for engine, rate in ((e, r) for e in speaking for r in rates):
                row = await round_trip(engines, language, engine, texts, rate)
                rows.append(row)
                print(
                    f"{language:6} {engine:9} x{rate:<4} wer {row['wer']:.3f}"
                    f"  synth p50 {row['synth_p50_ms']:7.1f} ms  audio {row['audio_p50_s']} s",
                    flush=True,
                )
    finally:
        await engines.aclose()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--languages", nargs="+", default=LANGUAGES)
    parser.add_argument("--translated", action="store_true", help="Apertium's sentences")
    parser.add_argument(
        "--rates", nargs="+", type=float, default=[1.0], help="speaking rates (a booth speeds up)"
    )
    parser.add_argument("--engines", nargs="+", help="only these voices (default: every one)")
    args = parser.parse_args()
    results = asyncio.run(main(args.languages, args.translated, args.rates, args.engines))
    RESULTS.mkdir(exist_ok=True)
    name = "voices-translated.json" if args.translated else "voices.json"
    if args.rates != [1.0]:
        name = name.replace(".json", "-rates.json")
    (RESULTS / name).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
