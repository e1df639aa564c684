"""Login, logout and the pages: static files with no data in them (the scripts fetch JSON).

``GET /login`` ``POST /login`` (token in, session cookie out) ``POST /logout``; ``GET /`` sends each role to
its home page; ``/console`` ``/streamer`` ``/merchant`` ``/tickets`` and ``/static/…`` are served from
:data:`STATIC_DIR`, read once at start (:func:`load_files`), each to the roles :data:`PAGES` and
:data:`STATIC_FILES` allow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from livecs.console.auth import HOME_PAGE, PUBLIC, Role, client_address, current_user, requires, same_origin
from livecs.console.views.common import (
    ALL_ROLES,
    AUTH,
    FILES,
    OPERATOR_ROLES,
    SETTINGS,
    TICKET_READERS,
    VIEWER_ROLES,
)
from livecs.errors import ErrorCode, LivecsError
from livecs.vocabulary import browser_script

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
MAX_TOKEN_CHARS = 256
LOGIN_ERROR_MARK = "<!--error-->"
LOGIN_ERROR_HTML = '<p class="login-error" role="alert">令牌无效，请重试 / invalid token</p>'
LOGIN_LOCKED_HTML = (
    '<p class="login-error" role="alert">'
    "令牌错误次数过多，请 {minutes} 分钟后再试 / too many wrong tokens</p>"
)
#: static files and who may fetch them (the login page needs only the stylesheet)
STATIC_FILES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "app.css": ("text/css", (PUBLIC,)),
    "vocabulary.js": ("text/javascript", ALL_ROLES),  # generated from livecs.vocabulary, not a file
    "common.js": ("text/javascript", ALL_ROLES),
    "console.js": ("text/javascript", OPERATOR_ROLES),
    "streamer.js": ("text/javascript", VIEWER_ROLES),
    "merchant.js": ("text/javascript", (Role.MERCHANT,)),
    "tickets.js": ("text/javascript", TICKET_READERS),
    "viewer.js": ("text/javascript", OPERATOR_ROLES),
}
PAGES: dict[str, tuple[str, tuple[Role, ...]]] = {
    "/console": ("console.html", OPERATOR_ROLES),
    "/streamer": ("streamer.html", VIEWER_ROLES),
    "/merchant": ("merchant.html", (Role.MERCHANT,)),
    "/tickets": ("tickets.html", TICKET_READERS),
}


def load_files() -> dict[str, bytes]:
    names = [*STATIC_FILES, "login.html", *(p for p, _ in PAGES.values())]
    files = {n: (STATIC_DIR / n).read_bytes() for n in names if n != "vocabulary.js"}
    files["vocabulary.js"] = browser_script().encode()
    return files


def _page(request: web.Request, name: str, status: int = 200) -> web.Response:
    body = request.app[FILES][name]
    return web.Response(body=body, status=status, content_type="text/html", charset="utf-8")


def login_page(
    request: web.Request, status: int, error: bool = False, error_html: str = LOGIN_ERROR_HTML
) -> web.Response:
    body = request.app[FILES]["login.html"]
    if error:
        body = body.replace(LOGIN_ERROR_MARK.encode(), error_html.encode())
    resp = web.Response(body=body, status=status, content_type="text/html", charset="utf-8")
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="livecs"'
    # the login form's POST must carry our Origin (checked): "no-referrer" would make browsers send "null"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


@requires(PUBLIC)
async def favicon(request: web.Request) -> web.StreamResponse:
    """No icon (204): browsers ask every page for one, and a 401 for it was an error in every console log."""
    return web.Response(status=204, headers={"Cache-Control": "max-age=86400"})


@requires(PUBLIC)
async def login_get(request: web.Request) -> web.StreamResponse:
    return login_page(request, 200)


@requires(PUBLIC)
async def login_post(request: web.Request) -> web.StreamResponse:
    """Token in, session cookie out: the cookie holds a revocable session id, never the token. The form must
    come from our own origin; wrong tokens count towards the address's lockout."""
    if not same_origin(request):
        raise LivecsError("来源不被允许", "cross-origin login refused", code=ErrorCode.FORBIDDEN)
    auth = request.app[AUTH]
    address = client_address(request)
    wait = auth.throttle.retry_after(address)
    if wait > 0:
        auth.throttle.refuse()
        html = LOGIN_LOCKED_HTML.format(minutes=max(1, round(wait / 60)))
        resp = login_page(request, 429, error=True, error_html=html)
        resp.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return resp
    form = await request.post()
    token = str(form.get("token", ""))[:MAX_TOKEN_CHARS].strip()
    user = auth.user_for(token)
    if user is None:
        auth.throttle.failed(address)
        return login_page(request, 401, error=True)
    auth.throttle.succeeded(address)
    cfg = request.app[SETTINGS]
    resp = web.HTTPSeeOther(HOME_PAGE[user.role])
    resp.set_cookie(
        cfg.cookie_name,
        auth.sessions.create(user),
        httponly=True,
        samesite="Strict",
        path="/",
        secure=cfg.cookie_secure or None,
        max_age=int(cfg.session_ttl_s),
    )
    raise resp


@requires(*ALL_ROLES)
async def logout(request: web.Request) -> web.StreamResponse:
    """Revoke the cookie's session (the same cookie no longer works anywhere) and clear the cookie."""
    name = request.app[SETTINGS].cookie_name
    request.app[AUTH].sessions.revoke(request.cookies.get(name))
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(name, path="/")
    raise resp


@requires(*ALL_ROLES)
async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(HOME_PAGE[current_user(request).role])


def page_handler(
    name: str, roles: tuple[Role, ...]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @requires(*roles)
    async def page(request: web.Request) -> web.StreamResponse:
        return _page(request, name)

    return page


def static_handler(
    name: str, ctype: str, roles: tuple[Any, ...]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @requires(*roles)
    async def static(request: web.Request) -> web.StreamResponse:
        resp = web.Response(body=request.app[FILES][name], content_type=ctype, charset="utf-8")
        resp.headers["Cache-Control"] = "no-cache"
        return resp

    return static
