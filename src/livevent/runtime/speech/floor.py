"""The floor's frames on their way to the pipeline's loop, in order.

Each 20 ms frame goes through the VAD as it arrives (on the event loop); what the
loop needs of it is queued: an utterance's onset (with the frames just before it),
each frame while someone speaks, and the utterance's end. Silence queues nothing,
so the loop decodes nothing on it.

In streaming mode the recogniser keeps the utterance's audio; the VAD keeps only
its onset and length (a 600 s talk without a pause was held twice before).
"""

from __future__ import annotations

import asyncio
from collections import deque

from livevent.runtime.engines.vad import Segmenter, Utterance
from livevent.runtime.media.audio import FRAME_BYTES
from livevent.runtime.speech.streaming import BYTES_PER_SECOND, StreamingRecognizer
from livevent.runtime.speech.timing import MediaClock

FRAME_SECONDS = 0.02


class FloorInput:
    def __init__(self, clock: MediaClock, *, keep_audio: bool, max_seconds: float) -> None:
        self.clock = clock
        self.segmenter = Segmenter(max_seconds=max_seconds, keep_audio=keep_audio)
        # (kind, pcm, media time): begin (the onset, padded), audio (a frame), end (the
        # utterance, at its start); an utterance's end comes as it is (Utterance).
        self._queue: deque[tuple[str, bytes, float] | Utterance] = deque()
        self._wake = asyncio.Event()
        self._frames = 0

    @property
    def speaking(self) -> bool:
        return self.segmenter.speaking

    @property
    def queued(self) -> bool:
        return bool(self._queue)

    def frame(self, frame: bytes) -> None:
        """One floor frame (called on the event loop for every frame, in order)."""
        if len(frame) != FRAME_BYTES:
            return
        self._frames += 1
        media_end = self._frames * FRAME_SECONDS
        self.clock.arrived(media_end)
        was_speaking = self.segmenter.speaking
        utterance = self.segmenter.push(frame)
        if self.segmenter.speaking and not was_speaking:
            onset = self.segmenter.current()
            self._queue.append(("begin", onset, media_end - len(onset) / BYTES_PER_SECOND))
            self._wake.set()
        elif was_speaking:
            self._queue.append(("audio", frame, media_end))
            if utterance is not None:
                self._ended(utterance)
            elif self._frames % 10 == 0:
                self._wake.set()

    def end_of_speech(self) -> None:
        """The floor speaker stopped or left: what was said so far is an utterance."""
        utterance = self.segmenter.finish()
        if utterance is not None:
            self._ended(utterance)

    def _ended(self, utterance: Utterance) -> None:
        self._queue.append(utterance)
        self._wake.set()

    async def wait(self, within: float | None = None) -> bool:
        """Until something is queued (True), or `within` seconds passed first (False)."""
        if self._queue:
            return True
        self._wake.clear()
        try:
            async with asyncio.timeout(within):
                await self._wake.wait()
        except TimeoutError:
            return False
        return True

    def take(self, recognizer: StreamingRecognizer | None) -> Utterance | None:
        """Move queued audio into the recogniser; the utterance if one ended."""
        while self._queue:
            item = self._queue.popleft()
            if isinstance(item, Utterance):
                return item
            kind, pcm, media_time = item
            if recognizer is None:
                continue  # utterance decoding waits for the whole utterance
            if kind == "begin":
                recognizer.begin(max(0.0, media_time), pcm)
            else:
                recognizer.push(pcm)
        return None
