"""JWT access and refresh tokens (PyJWT), with the algorithm pinned and `aud` checked.

Claims: `sub`, `role` (admin, manager, speaker, listener), `customer`,
`events` (ids or "*"), `channel` (speakers and interpreters), `exp`, `iat`,
`nbf`, `jti`, and `typ` (access or refresh: a refresh token is never accepted
where an access token is expected). `scope` marks a session opened by an
invitation's sign-in link: it may do that one grant and nothing else, whatever
else its user may do. HS256 with a shared secret by default;
RS256/ES256 with a public key or a JWKS file for tokens another service issues
(RFC 8725: the verifier accepts only the algorithms it was configured with).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any, Literal

import jwt
from pydantic import BaseModel, Field, ValidationError

from livevent.errors import InvalidInput, Unauthorized
from livevent.model.user import Capability, Grant, Role

DEFAULT_AUDIENCE = "livevent"
DEFAULT_ISSUER = "livevent"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class TokenClaims(BaseModel):
    sub: str = Field(min_length=1, max_length=200)
    role: Role
    customer: int | None = None
    events: list[int] | Literal["*"] = Field(default_factory=list)
    channel: int | None = Field(None, ge=1, le=99)
    grants: list[Grant] = Field(default_factory=list, max_length=1000)
    typ: Literal["access", "refresh"] = "access"
    gen: int | None = Field(None, description="the user's generation a refresh token is from")
    scope: Grant | None = Field(
        None, description="a sign-in link's session: this grant only, never the account's others"
    )
    exp: int
    iat: int
    nbf: int | None = None
    jti: str

    def grants_event(self, event_id: int) -> bool:
        """Whether the token names this event at all (in `events` or in a grant)."""
        if self.role is Role.ADMIN or self.events == "*" or event_id in self.events:
            return True
        return any(grant.event == event_id for grant in self.grants)

    def can(self, capability: Capability, event_id: int, channel: int | None = None) -> bool:
        """Whether one of the user's grants allows this on this event (and channel)."""
        return any(
            grant.event == event_id and grant.can is capability and grant.channel == channel
            for grant in self.grants
        )


def parse_duration(text: str) -> int:
    """`90`, `90s`, `15m`, `2h`, `7d` -> seconds."""
    found = _DURATION.match(text)
    if found is None or int(found.group(1)) <= 0:
        raise InvalidInput(f"bad duration {text!r}: use e.g. 90s, 15m, 2h or 7d")
    return int(found.group(1)) * _UNITS[found.group(2)]


class TokenIssuer:
    """Signs tokens with the shared secret (HS256)."""

    def __init__(
        self, secret: str, *, issuer: str = DEFAULT_ISSUER, audience: str = DEFAULT_AUDIENCE
    ) -> None:
        if len(secret) < 16:
            raise InvalidInput("the token secret must be at least 16 characters")
        self._secret = secret
        self.issuer = issuer
        self.audience = audience

    def issue(
        self,
        *,
        sub: str,
        role: Role,
        ttl: int,
        customer: int | None = None,
        events: list[int] | Literal["*"] | None = None,
        channel: int | None = None,
        grants: list[Grant] | None = None,
        typ: Literal["access", "refresh"] = "access",
        generation: int | None = None,
        scope: Grant | None = None,
    ) -> str:
        now = int(time.time())
        claims = TokenClaims(
            sub=sub,
            role=role,
            customer=customer,
            events=events if events is not None else [],
            channel=channel,
            grants=grants or [],
            typ=typ,
            gen=generation,
            scope=scope,
            exp=now + ttl,
            iat=now,
            nbf=now,
            jti=secrets.token_hex(16),
        )
        payload = claims.model_dump(exclude_none=True, mode="json")
        if not payload["grants"]:
            del payload["grants"]
        payload.update(iss=self.issuer, aud=self.audience)
        return jwt.encode(payload, self._secret, algorithm="HS256")


class TokenVerifier:
    """Verifies tokens with exactly one kind of key and its pinned algorithms."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        jwks: dict[str, Any] | None = None,
        algorithms: list[str] | None = None,
        audience: str = DEFAULT_AUDIENCE,
        issuer: str | None = DEFAULT_ISSUER,
        leeway: int = 5,
    ) -> None:
        given = [key for key in (secret, public_key, jwks) if key is not None]
        if len(given) != 1:
            raise InvalidInput("configure exactly one of: secret, public key, JWKS")
        self._secret = secret
        self._public_key = public_key
        self._jwks = jwt.PyJWKSet.from_dict(jwks) if jwks is not None else None
        default = ["HS256"] if secret is not None else ["RS256", "ES256"]
        self.algorithms = algorithms or default
        if "none" in (a.lower() for a in self.algorithms):
            raise InvalidInput("the 'none' algorithm is never accepted")
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway

    @classmethod
    def from_jwks_file(cls, path: Path, **options: Any) -> TokenVerifier:
        try:
            return cls(jwks=json.loads(path.read_text()), **options)
        except (OSError, ValueError, jwt.PyJWTError) as error:
            raise InvalidInput(f"cannot read the JWKS file {path}: {error}") from None

    def _key(self, token: str) -> Any:
        if self._secret is not None:
            return self._secret
        if self._public_key is not None:
            return self._public_key
        assert self._jwks is not None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise Unauthorized(f"unreadable token: {error}") from None
        for key in self._jwks.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise Unauthorized("the token's key is not in the configured JWKS")

    def verify(self, token: str, *, expect: Literal["access", "refresh"] = "access") -> TokenClaims:
        """The token's claims, or Unauthorized saying what is wrong with it."""
        try:
            payload = jwt.decode(
                token,
                self._key(token),
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("the token is for another audience") from None
        except jwt.InvalidAlgorithmError:
            raise Unauthorized(
                "the token is signed with an algorithm that is not allowed"
            ) from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token: {error}") from None
        payload.pop("iss", None)
        payload.pop("aud", None)
        try:
            claims = TokenClaims.model_validate(payload)
        except ValidationError:
            raise Unauthorized("the token's claims are not livevent's") from None
        if claims.typ != expect:
            raise Unauthorized(f"this is a {claims.typ} token; {expect} tokens only here")
        return claims
