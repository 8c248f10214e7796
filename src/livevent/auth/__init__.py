"""Tokens: JWTs with a role and grants, issued here or by another service and verified here."""

from livevent.auth.tokens import Role, TokenClaims, TokenIssuer, TokenVerifier, parse_duration

__all__ = ["Role", "TokenClaims", "TokenIssuer", "TokenVerifier", "parse_duration"]
