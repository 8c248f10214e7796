"""The live runtime: live sessions, the speech pipeline, the sockets and /live routes."""

from livevent.runtime.runtime import LiveRuntime
from livevent.runtime.session import LiveSession

__all__ = ["LiveRuntime", "LiveSession"]
