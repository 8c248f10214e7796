"""/api/events/{id}/links: the addresses to hand out, each with a QR code to print.

Listener links carry no credential (a private event's listeners bring a token),
so a printed QR code gives away nothing a poster would not. Speak links lead to
a page that asks for a token; invitations (api/people.py) hand out the sign-in.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import quote

import segno
from aiohttp import web
from cachetools import LRUCache
from pydantic import BaseModel, Field
from segno import DataOverflowError

from livevent.errors import InvalidInput
from livevent.http.appkeys import SERVICE
from livevent.http.operations import EVENT_ID, OperationTable
from livevent.http.params import event_id_of
from livevent.http.public import public_base
from livevent.model import Channel, ChannelKind, Event, language_name
from livevent.model.language import own_name

table = OperationTable()


class ListenLink(BaseModel):
    language: str
    label: str
    url: str
    qr: str = Field(description="the URL as a QR code: an SVG data URI")


class SpeakLink(BaseModel):
    channel: int
    language: str
    label: str
    url: str


class EventLinks(BaseModel):
    event: int
    public: bool
    everyone: ListenLink = Field(
        description="one link for every listener: the page opens the channel in the"
        " listener's own language when the event has it, and lets them pick"
    )
    listen: list[ListenLink]
    speak: list[SpeakLink]


# Drawn codes, kept by size: a few thousand channels' worth, never an unbounded heap.
_QR_CACHE_BYTES = 16 * 1024 * 1024
_qr_cache: LRUCache[str, str] = LRUCache(maxsize=_QR_CACHE_BYTES, getsizeof=len)
_qr_lock = threading.Lock()


def qr_svg(url: str) -> str:
    """The URL's QR code, made once: drawing one costs milliseconds, and the console
    asks for every channel's each time it shows an event. Called off the event loop."""
    with _qr_lock:
        cached = _qr_cache.get(url)
    if cached is not None:
        return cached
    try:
        # Level M survives a crease or a smudge on a printed page (15 % of the modules).
        svg = str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))
    except DataOverflowError:
        raise InvalidInput(
            "a link is too long for a QR code: shorten public_url or the host"
        ) from None
    with _qr_lock:
        _qr_cache[url] = svg
    return svg


def channel_title(channel: Channel) -> str:
    """What people read for a channel: its label, else its language in its own name and
    in English ("Español · Spanish (Spain)"), never a bare code."""
    if channel.label:
        return channel.label
    english, own = language_name(channel.language), own_name(channel.language)
    title = english if own.lower() in english.lower() else f"{own} · {english}"
    return f"{title}, the floor" if channel.kind is ChannelKind.FLOOR else title


def event_links(event: Event, base: str) -> EventLinks:
    listen = []
    for channel in event.channels:
        url = f"{base}/listen/{event.id}?channel={quote(channel.language)}"
        label = channel_title(channel)
        listen.append(ListenLink(language=channel.language, label=label, url=url, qr=qr_svg(url)))
    speak = [
        SpeakLink(
            channel=channel.number,
            language=channel.language,
            label=channel_title(channel),
            url=f"{base}/speak/{event.id}/{channel.number}",
        )
        for channel in event.channels
        if channel.kind is not ChannelKind.MACHINE
    ]
    url = f"{base}/listen/{event.id}"
    everyone = ListenLink(language="*", label="every language", url=url, qr=qr_svg(url))
    return EventLinks(
        event=event.id, public=event.public, everyone=everyone, listen=listen, speak=speak
    )


@table.add(
    "GET",
    "/api/events/{event_id}/links",
    summary="Listener links with QR codes, and the speak pages, of an event",
    tag="events",
    response=EventLinks,
    parameters=(EVENT_ID,),
    errors=(400, 404, 422),
)
async def get_links(request: web.Request) -> web.Response:
    event = await request.app[SERVICE].get_event(event_id_of(request))
    # Drawing a large event's codes takes a while: listeners' audio must not wait on it.
    links = await asyncio.to_thread(event_links, event, public_base(request))
    return web.json_response(text=links.model_dump_json())
