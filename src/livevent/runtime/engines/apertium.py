"""Machine translation with Apertium: one warm pipeline per language pair, and routes.

The `apertium` wrapper starts a pipeline of programs per call (~140 ms). We run
the programs of the pair's mode file ourselves, once, each with `-z`
(null-flush): a sentence written with a trailing NUL comes back, translated,
up to a NUL, in 1-2 ms once warm. The input skips the deformatter, so it is
escaped for Apertium's stream format here.

Apertium has few pairs with English but many among Romance languages, so a
language without a direct pair is reached through one pivot (en -> es -> fr):
never more than one, as each hop loses a little. Spanish goes first as a pivot
(most pairs have it), then Catalan and English.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import ClassVar

import langcodes

from livevent.errors import Unavailable
from livevent.runtime.engines.base import Translator
from livevent.runtime.engines.processes import kill_group

MODES_DIR = Path(os.environ.get("LIVEVENT_APERTIUM_MODES", "/usr/share/apertium/modes"))
_SPECIAL = re.compile(r"([\^$/<>\[\]{}\\@*])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


PIVOTS = ("spa", "cat", "eng")
Hop = tuple[str, str]


def apertium_code(tag: str) -> str:
    """`en-US` -> `eng`, `ca-ES` -> `cat`: Apertium names pairs by ISO 639-3."""
    return str(langcodes.Language.get(tag).to_alpha3())


def available_pairs(modes_dir: Path = MODES_DIR) -> dict[Hop, Path]:
    """Installed pairs by ISO 639-3 codes (packages name them `es-fr` or `spa-ita`),
    without regional or other variants (eng-cat_valencia, eco-es-fr)."""
    pairs: dict[Hop, Path] = {}
    if modes_dir.is_dir():
        for mode in sorted(modes_dir.glob("*.mode")):
            if re.fullmatch(r"[a-z]{2,3}-[a-z]{2,3}", mode.stem):
                source, target = (apertium_code(code) for code in mode.stem.split("-"))
                # Where two packages give one pair, the three-letter one is the newer.
                if (source, target) not in pairs or len(mode.stem) > 5:
                    pairs[(source, target)] = mode
    return pairs


def find_route(pairs: Collection[Hop], source: str, target: str) -> list[Hop] | None:
    """The hops from `source` to `target` (ISO 639-3): direct, else through one pivot."""
    if source == target:
        return []
    if (source, target) in pairs:
        return [(source, target)]
    middles = {b for a, b in pairs if a == source} & {a for a, b in pairs if b == target}
    ranked = sorted(middles, key=lambda m: (PIVOTS.index(m) if m in PIVOTS else len(PIVOTS), m))
    return [(source, ranked[0]), (ranked[0], target)] if ranked else None


def pipeline_command(mode: Path) -> str:
    """The mode's shell pipeline with unknown words unmarked and every program null-flushing."""
    text = mode.read_text().strip().replace("$1", "-n").replace("$2", "")
    programs = [part.strip() for part in text.split("|")]
    return " | ".join(re.sub(r"^(\S+)", r"\1 -z", program) for program in programs)


class _WarmPair:
    def __init__(self, mode: Path) -> None:
        self.mode = mode
        self.process: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()

    async def translate(self, text: str) -> str:
        async with self.lock:
            if self.process is None or self.process.returncode is not None:
                self.process = await asyncio.create_subprocess_exec(
                    "bash",
                    "-c",
                    pipeline_command(self.mode),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.DEVNULL,
                    # Its own process group, so that closing kills every program of it.
                    start_new_session=True,
                )
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(escape(text).encode() + b"\n\0")
            await self.process.stdin.drain()
            try:
                out = await asyncio.wait_for(self.process.stdout.readuntil(b"\0"), 30)
            except (asyncio.IncompleteReadError, TimeoutError) as error:
                await self.aclose()
                raise Unavailable(f"Apertium ({self.mode.stem}) stopped answering") from error
            # Spacing is Apertium's formatting, not the translation: one space between words.
            return " ".join(out[:-1].decode().split())

    async def aclose(self) -> None:
        process, self.process = self.process, None
        await kill_group(process)


class ApertiumTranslator(Translator):
    name: ClassVar[str] = "apertium"

    def __init__(self, *, modes_dir: Path = MODES_DIR) -> None:
        super().__init__()
        self.pairs = available_pairs(modes_dir)
        self._warm: dict[tuple[str, str], _WarmPair] = {}

    def route(self, source: str, target: str) -> list[Hop] | None:
        """The pairs a translation goes through, by language tags (`en-US`, `fr-FR`)."""
        return find_route(self.pairs, apertium_code(source), apertium_code(target))

    def supports(self, source: str, target: str) -> bool:
        return self.route(source, target) is not None

    def unsupported(self, source: str, target: str) -> str:
        a, b = apertium_code(source), apertium_code(target)
        installed = ", ".join(sorted(f"{x}-{y}" for x, y in self.pairs)) or "none"
        return (
            f"Apertium has no {a}-{b} pair, nor a route through one pivot language"
            f" (installed: {installed}); Debian: apt-get install apertium-{a}-{b}"
        )

    async def _translate(self, text: str, source: str, target: str) -> str:
        hops = self.route(source, target)
        if hops is None:
            raise Unavailable(self.unsupported(source, target))
        if not text.strip():
            return ""
        for hop in hops:
            warm = self._warm.get(hop)
            if warm is None:
                warm = self._warm[hop] = _WarmPair(self.pairs[hop])
            text = await warm.translate(text)
        return text

    async def aclose(self) -> None:
        for warm in self._warm.values():
            await warm.aclose()
        self._warm.clear()

    def describe(self) -> dict[str, object]:
        languages = sorted({code for pair in self.pairs for code in pair})
        pivoted = {
            f"{a}-{b}": [f"{x}-{y}" for x, y in route]
            for a in languages
            for b in languages
            if (route := find_route(self.pairs, a, b)) is not None and len(route) == 2
        }
        return {"pairs": sorted(f"{a}-{b}" for a, b in self.pairs), "routes": pivoted}
