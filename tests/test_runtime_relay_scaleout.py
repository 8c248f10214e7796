"""A machine channel relayed from an interpreter, across instances: the floor speaker on
the owner, the interpreter and the Catalan listener on another instance. The
interpreter's voice crosses to the owner, is recognised and translated there, and the
Catalan comes back (issue 27's "everything works on different instances").
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from livevent.client import SpeakerClient
from tests.support.cluster import Cluster, joined, scheduled_event
from tests.support.live import speaker_token, speech_pcm

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
SILENCE = bytes(32000)


async def test_a_relay_translates_an_interpreter_on_another_instance(
    cluster: Cluster, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    event_id = await scheduled_event(cluster.database_url, relay=True, live=True)
    owner = cluster.start("relay-a")
    other = cluster.start("relay-b")
    floor = await http.ws_connect(owner.ws(f"/speak/{event_id}/1?token={speaker_token(event_id)}"))
    assert (await floor.receive_json(timeout=60))["type"] == "ready"  # the owner: first here
    catalan = await joined(http, other.ws(f"/listen/{event_id}?channel=ca-ES"))
    interpreter = SpeakerClient(
        await http.ws_connect(other.ws(f"/speak/{event_id}/2?token={speaker_token(event_id, 2)}"))
    )
    assert (await interpreter.greeted(within=60))["type"] == "ready"

    def relayed_from_spanish(_: object) -> bool:
        statuses = catalan.heard.of_type("status")
        return bool(statuses) and statuses[-1].get("relayed_from") == "es-ES"

    await catalan.until(relayed_from_spanish, 60)
    library = speech_pcm("Bienvenidos a la nueva biblioteca de la ciudad.", "es", tmp_path)
    await interpreter.send(library + SILENCE, pace=1.0)
    await catalan.until(lambda heard: bool(heard.captions()), 90)
    caption = catalan.heard.captions()[-1]
    assert caption["translated_from"] == "es-ES", caption
    assert "biblioteca" in str(caption["text"]).lower(), caption
    await catalan.close()
    await floor.close()
