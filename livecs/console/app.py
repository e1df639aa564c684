"""The console web app: pages, JSON API and websockets for operators, the streamer and the merchant.

:func:`init_app` is the aiohttp app factory (typed :class:`web.AppKey` state, a cleanup context that runs the
hub, websockets closed on shutdown); :func:`start_console` builds one on a running pipeline and serves it.
Every response carries a strict Content-Security-Policy (no inline script or style, nothing from another
origin) and ``nosniff``; every route is guarded by :mod:`livecs.console.auth`. Pages are static files with no
data in them; the scripts fetch JSON and insert strangers' text as text nodes only.

Routes::

    GET  /login  POST /login  POST /logout          public / any role
    GET  /  /console  /streamer  /merchant         pages (role home, operator, streamer, merchant)
    GET  /api/me  /api/rooms  /api/queue  /api/stats  /api/streamer
    POST /api/actions                               operator
    GET  /tickets  /api/tickets[/{id}]  POST /api/tickets/{id}   工单 (see :mod:`livecs.tickets.routes`)
    GET  /api/viewer?user_id=                       operator (the viewer card, :mod:`livecs.console.viewer`)
    GET  /api/sessions  /api/review/{session_id}    operator (``mask=0``: admin only)
    GET  /api/merchant/versions  /api/merchant/products
    POST /api/merchant/upload  /api/merchant/activate  /api/merchant/rollback  /api/merchant/on-air
    GET  /ws?view=console|streamer&room=…          websocket (operator / streamer), Origin checked
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import orjson
from aiohttp import BodyPartReader, WSCloseCode, WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from livecs.bus.base import Bus
from livecs.config import ConsoleSettings, ScriptsSettings, Settings
from livecs.console.auth import (
    HOME_PAGE,
    PUBLIC,
    Auth,
    Role,
    client_address,
    current_user,
    make_middleware,
    requires,
    same_origin,
)
from livecs.console.hub import IDLE_REFRESH_S, ActionError, ActionRequest, Hub
from livecs.console.merchant import CouponService, MerchantBackend, MerchantError, RegistryBackend
from livecs.console.outbound import (
    Connector,
    HttpConnector,
    NoConnector,
    Outbox,
    RelayConnector,
)
from livecs.console.review import KINDS, Kind, ReviewDownloads, send_file
from livecs.console.viewer import add_routes as add_viewer_routes
from livecs.metrics import Counters
from livecs.models import ActionKind
from livecs.scripts.coupons import open_stock
from livecs.serving import bound_port
from livecs.store import Store
from livecs.tickets.routes import TICKETS
from livecs.tickets.routes import add_routes as add_ticket_routes
from livecs.tickets.service import TicketService
from livecs.tickets.store import TicketStore

if TYPE_CHECKING:
    from livecs.review.settings import ReviewSettings

log = logging.getLogger("livecs.console")

STATIC_DIR = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: a downloaded or opened review report: its own inline CSS and SVG, nothing else (no script, no request, and
#: sandboxed: an opaque origin even if opened in the browser)
REVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MAX_TOKEN_CHARS = 256
MAX_ACTION_TEXT = 500
MAX_UPLOAD_FILES = 10
MAX_VERSION_NAME_BYTES = 400  # a version name field: read at most this much
WS_MAX_MSG_BYTES = 64 * 1024
WS_COMMAND_MAX_CHARS = 1024
QUEUE_VIEWS = ("all", "mine", "unassigned")
FORM_OVERHEAD_BYTES = 64 * 1024
LOGIN_ERROR_MARK = "<!--error-->"
LOGIN_ERROR_HTML = '<p class="login-error" role="alert">令牌无效，请重试 / invalid token</p>'
LOGIN_LOCKED_HTML = (
    '<p class="login-error" role="alert">'
    "令牌错误次数过多，请 {minutes} 分钟后再试 / too many wrong tokens</p>"
)
OPERATOR_ROLES = (Role.OPERATOR,)
VIEWER_ROLES = (Role.OPERATOR, Role.STREAMER)
ALL_ROLES = (Role.OPERATOR, Role.STREAMER, Role.MERCHANT)
TICKET_READERS = (Role.OPERATOR, Role.MERCHANT)
#: static files and who may fetch them (the login page needs only the stylesheet)
STATIC_FILES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "app.css": ("text/css", (PUBLIC,)),
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

SETTINGS = web.AppKey("settings", ConsoleSettings)
AUTH = web.AppKey("auth", Auth)
HUB = web.AppKey("hub", Hub)
MERCHANT = web.AppKey("merchant", MerchantBackend)
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")
FILES: web.AppKey[dict[str, bytes]] = web.AppKey("files")
REVIEW = web.AppKey("review", ReviewDownloads)


class ActionIn(BaseModel):
    """``POST /api/actions`` body."""

    model_config = ConfigDict(extra="forbid")
    room: str | None = Field(None, max_length=128)
    item_id: str = Field(min_length=1, max_length=300)
    kind: ActionKind
    text: str = Field("", max_length=MAX_ACTION_TEXT)
    note: str = Field("", max_length=MAX_ACTION_TEXT)
    coupon_rule_id: str = Field("", max_length=64)
    force: bool = False
    #: send a reply carrying an error-level term anyway (recorded with the send)
    force_terms: bool = False


class BulkActionIn(BaseModel):
    """``POST /api/actions/bulk`` body: one action on many cards (moderation select-all)."""

    model_config = ConfigDict(extra="forbid")
    room: str | None = Field(None, max_length=128)
    item_ids: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1, max_length=500)
    kind: ActionKind
    note: str = Field("", max_length=MAX_ACTION_TEXT)


class OnAirIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    link: int | None = Field(None, ge=0, le=100_000)


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=32)
    #: an admin activating a version that carries error-level terms (广告法, 禁忌语) says why (recorded)
    override_reason: str = Field("", max_length=500)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _error(status: int, zh: str, en: str, **extra: Any) -> web.Response:
    return _json({"error": en, "message": zh, **extra}, status)


async def _read_json(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise web.HTTPBadRequest(
            text=orjson.dumps({"error": "invalid JSON", "message": "请求格式错误"}).decode(),
            content_type="application/json",
        ) from None


def _validation_error(exc: ValidationError) -> web.Response:
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return _error(422, "请求内容无效", "invalid request", problems=problems)


# -- pages ----------------------------------------------------------------------------------------------
def _page(request: web.Request, name: str, status: int = 200) -> web.Response:
    body = request.app[FILES][name]
    return web.Response(body=body, status=status, content_type="text/html", charset="utf-8")


def _login_page(
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
async def login_get(request: web.Request) -> web.StreamResponse:
    return _login_page(request, 200)


@requires(PUBLIC)
async def login_post(request: web.Request) -> web.StreamResponse:
    """Token in, session cookie out: the cookie holds a revocable session id, never the token. The form must
    come from our own origin; wrong tokens count towards the address's lockout."""
    if not same_origin(request):
        return _error(403, "来源不被允许", "cross-origin login refused")
    auth = request.app[AUTH]
    address = client_address(request)
    wait = auth.throttle.retry_after(address)
    if wait > 0:
        auth.throttle.refuse()
        html = LOGIN_LOCKED_HTML.format(minutes=max(1, round(wait / 60)))
        resp = _login_page(request, 429, error=True, error_html=html)
        resp.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return resp
    form = await request.post()
    token = str(form.get("token", ""))[:MAX_TOKEN_CHARS].strip()
    user = auth.user_for(token)
    if user is None:
        auth.throttle.failed(address)
        return _login_page(request, 401, error=True)
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


def _page_handler(
    name: str, roles: tuple[Role, ...]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @requires(*roles)
    async def page(request: web.Request) -> web.StreamResponse:
        return _page(request, name)

    return page


def _static_handler(
    name: str, ctype: str, roles: tuple[Any, ...]
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @requires(*roles)
    async def static(request: web.Request) -> web.StreamResponse:
        resp = web.Response(body=request.app[FILES][name], content_type=ctype, charset="utf-8")
        resp.headers["Cache-Control"] = "no-cache"
        return resp

    return static


# -- JSON API -------------------------------------------------------------------------------------------
@requires(*ALL_ROLES)
async def api_me(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    return _json({"name": user.name, "role": user.role.value, "home": HOME_PAGE[user.role]})


@requires(*VIEWER_ROLES)
async def api_rooms(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    default = hub.room(None).room
    return _json({"rooms": sorted(hub.rooms), "default": default, "overview": hub.rooms_overview()})


@requires(*OPERATOR_ROLES)
async def api_queue(request: web.Request) -> web.StreamResponse:
    view = request.query.get("view", "all")
    if view not in QUEUE_VIEWS:
        return _error(422, "未知视图", "unknown view")
    me = current_user(request).name
    return _json(request.app[HUB].queue_snapshot(request.query.get("room"), view, me))


@requires(*VIEWER_ROLES)
async def api_stats(request: web.Request) -> web.StreamResponse:
    return _json(request.app[HUB].stats(request.query.get("room")))


@requires(*VIEWER_ROLES)
async def api_streamer(request: web.Request) -> web.StreamResponse:
    return _json(request.app[HUB].streamer_view(request.query.get("room")))


@requires(*OPERATOR_ROLES)
async def api_actions(request: web.Request) -> web.StreamResponse:
    try:
        body = ActionIn.model_validate(await _read_json(request))
    except ValidationError as exc:
        return _validation_error(exc)
    req = ActionRequest(
        room=body.room or "",
        item_id=body.item_id,
        kind=body.kind,
        text=body.text,
        note=body.note,
        coupon_rule_id=body.coupon_rule_id,
        force=body.force,
        force_terms=body.force_terms,
    )
    try:
        result = await request.app[HUB].act(req, current_user(request).name)
    except ActionError as exc:
        return _error(exc.status, exc.zh, exc.en, **exc.extra)
    return _json(result)


@requires(*OPERATOR_ROLES)
async def api_actions_bulk(request: web.Request) -> web.StreamResponse:
    try:
        body = BulkActionIn.model_validate(await _read_json(request))
    except ValidationError as exc:
        return _validation_error(exc)
    try:
        result = await request.app[HUB].act_bulk(
            body.room or "", body.item_ids, body.kind, current_user(request).name, body.note
        )
    except ActionError as exc:
        return _error(exc.status, exc.zh, exc.en)
    return _json(result)


# -- post-stream review ---------------------------------------------------------------------------------
@requires(*OPERATOR_ROLES)
async def api_sessions(request: web.Request) -> web.StreamResponse:
    return _json({"sessions": await request.app[REVIEW].sessions()})


@requires(*OPERATOR_ROLES)
async def api_review(request: web.Request) -> web.StreamResponse:
    """The review of one session: ``format=html`` (report.html) or ``zip`` (every output); masked unless an
    admin asks ``mask=0``; ``inline=1`` opens the HTML in the browser instead of downloading it."""
    user = current_user(request)
    kind = request.query.get("format", "html")
    if kind not in KINDS:
        return _error(422, "格式只能是 html 或 zip", "format must be html or zip")
    mask_arg = request.query.get("mask", "1")
    if mask_arg not in ("0", "1"):
        return _error(422, "mask 只能是 0 或 1", "mask must be 0 or 1")
    mask = mask_arg == "1"
    if not mask and user.role is not Role.ADMIN:
        return _error(403, "不脱敏的复盘报告仅限管理员下载", "unmasked review requires the admin role")
    session_id = request.match_info["session_id"]
    downloads = request.app[REVIEW]
    if not await downloads.exists(session_id):
        return _error(404, "没有这个场次", "unknown session")
    if not mask:
        log.warning("unmasked review of session %s requested by %s (admin)", session_id, user.name)
    try:
        build, download = await downloads.acquire(session_id, mask, cast(Kind, kind))
    except Exception:
        log.exception("review of session %s failed", session_id)
        return _error(500, "复盘报告生成失败", "review failed")
    try:
        disposition = "inline" if kind == "html" and request.query.get("inline") == "1" else "attachment"
        resp = web.StreamResponse()
        resp.content_type = download.content_type
        if kind == "html":
            resp.charset = "utf-8"
            resp.headers["Content-Security-Policy"] = REVIEW_CSP
        resp.headers["Content-Disposition"] = f'{disposition}; filename="{download.filename}"'
        await send_file(request, resp, download.path)  # now, while this request still holds the build
        return resp
    finally:
        downloads.release(build)


# -- merchant -------------------------------------------------------------------------------------------
def _merchant_call(fn: Callable[[], dict[str, Any]]) -> web.Response:
    try:
        return _json(fn())
    except MerchantError as exc:
        return _error(exc.status, exc.zh, exc.en, **exc.extra)


@requires(Role.MERCHANT)
async def merchant_versions(request: web.Request) -> web.StreamResponse:
    return _json({"versions": request.app[MERCHANT].versions()})


@requires(Role.MERCHANT)
async def merchant_products(request: web.Request) -> web.StreamResponse:
    return _json(request.app[MERCHANT].products())


@requires(Role.MERCHANT)
async def merchant_upload(request: web.Request) -> web.StreamResponse:
    limit = request.app[SETTINGS].upload_max_bytes
    files: list[tuple[str, bytes]] = []
    activate = False
    name = ""
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError):
        return _error(400, "请以表单上传文件", "expected multipart/form-data")
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "activate":
            activate = (await part.text()).strip().lower() in {"1", "true", "on", "yes"}
            continue
        if part.name == "name":
            name = (await part.read_chunk(MAX_VERSION_NAME_BYTES)).decode("utf-8", "replace").strip()[:80]
            continue
        if part.name != "file" or not part.filename:
            continue
        if len(files) >= MAX_UPLOAD_FILES:
            return _error(413, f"一次最多上传 {MAX_UPLOAD_FILES} 个文件", "too many files")
        data = bytearray()
        while chunk := await part.read_chunk():
            data.extend(chunk)
            if len(data) > limit:
                return _error(413, f"文件超过 {limit // 1_000_000} MB 上限", "file too large")
        files.append((Path(part.filename).name[:200], bytes(data)))
    user = current_user(request).name
    merchant = request.app[MERCHANT]
    try:
        result = await asyncio.get_running_loop().run_in_executor(
            None, merchant.upload, files, user, activate, name
        )
    except MerchantError as exc:
        return _error(exc.status, exc.zh, exc.en)
    return _json(result, 200 if result["ok"] else 422)


@requires(Role.MERCHANT)
async def merchant_activate(request: web.Request) -> web.StreamResponse:
    try:
        body = VersionIn.model_validate(await _read_json(request))
    except ValidationError as exc:
        return _validation_error(exc)
    user = current_user(request)
    reason = body.override_reason.strip()
    if reason and user.role is not Role.ADMIN:
        return _error(403, "只有管理员可以强制启用含违禁用语的话术库", "only an admin may override")
    return _merchant_call(lambda: request.app[MERCHANT].activate(body.version, user.name, reason))


@requires(Role.MERCHANT)
async def merchant_rollback(request: web.Request) -> web.StreamResponse:
    user = current_user(request).name
    return _merchant_call(lambda: request.app[MERCHANT].rollback(user))


@requires(Role.MERCHANT)
async def merchant_on_air(request: web.Request) -> web.StreamResponse:
    try:
        body = OnAirIn.model_validate(await _read_json(request))
    except ValidationError as exc:
        return _validation_error(exc)
    user = current_user(request).name
    resp = _merchant_call(lambda: request.app[MERCHANT].set_on_air(body.link, user))
    if resp.status == web.HTTPOk.status_code:  # the review shades on-air periods from these events
        await request.app[HUB].record_on_air(body.link, user)
    return resp


# -- websocket ------------------------------------------------------------------------------------------
class ClientFeed:
    """Pushes one client's view: at most ``max_push_per_s`` messages a second, each coalescing all changes."""

    def __init__(
        self,
        hub: Hub,
        ws: web.WebSocketResponse,
        view: str,
        room: str | None,
        cfg: ConsoleSettings,
        operator: str = "",
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.view = view
        self.operator = operator
        self.filter = "all"  # 全部 / 我的 / 未分配: the client switches it with {"type": "view", "filter": …}
        self.room = hub.room(room).room
        self.interval = 1.0 / cfg.max_push_per_s
        self.send_timeout = cfg.ws_send_timeout_s
        self.members_shown = cfg.members_shown
        self._sent_vers: dict[str, int] = {}
        self._coupons_sent: Any = None
        self._force = False
        self.messages = 0

    def build(self) -> dict[str, Any]:
        hub = self.hub
        if self.view == "streamer":
            return hub.streamer_view(self.room)
        st = hub.room(self.room)
        items, hidden = st.visible(self.filter, self.operator)
        shown = [*items, *st.recent]
        changed = [i.to_dict(self.members_shown) for i in shown if self._sent_vers.get(i.item_id) != i.ver]
        full = not self._sent_vers
        self._sent_vers = {i.item_id: i.ver for i in shown}
        msg: dict[str, Any] = {
            "type": "console",
            "room": st.room,
            "now": hub.clock(),
            "ver": st.ver,
            "full": full,
            "order": [i.item_id for i in items],
            "recent": [i.item_id for i in st.recent],
            "items": changed,
            "hidden": hidden,
            "view": self.filter,
            "views": st.view_counts(self.operator),
            "rooms": hub.rooms_overview(),
            "stats": hub.stats(st.room),
        }
        coupons = hub.coupons.rules() if hub.coupons else []
        if coupons != self._coupons_sent:
            msg["coupons"] = self._coupons_sent = coupons
        return msg

    def command(self, raw: str) -> None:
        """What a console client may ask on its socket: another view of the queue, or another room. Anything
        else (or malformed) is ignored."""
        try:
            msg = orjson.loads(raw[:WS_COMMAND_MAX_CHARS])
        except orjson.JSONDecodeError:
            return
        if not isinstance(msg, dict) or self.view != "console":
            return
        changed = False
        waiting_on = self.room
        if msg.get("type") == "view" and msg.get("filter") in QUEUE_VIEWS:
            changed = msg["filter"] != self.filter
            self.filter = msg["filter"]
        elif msg.get("type") == "room" and isinstance(msg.get("room"), str) and msg["room"] in self.hub.rooms:
            changed = msg["room"] != self.room
            if changed:
                self.hub.connected(self.room, self.operator, -1)
                self.hub.connected(msg["room"], self.operator, +1)
            self.room = msg["room"]
        if changed:
            self._sent_vers = {}  # the next push is a full one
            self._force = True
            self.hub.changed(waiting_on)  # wakes the sender now

    async def run(self) -> None:
        hub = self.hub
        last_ver = -1
        last_sent = 0.0
        while not self.ws.closed:
            st = hub.room(self.room)
            if st.ver == last_ver and not self._force:
                await hub.notifiers[st.room].wait(IDLE_REFRESH_S)
            self._force = False
            delay = last_sent + self.interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.ws.closed:
                return
            last_ver = st.ver
            data = orjson.dumps(self.build()).decode()
            await asyncio.wait_for(self.ws.send_str(data), self.send_timeout)
            last_sent = time.monotonic()
            self.messages += 1


@requires(*VIEWER_ROLES)
async def ws_handler(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    view = request.query.get("view", "console")
    if view not in ("console", "streamer"):
        return _error(400, "未知视图", "unknown view")
    if view == "console" and user.role not in (Role.OPERATOR, Role.ADMIN):
        return _error(403, "当前角色无权访问", "forbidden for this role")
    cfg = request.app[SETTINGS]
    ws = web.WebSocketResponse(heartbeat=cfg.ws_heartbeat_s, max_msg_size=WS_MAX_MSG_BYTES)
    await ws.prepare(request)
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    hub = request.app[HUB]
    feed = ClientFeed(hub, ws, view, request.query.get("room"), cfg, user.name)
    sender = asyncio.create_task(feed.run(), name=f"ws-{user.name}")
    operator = view == "console"
    if operator:
        hub.connected(feed.room, user.name, +1)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
            if sender.done():
                break
            if msg.type == WSMsgType.TEXT:
                feed.command(msg.data)  # a view or room switch; anything else is ignored
    finally:
        if operator:
            hub.connected(feed.room, user.name, -1)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        sockets.discard(ws)
    return ws


# -- app factory ----------------------------------------------------------------------------------------
async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")


async def _close_sockets(app: web.Application) -> None:
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def _close_review(app: web.Application) -> None:
    await app[REVIEW].close()
    app[TICKETS].close()
    coupons = app[HUB].coupons
    if coupons is not None:
        await coupons.close()


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    hub = app[HUB]
    await hub.start()
    try:
        yield
    finally:
        await _close_sockets(app)
        await hub.stop()


def _load_files() -> dict[str, bytes]:
    names = [*STATIC_FILES, "login.html", *(p for p, _ in PAGES.values())]
    return {n: (STATIC_DIR / n).read_bytes() for n in names}


def _catalogue(merchant: MerchantBackend) -> Callable[[], dict[str, Any]]:
    """The merchant's products for the streamer view, with the shipping promise (``ship_days``) when the
    active library has one."""

    def read() -> dict[str, Any]:
        cat = merchant.products()
        library = getattr(merchant, "active_library", lambda: None)()
        days = {p.link: getattr(p, "ship_days", None) for p in getattr(library, "products", [])}
        for p in cat.get("products", []):
            p["ship_days"] = days.get(p.get("link"))
        return cat

    return read


def init_app(
    settings: ConsoleSettings,
    *,
    bus: Bus,
    store: Store,
    counters: Counters,
    auth: Auth,
    merchant: MerchantBackend | None = None,
    coupons: CouponService | None = None,
    connector: Connector | None = None,
    default_room: str | None = None,
    public_routes: Iterable[web.RouteDef] = (),
    library_db: str | None = None,
    review: ReviewDownloads | None = None,
    review_settings: ReviewSettings | None = None,
    redis_url: str | None = None,
) -> web.Application:
    """The console app. ``public_routes`` (e.g. the webhook) bypass the role guard: they do their own auth.

    Without ``merchant``, a library registry is opened at ``library_db`` (default ``scripts.library_db``).
    Review downloads read ``store.path`` (``review_settings`` overrides the review's defaults).
    Coupons are issued against the stock in Redis when ``redis_url`` is given (shared by every console), else
    against the stock kept in the record (``store.path``), which a restart keeps.
    """
    if merchant is None:
        merchant = RegistryBackend.at(library_db or ScriptsSettings().library_db)
    if coupons is None:
        coupons = CouponService(merchant, open_stock(redis_url, store.path))
    outbox = Outbox(connector or NoConnector(), settings.outbound)
    hub = Hub(
        settings,
        bus,
        store,
        counters,
        outbox,
        coupons,
        default_room=default_room,
        products=_catalogue(merchant),
    )
    hub.term_hits = merchant.term_hits
    app = web.Application(
        client_max_size=settings.upload_max_bytes + FORM_OVERHEAD_BYTES,
        middlewares=[make_middleware(auth, settings, _login_page)],
    )
    app[SETTINGS] = settings
    app[AUTH] = auth
    app[HUB] = hub
    app[MERCHANT] = merchant
    app[SOCKETS] = set()
    app[FILES] = _load_files()
    app[REVIEW] = review or ReviewDownloads(
        store.path,
        store.reader,
        settings=review_settings,
        library_db=library_db or ScriptsSettings().library_db,
    )
    tickets = TicketService(TicketStore(store.path), store, settings.tickets, outbox)
    hub.tickets = tickets
    add_ticket_routes(app, tickets, [u.name for u in auth.users if u.role in (Role.OPERATOR, Role.ADMIN)])
    add_viewer_routes(app, store.path)
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(_close_sockets)
    app.on_cleanup.append(_close_review)
    app.cleanup_ctx.append(_hub_ctx)
    r = app.router
    r.add_get("/login", login_get)
    r.add_post("/login", login_post)
    r.add_post("/logout", logout)
    r.add_get("/", home)
    for path, (name, roles) in PAGES.items():
        r.add_get(path, _page_handler(name, roles))
    for name, (ctype, roles) in STATIC_FILES.items():
        r.add_get(f"/static/{name}", _static_handler(name, ctype, roles))
    r.add_get("/api/me", api_me)
    r.add_get("/api/rooms", api_rooms)
    r.add_get("/api/queue", api_queue)
    r.add_get("/api/stats", api_stats)
    r.add_get("/api/streamer", api_streamer)
    r.add_post("/api/actions", api_actions)
    r.add_post("/api/actions/bulk", api_actions_bulk)
    r.add_get("/api/sessions", api_sessions)
    r.add_get("/api/review/{session_id}", api_review, allow_head=False)
    r.add_get("/api/merchant/versions", merchant_versions)
    r.add_get("/api/merchant/products", merchant_products)
    r.add_post("/api/merchant/upload", merchant_upload)
    r.add_post("/api/merchant/activate", merchant_activate)
    r.add_post("/api/merchant/rollback", merchant_rollback)
    r.add_post("/api/merchant/on-air", merchant_on_air)
    r.add_get("/ws", ws_handler)
    for route in public_routes:
        web.RouteDef(route.method, route.path, _public(route.handler), dict(route.kwargs)).register(r)
    return app


def _public(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    """A route that does its own auth (the webhook's bearer token) passes the role guard."""

    @requires(PUBLIC)
    async def public(request: web.Request) -> web.StreamResponse:
        return await handler(request)

    return public


def build_connector(settings: ConsoleSettings, relay: Any | None = None) -> Connector:
    """The configured outbound connector (``console.outbound.kind``)."""
    out = settings.outbound
    if out.kind in ("ws", "auto") and relay is not None:
        return RelayConnector(relay)
    if out.kind in ("http", "auto") and out.http_url:
        return HttpConnector(out.http_url, token=out.http_token, timeout_s=out.http_timeout_s)
    return NoConnector()


async def start_console(
    pipeline: Any,
    settings: Settings,
    *,
    port: int | None = None,
    host: str | None = None,
    connector: Connector | None = None,
    relay: Any | None = None,
    merchant: MerchantBackend | None = None,
    default_room: str | None = None,
    public_routes: Iterable[web.RouteDef] = (),
    print_tokens: bool = True,
) -> web.AppRunner:
    """Serve the console on a running :class:`~livecs.pipeline.Pipeline` (``publish_results=True``).

    ``merchant``: pass ``RegistryBackend(registry)`` with the registry the processing stage matches against
    (hot reload); by default one is opened at ``scripts.library_db``.

    Returns the started runner (``await runner.cleanup()`` to stop). Prints the URL and the tokens once.
    """
    cfg = settings.console
    auth, _generated = Auth.from_settings(cfg)
    app = init_app(
        cfg,
        bus=pipeline.bus,
        store=pipeline.store,
        counters=pipeline.counters,
        auth=auth,
        merchant=merchant,
        connector=connector or build_connector(cfg, relay),
        default_room=default_room,
        public_routes=public_routes,
        library_db=settings.scripts.library_db,
        redis_url=settings.redis_url,
    )
    await app[HUB].declare()  # before the pipeline publishes its first result
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    bind_host = host or cfg.host
    site = web.TCPSite(runner, bind_host, cfg.port if port is None else port)
    await site.start()
    if print_tokens:
        real_port = bound_port(runner, cfg.port if port is None else port)
        print(auth.describe(f"http://{bind_host}:{real_port}"), flush=True)
    return runner
