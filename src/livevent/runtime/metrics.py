"""Prometheus metrics at /metrics, read from the runtime when scraped.

Nothing is counted twice: the hubs, the pipeline and the cache already keep
their counters for `livevent stats`; a collector turns them into metric
families at scrape time, so the audio path pays nothing for metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from livevent.runtime.appkeys import RUNTIME
from livevent.runtime.runtime import LiveRuntime

_CHANNEL_COUNTERS = {
    "frames_in": "PCM frames (20 ms) that reached the channel",
    "messages_out": "audio messages the channel sent",
    "deliveries": "messages written to listeners' sockets",
    "drops": "messages a slow listener skipped",
}
_CHANNEL_GAUGES = {
    "latency_ms": "arrival to send of the channel's audio, averaged (ms)",
    "mt_ms": "machine translation time of the last segment (ms)",
    "tts_ms": "text-to-speech time of the last segment (ms)",
    "first_audio_ms": "end of the source to its first translated audio (ms)",
    "evs_s": "ear-voice span, p50 over the last minute: translation starts to play minus"
    " when the middle of its source was heard (s)",
    "backlog_s": "translated speech waiting to be played (s)",
}


class RuntimeCollector(Collector):
    def __init__(self, runtime: LiveRuntime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Any]:
        runtime = self.runtime
        yield GaugeMetricFamily(
            "livevent_live_events", "live events served here", value=len(runtime.sessions)
        )
        yield from self._channels()
        yield from self._pipelines()
        cache = runtime.cache.stats
        lookups = CounterMetricFamily(
            "livevent_config_cache_lookups", "event config reads by where they were found",
            labels=["level"],
        )  # fmt: skip
        lookups.add_metric(["l1"], cache.l1_hits)
        lookups.add_metric(["l2"], cache.l2_hits)
        lookups.add_metric(["store"], cache.loads)
        yield lookups
        transcripts = runtime.transcripts
        yield GaugeMetricFamily(
            "livevent_transcript_waiting",
            "transcript segments in the spool, waiting for the store (it is away when this grows)",
            value=transcripts.waiting,
        )
        yield CounterMetricFamily(
            "livevent_transcript_written", "transcript segments stored", value=transcripts.written
        )

    def _channels(self) -> Iterator[Any]:
        labels = ["event", "channel", "role"]
        listeners = GaugeMetricFamily(
            "livevent_listeners", "listeners connected to this instance", labels=labels
        )
        counters = {
            name: CounterMetricFamily(f"livevent_channel_{name}", text, labels=labels)
            for name, text in _CHANNEL_COUNTERS.items()
        }
        gauges = {
            name: GaugeMetricFamily(f"livevent_channel_{name}", text, labels=labels)
            for name, text in _CHANNEL_GAUGES.items()
        }
        for event_id, session in list(self.runtime.sessions.items()):
            for language, values in session.snapshot()["channels"].items():
                key = [str(event_id), language, session.role]
                listeners.add_metric(key, values["listeners"])
                for name, family in counters.items():
                    family.add_metric(key, values.get(name, 0))
                for name, gauge in gauges.items():
                    if values.get(name) is not None:
                        gauge.add_metric(key, values[name])
        yield listeners
        yield from counters.values()
        yield from gauges.values()

    def _pipelines(self) -> Iterator[Any]:
        stt = GaugeMetricFamily(
            "livevent_stt_ms", "time of the last speech recognition decode (ms)", labels=["event"]
        )
        rtf = GaugeMetricFamily(
            "livevent_stt_real_time_factor",
            "decode time over speech heard, streaming recognition (above 0.7: falling behind)",
            labels=["event"],
        )
        degraded = GaugeMetricFamily(
            "livevent_pipeline_degraded",
            "1 when recognition decodes less often than it should: captions lag",
            labels=["event"],
        )
        for event_id, session in list(self.runtime.sessions.items()):
            pipeline = session.snapshot()["pipeline"]
            if "stt_ms" in pipeline:
                stt.add_metric([str(event_id)], pipeline["stt_ms"])
            if pipeline.get("stt_rtf") is not None:
                rtf.add_metric([str(event_id)], pipeline["stt_rtf"])
            if "degraded" in pipeline:
                degraded.add_metric([str(event_id)], int(pipeline["degraded"]))
        yield stt
        yield rtf
        yield degraded


async def metrics(request: web.Request) -> web.Response:
    registry = CollectorRegistry()
    registry.register(RuntimeCollector(request.app[RUNTIME]))
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
