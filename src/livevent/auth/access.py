"""Who may speak on a channel or listen to a private event, from the token they bring.

Pure decisions on claims and an event's config: the sockets and the /live routes
ask here, and close or answer as `http/` says.
"""

from __future__ import annotations

from livevent.auth.tokens import TokenClaims, TokenVerifier
from livevent.errors import Forbidden, Unauthorized
from livevent.model import Capability, Channel, ChannelKind, EventConfig, EventStatus, Role


def _owner_or_admin(claims: TokenClaims, config: EventConfig) -> bool:
    if claims.scope is not None:
        return False  # a sign-in link's session is its one grant, whatever the role says
    if claims.role is Role.ADMIN:
        return True
    return claims.role is Role.MANAGER and claims.customer == config.customer_id


def may_speak(
    verifier: TokenVerifier, token: str | None, config: EventConfig, channel: Channel
) -> TokenClaims:
    """The speaker's claims, or Unauthorized / Forbidden saying why not."""
    if not token:
        raise Unauthorized("speaking needs a token (?token=...)")
    claims = verifier.verify(token)
    if _owner_or_admin(claims, config) or claims.can(Capability.MANAGE, config.id):
        return claims
    if channel.kind is ChannelKind.FLOOR and claims.can(Capability.SPEAK, config.id):
        return claims
    if claims.can(Capability.INTERPRET, config.id, channel.number):
        return claims
    if claims.grants:
        raise Forbidden(f"your grants do not include speaking on channel {channel.number}")
    if claims.role is not Role.SPEAKER:
        raise Forbidden(f"a {claims.role.value} token cannot speak")
    if not claims.grants_event(config.id):
        raise Forbidden(f"the token does not grant event {config.id}")
    allowed = claims.channel if claims.channel is not None else None
    if allowed is None and channel.kind is not ChannelKind.FLOOR:
        raise Forbidden("a token without a channel speaks on the floor only")
    if allowed is not None and allowed != channel.number:
        raise Forbidden(f"the token grants channel {allowed}, not {channel.number}")
    return claims


def may_manage(verifier: TokenVerifier, token: str | None, config: EventConfig) -> TokenClaims:
    """The claims of someone who runs the event (admin, its customer's manager, a manage
    grant), or Unauthorized / Forbidden."""
    if not token:
        raise Unauthorized("this needs an organizer's token")
    claims = verifier.verify(token)
    if _owner_or_admin(claims, config) or claims.can(Capability.MANAGE, config.id):
        return claims
    raise Forbidden(f"only those who run event {config.id} may do this")


def is_staff(claims: TokenClaims | None, config: EventConfig) -> bool:
    """Whether these claims work the event (its organizers, speakers and interpreters):
    what they listen to is their own feed, not audience."""
    if claims is None:
        return False
    if _owner_or_admin(claims, config) or claims.can(Capability.MANAGE, config.id):
        return True
    if claims.can(Capability.SPEAK, config.id):
        return True
    if any(claims.can(Capability.INTERPRET, config.id, c.number) for c in config.channels):
        return True
    # A speaker token made for the event (`livevent token create --role speaker`) speaks
    # on it; a `listen` grant is a listener's, whatever the account's role.
    return claims.role is Role.SPEAKER and (claims.events == "*" or config.id in claims.events)


def may_listen(
    verifier: TokenVerifier, token: str | None, config: EventConfig
) -> TokenClaims | None:
    """None for a public event without a token; claims when one was given and is good.

    A DRAFT is nobody's business yet: public or not, it needs a token like a private event.
    """
    if not token:
        if config.status is EventStatus.DRAFT:
            # Its name, channels and time stay the organizer's; that it is not on yet is
            # what a listener who got the link early needs to know.
            raise Unauthorized(
                f"event {config.id} is not scheduled yet: its listener link works once"
                " the organizer schedules it",
                event_id=config.id,
                draft=True,
            )
        if config.public:
            return None
        raise Unauthorized(f"event {config.id} is not open to the public: listening needs a token")
    claims = verifier.verify(token)
    if not (_owner_or_admin(claims, config) or claims.grants_event(config.id)):
        raise Forbidden(f"the token does not grant event {config.id}")
    return claims
