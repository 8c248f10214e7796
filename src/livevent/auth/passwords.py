"""Password hashes with Argon2id (argon2-cffi), computed off the event loop.

Hashing costs tens of milliseconds of CPU and 64 MiB by design; running it in a
thread keeps sockets served while someone logs in.
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


# The "hash" of an account made by an invitation: no password opens it (none hashes to
# this), its person signs in with links until an admin sets one (`livevent user password`).
LINK_ONLY = "!sign-in-links-only"


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches; a malformed hash matches nothing."""
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def decoy_hash() -> str:
    """A hash to check unknown emails against, so they cost the same time as known ones."""
    return _hasher.hash("livevent decoy password, never anyone's")
