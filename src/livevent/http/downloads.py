"""`Content-Disposition` for a download, built the one way (RFC 6266 with RFC 5987).

The quoted `filename` keeps only characters that need no escaping anywhere; the
full name goes percent-encoded in `filename*`. Nothing in a name can end the
parameter, add another, or break the header line.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_PLAIN = re.compile(r"[^A-Za-z0-9._-]")


def attachment(filename: str) -> str:
    """The header value that saves a response as `filename`."""
    fallback = _PLAIN.sub("_", filename) or "download"
    encoded = quote(filename, safe="")
    if encoded == fallback:
        return f'attachment; filename="{fallback}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
