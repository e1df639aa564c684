"""The websocket feed: ``GET /ws?view=console|streamer&room=…`` (operator / streamer; Origin checked).

Each client gets a :class:`ClientFeed` that waits for its room to change and pushes a coalesced view no more
often than ``console.max_push_per_s``; a console client may switch its queue view or its room on the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from livecs.config import ConsoleSettings
from livecs.console.auth import Role, current_user, requires
from livecs.console.hub import IDLE_REFRESH_S, Hub
from livecs.console.views.common import HUB, QUEUE_VIEWS, SETTINGS, SOCKETS, VIEWER_ROLES
from livecs.errors import ErrorCode, LivecsError

WS_MAX_MSG_BYTES = 64 * 1024
WS_COMMAND_MAX_CHARS = 1024


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
        raise LivecsError("未知视图", "unknown view", code=ErrorCode.BAD_REQUEST)
    if view == "console" and user.role not in (Role.OPERATOR, Role.ADMIN):
        raise LivecsError("当前角色无权访问", "forbidden for this role", code=ErrorCode.FORBIDDEN)
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
