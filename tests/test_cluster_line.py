"""The line's pieces that need no process: its messages, the default address, the setting."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from livevent.runtime.cluster.line import IN, OUT, default_peer_url, pack, unpack
from livevent.settings import Settings


def test_a_line_message_carries_its_kind_language_and_bytes_as_they_were() -> None:
    for kind, language, data in ((OUT, "en-US", b"\x00\x01" * 400), (IN, "zh-Hant-TW", b"W")):
        assert unpack(pack(kind, language, data)) == (kind, language, data)


@pytest.mark.parametrize("message", [b"", b"o", b"x\x02enW", b"o\x09en-US", b"i\xffabc"])
def test_what_is_not_a_line_message_is_refused(message: bytes) -> None:
    with pytest.raises(ValueError, match="line message"):
        unpack(message)


def test_the_default_peer_address_is_where_serve_listens() -> None:
    assert default_peer_url(None) is None
    assert default_peer_url("127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert default_peer_url("::1:8080") == "http://[::1]:8080"
    # Every address is nobody's address: the machine's name is.
    assert default_peer_url("0.0.0.0:8080") == f"http://{socket.gethostname()}:8080"
    assert default_peer_url(":::8080") == f"http://{socket.gethostname()}:8080"


def test_peer_url_is_an_http_base_url() -> None:
    assert Settings(peer_url="http://10.0.0.5:8080/").peer_url == "http://10.0.0.5:8080"
    for wrong in ("10.0.0.5:8080", "ftp://10.0.0.5", "http://10.0.0.5:8080/?a=1", "http://"):
        with pytest.raises(ValidationError, match="peer_url"):
            Settings(peer_url=wrong)
