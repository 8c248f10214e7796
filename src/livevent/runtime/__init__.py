"""The live runtime: sessions, channel fan-out, speaker and listener WebSockets."""

from livevent.runtime.app import create_runtime_app
from livevent.runtime.runtime import LiveRuntime
from livevent.runtime.session import LiveSession

__all__ = ["LiveRuntime", "LiveSession", "create_runtime_app"]
