"""The live runtime: live sessions, the speech pipeline, the sockets and /live routes."""

from livevent.runtime.live.session import LiveSession
from livevent.runtime.runtime import LiveRuntime

__all__ = ["LiveRuntime", "LiveSession"]
