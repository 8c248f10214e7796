"""Machine interpretation: the floor's speech to text, translations, and speech again.

The pipeline knows its session only as a `PipelineHost`; the session knows the
pipeline only as a `SpeechPipeline`. `LiveRuntime` builds one and attaches it.
"""

from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.pipeline import MachinePipeline

__all__ = ["MachinePipeline", "PipelineHost"]
