"""Who may see what: role tokens, the login cookie, and the middleware that guards every route.

Four roles — ``operator`` (场控/客服), ``streamer`` (主播), ``merchant`` (商家), ``admin`` (all screens).
A user is a name, a role and a secret token, from ``console.users`` in the configuration or generated at
start (one per role, printed once). A request proves its user with ``Authorization: Bearer <token>`` or
the HttpOnly ``SameSite=Strict`` cookie set by the login form. Every route declares the roles it allows
with :func:`requires`; the middleware answers 401 when no valid token comes with the request and 403 when
the role is not allowed, before the handler runs, so nothing is ever served to a stranger. Routes that
declare nothing are refused (deny by default); :data:`PUBLIC` marks the few that must work before logging
in. Cookie-authenticated writes (and every websocket upgrade) must come from the console's own origin.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import hdrs, web

from livecs.config import ConsoleSettings


class Role(enum.StrEnum):
    OPERATOR = "operator"
    STREAMER = "streamer"
    MERCHANT = "merchant"
    ADMIN = "admin"


#: Where each role lands after logging in.
HOME_PAGE: dict[Role, str] = {
    Role.OPERATOR: "/console",
    Role.STREAMER: "/streamer",
    Role.MERCHANT: "/merchant",
    Role.ADMIN: "/console",
}
TOKEN_BYTES = 24
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC: frozenset[str] = frozenset()  # marker value for :func:`requires`: no token needed

_ROLES_ATTR = "__livecs_roles__"
_H = TypeVar("_H", bound=Callable[..., Awaitable[web.StreamResponse]])


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    token: str


USER = web.RequestKey("user", User)


class Auth:
    """The users and their tokens; compares tokens in constant time."""

    def __init__(self, users: Iterable[User]) -> None:
        self.users = list(users)
        if not self.users:
            raise ValueError("no console users")

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> tuple[Auth, bool]:
        """Users from the configuration, or one generated user per role; ``True`` when generated."""
        if settings.users:
            return cls(User(u.name, Role(u.role), u.token) for u in settings.users), False
        return cls(User(r.value, r, secrets.token_urlsafe(TOKEN_BYTES)) for r in Role), True

    def user_for(self, token: str | None) -> User | None:
        if not token:
            return None
        found: User | None = None
        for u in self.users:  # no early exit: same time whether or not it matches
            if hmac.compare_digest(u.token.encode(), token.encode()):
                found = u
        return found

    def describe(self, base_url: str) -> str:
        """The lines printed once at start: where to go and each user's token."""
        lines = [f"console: {base_url}/login  (登录 with a token below)"]
        for u in self.users:
            lines.append(
                f"  {u.role.value:<9} {u.name:<12} token {u.token}   → {base_url}{HOME_PAGE[u.role]}"
            )
        return "\n".join(lines)


def requires(*roles: Role | frozenset[Any]) -> Callable[[_H], _H]:
    """Declare the roles a handler allows (admin always allowed); ``requires(PUBLIC)`` for no token."""
    allowed: frozenset[Role] | None
    if roles == (PUBLIC,):
        allowed = None
    else:
        allowed = frozenset({Role.ADMIN, *(Role(r) for r in roles)})  # type: ignore[arg-type]

    def mark(handler: _H) -> _H:
        setattr(handler, _ROLES_ATTR, allowed)
        return handler

    return mark


def roles_of(handler: Any) -> frozenset[Role] | bool | None:
    """The roles a handler allows, ``None`` when public, ``False`` when it declared nothing."""
    return getattr(handler, _ROLES_ATTR, False)  # type: ignore[no-any-return]


def token_from(request: web.Request, cookie_name: str) -> tuple[str | None, bool]:
    """``(token, from_cookie)`` — the bearer header wins over the cookie."""
    header = request.headers.get(hdrs.AUTHORIZATION, "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(cookie_name)
    return (cookie, True) if cookie else (None, False)


def same_origin(request: web.Request) -> bool:
    """The ``Origin`` header names this very host (scheme + host:port)."""
    origin = request.headers.get(hdrs.ORIGIN)
    if not origin:
        return False
    return origin in {
        f"{request.scheme}://{request.host}",
        f"http://{request.host}",
        f"https://{request.host}",
    }


def deny(status: int, reason_zh: str, reason_en: str) -> web.Response:
    return web.json_response({"error": reason_en, "message": reason_zh}, status=status)


def make_middleware(
    auth: Auth, settings: ConsoleSettings, login_page: Callable[[web.Request, int], web.StreamResponse]
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """The guard in front of every route (see the module docstring)."""

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        allowed = roles_of(handler)
        if allowed is None:  # public
            return await handler(request)
        token, from_cookie = token_from(request, settings.cookie_name)
        user = auth.user_for(token)
        wants_page = request.method in SAFE_METHODS and "text/html" in request.headers.get(hdrs.ACCEPT, "")
        if user is None:
            if wants_page:
                return login_page(request, 401)
            return deny(401, "需要登录（令牌缺失或无效）", "unauthorized")
        if allowed is False or user.role not in allowed:  # type: ignore[operator]
            return deny(403, "当前角色无权访问", "forbidden for this role")
        is_ws = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        if is_ws:
            origin = request.headers.get(hdrs.ORIGIN)
            # browsers always send Origin on a websocket; without one only a bearer client is accepted
            if (origin is not None or from_cookie) and not same_origin(request):
                return deny(403, "来源不被允许", "cross-origin websocket refused")
        elif from_cookie and request.method not in SAFE_METHODS and not same_origin(request):
            return deny(403, "来源不被允许", "cross-origin request refused")
        request[USER] = user
        return await handler(request)

    return guard


def current_user(request: web.Request) -> User:
    user = request.get(USER)
    if user is None:  # only reachable if a route skipped the guard
        raise web.HTTPUnauthorized()
    return user
