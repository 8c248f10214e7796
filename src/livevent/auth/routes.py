"""/api/auth: sign in with email and password, refresh, and who a token says you are."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field, SecretStr

from livevent.auth import TokenClaims
from livevent.auth.accounts import Accounts, TokenPair
from livevent.auth.invitations import Invitations, LinkSignIn
from livevent.auth.middleware import claims_of
from livevent.auth.welcome import WelcomeRequest, Welcomes
from livevent.errors import NotFound
from livevent.http.appkeys import SERVICE, SETTINGS, VERIFIER
from livevent.http.operations import OperationTable, read_body
from livevent.model.user import MAX_PASSWORD

table = OperationTable()


class LoginRequest(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: SecretStr = Field(min_length=1, max_length=MAX_PASSWORD)


class LinkRequest(BaseModel):
    code: str = Field(min_length=16, max_length=200)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=8192)


def accounts_of(request: web.Request) -> Accounts:
    """This deployment's accounts; a 404 where another issuer signs the tokens."""
    settings = request.app[SETTINGS]
    if settings.auth_public_key_file is not None or settings.auth_jwks_file is not None:
        raise NotFound("this deployment takes tokens from another issuer: sign in there")
    service = request.app[SERVICE]
    return Accounts.from_settings(
        settings, users=service.store.users, bus=service.bus, verifier=request.app[VERIFIER]
    )


def invitations_of(request: web.Request) -> Invitations:
    settings = request.app[SETTINGS]
    return Invitations.from_settings(settings, accounts_of(request), request.app[SERVICE].store)


def welcomes_of(request: web.Request) -> Welcomes:
    settings = request.app[SETTINGS]
    store = request.app[SERVICE].store
    return Welcomes(accounts_of(request), store.links, ttl=settings.invite_link_ttl)


def _tokens(pair: TokenPair) -> web.Response:
    # Tokens are credentials: no cache may keep them (RFC 6749 5.1).
    return web.json_response(
        text=pair.model_dump_json(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"}
    )


@table.add(
    "POST",
    "/api/auth/token",
    summary="Sign in: an access token and a refresh token for an email and password",
    tag="auth",
    body=LoginRequest,
    response=TokenPair,
    errors=(400, 404, 422),
    public=True,
)
async def login(request: web.Request) -> web.Response:
    data = await read_body(request, LoginRequest)
    pair = await accounts_of(request).login(
        data.email, data.password.get_secret_value(), address=request.remote or "-"
    )
    return _tokens(pair)


@table.add(
    "POST",
    "/api/auth/refresh",
    summary="A new token pair for a refresh token",
    tag="auth",
    body=RefreshRequest,
    response=TokenPair,
    errors=(400, 404, 422),
    public=True,
)
async def refresh(request: web.Request) -> web.Response:
    data = await read_body(request, RefreshRequest)
    scope_alive = invitations_of(request).grant_stands
    return _tokens(await accounts_of(request).refresh(data.refresh_token, scope_alive=scope_alive))


@table.add(
    "POST",
    "/api/auth/link",
    summary="Sign in with an invitation's one-time link: tokens, and the page it leads to",
    tag="auth",
    body=LinkRequest,
    response=LinkSignIn,
    errors=(400, 401, 404, 422),
    public=True,
)
async def sign_in_with_link(request: web.Request) -> web.Response:
    data = await read_body(request, LinkRequest)
    return _tokens(await invitations_of(request).sign_in(data.code))


@table.add(
    "POST",
    "/api/auth/welcome",
    summary="A new manager's welcome link: choose the password (the link is spent then)",
    tag="auth",
    body=WelcomeRequest,
    errors=(400, 401, 404, 422),
    public=True,
)
async def choose_password(request: web.Request) -> web.Response:
    # The password is checked against the rules first: a refused one leaves the link working.
    data = await read_body(request, WelcomeRequest)
    user = await welcomes_of(request).choose_password(data)
    return web.json_response({"email": user.email, "message": "Your password is set: sign in."})


@table.add(
    "GET",
    "/api/auth/me",
    summary="The claims of the token sent: role, customer and grants",
    tag="auth",
    response=TokenClaims,
)
async def me(request: web.Request) -> web.Response:
    return web.json_response(text=claims_of(request).model_dump_json())
