"""/api/users and an event's people: who may speak on it, and inviting them.

A manager sees and invites only its own customer's users; an admin sees all.
Another customer's user is as unknown to a manager as one that does not exist,
except where an admin granted them something on the manager's own event: an
event's people are everyone who holds a grant on it (showing those grants only),
and its manager may remove any of them.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from livevent.auth.invitations import Invitation, InvitationRequest
from livevent.auth.middleware import actor_of, delegate_of, own_customer
from livevent.auth.routes import accounts_of, invitations_of, welcomes_of
from livevent.auth.welcome import NewManager, Welcome
from livevent.errors import BadRequest, InvalidInput, NotFound
from livevent.http.appkeys import SERVICE
from livevent.http.operations import (
    EVENT_ID,
    OperationTable,
    id_parameter,
    path_int,
    read_body,
)
from livevent.http.params import event_id_of, shown
from livevent.http.public import public_base
from livevent.model import User
from livevent.model.audit import AccountChange
from livevent.model.ids import parse_id

table = OperationTable()

_USER_ID = id_parameter("user_id", "the user's id")


class UserList(BaseModel):
    items: list[User]


def _users(items: list[User]) -> web.Response:
    return web.json_response(text=UserList(items=items).model_dump_json())


@table.add(
    "GET",
    "/api/users",
    summary="Users: a manager's own customer's, or (admin) everyone's or one customer's",
    tag="people",
    response=UserList,
    parameters=(id_parameter("customer", "only this customer's users", where="query"),),
    errors=(400, 403),
)
async def list_users(request: web.Request) -> web.Response:
    raw = request.query.get("customer")
    requested = parse_id(raw) if raw is not None else None
    if raw is not None and requested is None:
        raise BadRequest(f"bad customer id {shown(raw)}: it is a positive integer")
    customer = own_customer(request, requested)
    return _users(await accounts_of(request).list_users(customer_id=customer))


@table.add(
    "POST",
    "/api/users",
    summary="A new manager of a customer, who chooses their password through a one-time link",
    tag="people",
    body=NewManager,
    response=Welcome,
    status=201,
    errors=(400, 403, 404, 409, 422),
)
async def add_manager(request: web.Request) -> web.Response:
    data = await read_body(request, NewManager)
    customer = own_customer(request, data.customer_id)
    if customer is None:
        raise InvalidInput(
            "give customer_id: the customer they will manage", fields=["customer_id"]
        )
    await request.app[SERVICE].resolve_customer(customer)  # 404 for none such
    welcome = await welcomes_of(request).add_manager(
        data, customer, base_url=public_base(request), actor=actor_of(request)
    )
    # A link is a credential until it is used: no cache may keep it.
    return web.json_response(
        text=welcome.model_dump_json(), status=201, headers={"Cache-Control": "no-store"}
    )


async def _managed_user(request: web.Request) -> User:
    """A user the caller manages: an admin any, a manager its own customer's only (any
    other is as unknown as one that does not exist)."""
    user_id = path_int(request, "user_id")
    unknown = NotFound(f"no user {user_id}")
    try:
        user = await accounts_of(request).users.get(user_id)
    except NotFound:
        raise unknown from None
    customer = own_customer(request, None)
    if customer is not None and user.customer_id != customer:
        raise unknown
    return user


@table.add(
    "POST",
    "/api/users/{user_id}/welcome",
    summary="A new welcome link for a manager who has not chosen a password yet (the"
    " unspent one dies)",
    tag="people",
    response=Welcome,
    status=201,
    parameters=(_USER_ID,),
    errors=(400, 403, 404, 409),
)
async def renew_welcome(request: web.Request) -> web.Response:
    user = await _managed_user(request)
    welcome = await welcomes_of(request).renew(
        user, base_url=public_base(request), actor=actor_of(request)
    )
    return web.json_response(
        text=welcome.model_dump_json(), status=201, headers={"Cache-Control": "no-store"}
    )


class AccountHistory(BaseModel):
    items: list[AccountChange]


@table.add(
    "GET",
    "/api/users/{user_id}/history",
    summary="Who did what to an account: added, new links, password set, disabled",
    tag="people",
    response=AccountHistory,
    parameters=(_USER_ID,),
    errors=(403, 404),
)
async def account_history(request: web.Request) -> web.Response:
    user = await _managed_user(request)
    changes = await accounts_of(request).users.changes.history(user.id)
    return web.json_response(text=AccountHistory(items=changes).model_dump_json())


@table.add(
    "GET",
    "/api/events/{event_id}/people",
    summary="The users granted something on this event",
    tag="people",
    response=UserList,
    parameters=(EVENT_ID,),
    errors=(404,),
)
async def event_people(request: web.Request) -> web.Response:
    event = await request.app[SERVICE].get_event(event_id_of(request))
    users = await accounts_of(request).users.holding(event.id)
    # What they hold elsewhere is their other customers' business, not this event's.
    here = [u.model_copy(update={"grants": [g for g in u.grants if g.event == event.id]})
            for u in users]  # fmt: skip
    return _users(here)


@table.add(
    "POST",
    "/api/events/{event_id}/invitations",
    summary="Invite a speaker or interpreter: grant a channel; a new person's one-time"
    " sign-in link (or, with SMTP, a link mailed to them)",
    tag="people",
    status=201,
    body=InvitationRequest,
    response=Invitation,
    parameters=(EVENT_ID,),
    errors=(400, 404, 409, 422, 429, 503),
)
async def invite(request: web.Request) -> web.Response:
    event = await request.app[SERVICE].get_event(event_id_of(request))
    data = await read_body(request, InvitationRequest)
    invitation = await invitations_of(request).invite(
        event,
        data,
        base_url=public_base(request),
        actor=actor_of(request),
        delegate=delegate_of(request, event.customer_id),
    )
    # A link is a credential until it is used: no cache may keep it.
    return web.json_response(
        text=invitation.model_dump_json(), status=201, headers={"Cache-Control": "no-store"}
    )


@table.add(
    "DELETE",
    "/api/events/{event_id}/people/{user_id}",
    summary="Take back everything a user was granted on this event",
    tag="people",
    status=204,
    parameters=(EVENT_ID, _USER_ID),
    errors=(404,),
)
async def remove_person(request: web.Request) -> web.Response:
    event = await request.app[SERVICE].get_event(event_id_of(request))
    user_id = path_int(request, "user_id")
    invitations = invitations_of(request)
    try:
        user = await invitations.accounts.users.get(user_id)
    except NotFound:
        user = None
    if user is None or not any(g.event == event.id for g in user.grants):
        raise NotFound(f"event {event.id} has no person {user_id}")
    await invitations.remove(event, user, actor=actor_of(request))
    return web.Response(status=204)
