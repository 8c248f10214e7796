"""Who signs and who checks this deployment's tokens: one place reads the settings."""

from __future__ import annotations

from typing import Any

from livevent.auth.tokens import TokenIssuer, TokenVerifier
from livevent.errors import InvalidInput
from livevent.model.user import Role
from livevent.settings import Settings

SERVICE_SUBJECT = "livevent-service"


def issuer_for(settings: Settings, *, audience_suffix: str = "") -> TokenIssuer:
    """Tokens signed with this deployment's secret (HS256), its issuer and audience
    (with `audience_suffix`, an audience of their own: LINE_AUDIENCE_SUFFIX)."""
    return TokenIssuer(
        settings.auth_secret.get_secret_value(),
        issuer=settings.auth_issuer,
        audience=settings.auth_audience + audience_suffix,
    )


def verifier_for(settings: Settings) -> TokenVerifier:
    """Tokens from another issuer (public key or JWKS) when configured, else our own secret."""
    options: dict[str, Any] = {"audience": settings.auth_audience, "issuer": settings.auth_issuer}
    if settings.auth_jwks_file is not None:
        return TokenVerifier.from_jwks_file(settings.auth_jwks_file, **options)
    if settings.auth_public_key_file is not None:
        try:
            key = settings.auth_public_key_file.read_text()
        except OSError as error:
            raise InvalidInput(f"cannot read auth_public_key_file: {error}") from None
        return TokenVerifier(public_key=key, **options)
    return TokenVerifier(secret=settings.auth_secret.get_secret_value(), **options)


def own_verifier(settings: Settings, *, audience_suffix: str = "") -> TokenVerifier:
    """Checks tokens this deployment signed itself, whatever else it accepts."""
    return TokenVerifier(
        secret=settings.auth_secret.get_secret_value(),
        audience=settings.auth_audience + audience_suffix,
        issuer=settings.auth_issuer,
    )


# Tokens for the lines between instances carry an audience of their own: no other
# route takes them, and the line takes no other token.
LINE_AUDIENCE_SUFFIX = ":line"


def line_token(settings: Settings, event_id: int, *, ttl: int = 60) -> str:
    """What a relay shows the owner of `event_id` to open a line (runtime/cluster/line.py):
    good for that event's line alone, so an address read from Redis is never handed a
    token that opens anything else."""
    issuer = issuer_for(settings, audience_suffix=LINE_AUDIENCE_SUFFIX)
    return issuer.issue(sub=SERVICE_SUBJECT, role=Role.SPEAKER, ttl=ttl, events=[event_id])


def line_verifier(settings: Settings) -> TokenVerifier:
    return own_verifier(settings, audience_suffix=LINE_AUDIENCE_SUFFIX)


def service_token(settings: Settings, *, ttl: int = 300) -> str:
    """An admin token, signed with this deployment's secret, for its own processes."""
    return issuer_for(settings).issue(sub=SERVICE_SUBJECT, role=Role.ADMIN, ttl=ttl, events="*")
