"""Machine translation with Apertium: one warm pipeline per language pair.

The `apertium` wrapper starts a pipeline of programs per call (~140 ms). We run
the programs of the pair's mode file ourselves, once, each with `-z`
(null-flush): a sentence written with a trailing NUL comes back, translated,
up to a NUL, in 1-2 ms once warm. The input skips the deformatter, so it is
escaped for Apertium's stream format here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import time
from pathlib import Path
from typing import ClassVar

import langcodes

from livevent.errors import Unavailable
from livevent.runtime.engines.base import Translator

MODES_DIR = Path(os.environ.get("LIVEVENT_APERTIUM_MODES", "/usr/share/apertium/modes"))
_SPECIAL = re.compile(r"([\^$/<>\[\]{}\\@*])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def apertium_code(tag: str) -> str:
    """`en-US` -> `eng`, `ca-ES` -> `cat`: Apertium names pairs by ISO 639-3."""
    return str(langcodes.Language.get(tag).to_alpha3())


def available_pairs(modes_dir: Path = MODES_DIR) -> dict[tuple[str, str], Path]:
    """Installed pairs, by ISO 639-3 codes, without regional variants (eng-cat_valencia)."""
    pairs = {}
    if modes_dir.is_dir():
        for mode in modes_dir.glob("*.mode"):
            name = mode.stem
            if re.fullmatch(r"[a-z]{2,3}-[a-z]{2,3}", name):
                source, target = name.split("-")
                pairs[(source, target)] = mode
    return pairs


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
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


class ApertiumTranslator(Translator):
    name: ClassVar[str] = "apertium"

    def __init__(self, *, modes_dir: Path = MODES_DIR) -> None:
        super().__init__()
        self.pairs = available_pairs(modes_dir)
        self._warm: dict[tuple[str, str], _WarmPair] = {}

    def _mode(self, source: str, target: str) -> tuple[str, str]:
        return apertium_code(source), apertium_code(target)

    def supports(self, source: str, target: str) -> bool:
        return self._mode(source, target) in self.pairs

    async def translate(self, text: str, source: str, target: str) -> str:
        key = self._mode(source, target)
        if key not in self.pairs:
            installed = ", ".join(sorted(f"{a}-{b}" for a, b in self.pairs)) or "none"
            raise Unavailable(
                f"Apertium has no {key[0]}-{key[1]} pair installed (installed: {installed});"
                f" Debian: apt-get install apertium-{key[0]}-{key[1]}"
            )
        if not text.strip():
            return ""
        started = time.perf_counter()
        warm = self._warm.get(key)
        if warm is None:
            warm = self._warm[key] = _WarmPair(self.pairs[key])
        result = await warm.translate(text)
        self.metrics.record(started)
        return result

    async def aclose(self) -> None:
        for warm in self._warm.values():
            await warm.aclose()
        self._warm.clear()

    def describe(self) -> dict[str, object]:
        return {"pairs": sorted(f"{a}-{b}" for a, b in self.pairs)}
