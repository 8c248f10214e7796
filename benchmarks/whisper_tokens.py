"""What Whisper's decoder costs a token, and whether a forced prefix is cheaper (not a test).

One streaming window (a 5.4 s espeak-ng sentence and the adapter's 5 s margin,
encoded once) is given to CTranslate2's `generate` again and again, one thread:

  max_length N   at most N tokens written: the cost of writing more tokens
  prefix K       the first K tokens of the decode forced after the task tokens: does
                 CTranslate2 take a forced prefix in one pass, or token by token?
  prompt K       K tokens of earlier text before <|startoftranscript|> (what the
                 recogniser gives as context): their cost

Medians of five calls each, seconds.

    python benchmarks/whisper_tokens.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from lag import espeak
from livevent.runtime.engines.whisper import short_window, whisper_base_dir

RESULTS = Path(__file__).parent / "results"
SENTENCE = (
    "The city council met on Tuesday to discuss the budget for next year"
    " and the new library near the station."
)
CONTEXT = " The mayor opened the meeting at nine and thanked everyone for coming this evening."


def median_seconds(call: Callable[[], Any], times: int = 5) -> tuple[float, Any]:
    seconds, result = [], None
    for _ in range(times):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return round(statistics.median(seconds), 4), result


def main() -> None:
    import ctranslate2
    from faster_whisper import WhisperModel

    model = WhisperModel(str(whisper_base_dir()), device="cpu", compute_type="int8", cpu_threads=1)
    with tempfile.TemporaryDirectory() as scratch:
        pcm = espeak(SENTENCE, Path(scratch))
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    frames = short_window(len(audio)) or 3000
    features = np.ascontiguousarray(model.feature_extractor(audio)[None, :, :frames])
    encode_s, encoded = median_seconds(
        lambda: model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=False)
    )
    tokenizer = model.hf_tokenizer
    task = [tokenizer.token_to_id(t) for t in ("<|startoftranscript|>", "<|en|>", "<|transcribe|>")]
    previous = tokenizer.token_to_id("<|startofprev|>")

    def generate(prompt: list[int], max_length: int = 120) -> Any:
        return model.model.generate(encoded, [prompt], beam_size=1, max_length=max_length)

    _, whole = median_seconds(lambda: generate(task), 1)
    tokens = whole[0].sequences_ids[0]
    rows: list[dict[str, Any]] = [
        {"what": "encode", "frames": frames, "seconds": encode_s},
    ]
    for limit in (4, 8, 16, 32, 120):
        seconds, result = median_seconds(lambda: generate(task, limit))  # noqa: B023
        rows.append(
            {"what": f"max_length {limit}", "tokens": len(result[0].sequences_ids[0]),
             "seconds": seconds}
        )  # fmt: skip
    for forced in (0, len(tokens) // 3, 2 * len(tokens) // 3, len(tokens) - 1):
        seconds, _ = median_seconds(lambda: generate(task + tokens[:forced]))  # noqa: B023
        rows.append({"what": f"prefix {forced} of {len(tokens)}", "seconds": seconds})
    context = tokenizer.encode(CONTEXT).ids
    for size in (0, len(context)):
        before = [previous, *context[:size]] if size else []
        seconds, _ = median_seconds(lambda: generate(before + task))  # noqa: B023
        rows.append({"what": f"prompt {size}", "seconds": seconds})
    for row in rows:
        print(json.dumps(row))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "whisper_tokens.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
