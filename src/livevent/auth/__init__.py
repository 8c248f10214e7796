"""Tokens: JWTs with a role and grants, issued here or by another service and verified here."""

from livevent.auth.tokens import TokenClaims, TokenIssuer, TokenVerifier, parse_duration
from livevent.model.user import Role

__all__ = ["Role", "TokenClaims", "TokenIssuer", "TokenVerifier", "parse_duration"]
