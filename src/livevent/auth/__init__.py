"""Auth: tokens, passwords, accounts, who may do what, and the /api/auth routes.

The core (tokens, passwords, accounts, access, signing) knows no HTTP; `middleware`
and `routes` are auth's face on the web, built with the `http/` toolkit.
"""

from livevent.auth.signing import issuer_for, service_token, verifier_for
from livevent.auth.tokens import TokenClaims, TokenIssuer, TokenVerifier, parse_duration
from livevent.model.user import Role

__all__ = [
    "Role",
    "TokenClaims",
    "TokenIssuer",
    "TokenVerifier",
    "issuer_for",
    "parse_duration",
    "service_token",
    "verifier_for",
]
