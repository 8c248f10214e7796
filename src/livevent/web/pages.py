"""Routes for the pages and their static files, with headers that keep tokens private."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from livevent.http.params import event_id_of

STATIC_DIR = Path(__file__).parent / "static"

# Tokens travel in a page's URL fragment or are typed in: no referrer, no framing,
# scripts only from here.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:;"
        " media-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "microphone=(self), camera=()",
}


def page(name: str) -> web.FileResponse:
    response = web.FileResponse(STATIC_DIR / name)
    response.headers.update(_HEADERS)
    response.headers["Cache-Control"] = "no-cache"
    return response


async def listen_page(request: web.Request) -> web.StreamResponse:
    event_id_of(request)  # a page for no event at all is a 404
    return page("listen.html")


async def speak_page(request: web.Request) -> web.StreamResponse:
    event_id_of(request)
    return page("speak.html")


async def manage_page(request: web.Request) -> web.StreamResponse:
    return page("manage.html")


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    return page("signin.html")


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/manage")


async def _static_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/static/"):
        response.headers.update(_HEADERS)


def install_pages(app: web.Application) -> None:
    """/manage, /signin, / and /static/. Listen and speak pages share their socket's path."""
    app.router.add_get("/manage", manage_page)
    app.router.add_get("/signin", sign_in_page)
    app.router.add_get("/", home)
    app.router.add_static("/static/", STATIC_DIR)
    app.on_response_prepare.append(_static_headers)
