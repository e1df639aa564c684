"""Who may see what: role tokens, login sessions, the lockout on wrong tokens, and the middleware that guards
every route.

Four roles — ``operator`` (场控/客服), ``streamer`` (主播), ``merchant`` (商家), ``admin`` (all screens).
A user is a name, a role and a secret token, from ``console.users`` in the configuration or generated at
start (one per role, printed once). A request proves its user with ``Authorization: Bearer <token>`` or
with the HttpOnly ``SameSite=Strict`` cookie set by the login form. The cookie never holds the token: it
holds a random session id (:class:`Sessions`) that expires after ``console.session_ttl_s`` and that logout
revokes. Every route declares the roles it allows with :func:`requires`; the middleware answers 401 when no
valid token comes with the request and 403 when the role is not allowed, before the handler runs, so nothing
is ever served to a stranger. Routes that declare nothing are refused (deny by default); :data:`PUBLIC`
marks the few that must work before logging in. Cookie-authenticated writes, the login form itself and
every websocket upgrade must come from the console's own origin.

Wrong tokens (a bearer header or the login form) are counted per client address (:class:`LoginThrottle`):
``console.login_max_failures`` within ``console.login_failure_window_s`` lock that address out for
``console.login_lockout_s`` — every token it presents is answered 429 with ``Retry-After``, and the lockout is
logged. Behind a reverse proxy every client shares the proxy's address.
"""

from __future__ import annotations

import enum
import hmac
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import hdrs, web

from livecs.config import ConsoleSettings
from livecs.serving import new_token


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
SESSION_ID_BYTES = 32
MAX_SESSIONS = 10_000
MAX_TRACKED_ADDRESSES = 10_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC: frozenset[str] = frozenset()  # marker value for :func:`requires`: no token needed

log = logging.getLogger("livecs.console.auth")

_ROLES_ATTR = "__livecs_roles__"
_H = TypeVar("_H", bound=Callable[..., Awaitable[web.StreamResponse]])


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    token: str


USER = web.RequestKey("user", User)


class Sessions:
    """Login sessions: a random id (what the cookie holds) → the user, until it expires or is revoked.

    Kept in this process (a restart logs everyone out); at most ``max_sessions``, the oldest dropped first."""

    def __init__(
        self, ttl_s: float, *, max_sessions: int = MAX_SESSIONS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self.clock = clock
        self._by_id: OrderedDict[str, tuple[User, float]] = OrderedDict()

    def create(self, user: User) -> str:
        session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
        self._by_id[session_id] = (user, self.clock() + self.ttl_s)
        while len(self._by_id) > self.max_sessions:
            self._by_id.popitem(last=False)
        return session_id

    def user_for(self, session_id: str | None) -> User | None:
        if not session_id:
            return None
        found = self._by_id.get(session_id)
        if found is None:
            return None
        user, expires_at = found
        if self.clock() >= expires_at:
            del self._by_id[session_id]
            return None
        return user

    def revoke(self, session_id: str | None) -> bool:
        return bool(session_id) and self._by_id.pop(session_id or "", None) is not None

    def __len__(self) -> int:
        return len(self._by_id)


class LoginThrottle:
    """Wrong tokens per client address; too many in a window lock the address out (see the module doc)."""

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        lockout_s: float,
        *,
        max_addresses: int = MAX_TRACKED_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.max_addresses = max_addresses
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked_until: dict[str, float] = {}
        self.refused = 0  # attempts answered 429
        self.lockouts = 0

    def retry_after(self, address: str) -> float:
        """Seconds this address stays locked out (0: it may try)."""
        until = self._locked_until.get(address)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._locked_until[address]
            return 0.0
        return left

    def refuse(self) -> None:
        self.refused += 1

    def failed(self, address: str) -> bool:
        """Count one wrong token; True when this one starts a lockout (logged here)."""
        now = self.clock()
        recent = self._failures.pop(address, None) or deque(maxlen=self.max_failures)
        while recent and recent[0] <= now - self.window_s:
            recent.popleft()
        recent.append(now)
        self._failures[address] = recent  # most recent last: the oldest address is dropped first
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)
        if len(recent) < self.max_failures:
            return False
        del self._failures[address]
        self._locked_until[address] = now + self.lockout_s
        if len(self._locked_until) > self.max_addresses:
            for addr in [a for a, u in self._locked_until.items() if u <= now]:
                del self._locked_until[addr]
        self.lockouts += 1
        log.warning(
            "console login: %d wrong tokens from %s within %.0fs: locked out for %.0fs "
            "(登录令牌错误次数过多，已锁定该地址)",
            self.max_failures,
            address,
            self.window_s,
            self.lockout_s,
        )
        return True

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


class Auth:
    """The users and their tokens (compared in constant time), login sessions and the wrong-token throttle."""

    def __init__(
        self,
        users: Iterable[User],
        *,
        sessions: Sessions | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.users = list(users)
        if not self.users:
            raise ValueError("no console users")
        defaults = ConsoleSettings()
        self.sessions = sessions or Sessions(defaults.session_ttl_s)
        self.throttle = throttle or LoginThrottle(
            defaults.login_max_failures, defaults.login_failure_window_s, defaults.login_lockout_s
        )

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> tuple[Auth, bool]:
        """Users from the configuration, or one generated user per role; ``True`` when generated."""
        extra: dict[str, Any] = {
            "sessions": Sessions(settings.session_ttl_s),
            "throttle": LoginThrottle(
                settings.login_max_failures, settings.login_failure_window_s, settings.login_lockout_s
            ),
        }
        if settings.users:
            return cls((User(u.name, Role(u.role), u.token) for u in settings.users), **extra), False
        return cls((User(r.value, r, new_token()) for r in Role), **extra), True

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
    roles: frozenset[Role] | bool | None = getattr(handler, _ROLES_ATTR, False)
    return roles


def client_address(request: web.Request) -> str:
    """The address wrong tokens are counted against (the peer; a proxy's own address behind one)."""
    return request.remote or "unknown"


def too_many_tries(retry_after_s: float) -> web.Response:
    resp = deny(
        429,
        f"令牌错误次数过多，请 {max(1, round(retry_after_s / 60))} 分钟后再试",
        "too many wrong tokens from this address: locked out",
    )
    resp.headers[hdrs.RETRY_AFTER] = str(max(1, int(retry_after_s + 0.999)))
    return resp


def token_from(request: web.Request, cookie_name: str) -> tuple[str | None, bool]:
    """``(token or session id, from_cookie)`` — the bearer header wins over the cookie."""
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
        if from_cookie:
            user = auth.sessions.user_for(token)  # a session id, never a token
        elif token:
            address = client_address(request)
            wait = auth.throttle.retry_after(address)
            if wait > 0:
                auth.throttle.refuse()
                return too_many_tries(wait)
            user = auth.user_for(token)
            if user is None:
                auth.throttle.failed(address)
            else:
                auth.throttle.succeeded(address)
        else:
            user = None
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
    assert isinstance(user, User)
    return user
