"""The websocket feed: ``GET /ws?view=console|streamer&room=…`` (operator / streamer; Origin checked).

Each client gets a :class:`ClientFeed` that waits for its room to change and pushes what changed on a
:class:`~livecs.console.push.PushSchedule`: a changed card within a few milliseconds (``push_coalesce_ms``),
never more than ``console.max_push_per_s`` messages a second, the live panel at most ``panel_push_per_s``
times a second. A console client may switch its queue view or its room on the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from livecs.config import ConsoleSettings
from livecs.console.auth import Role, current_user, requires
from livecs.console.hub import IDLE_REFRESH_S, Hub
from livecs.console.push import PushSchedule
from livecs.console.views.common import HUB, QUEUE_VIEWS, SETTINGS, SOCKETS, VIEWER_ROLES
from livecs.errors import ErrorCode, LivecsError

WS_MAX_MSG_BYTES = 64 * 1024
WS_COMMAND_MAX_CHARS = 1024


class ClientFeed:
    """Pushes one client's view on its :class:`~livecs.console.push.PushSchedule`: a changed card promptly
    (coalesced for ``push_coalesce_ms``, at most ``max_push_per_s`` messages a second), the live panel at most
    ``panel_push_per_s`` times a second; each message carries only the cards that changed."""

    def __init__(
        self,
        hub: Hub,
        ws: web.WebSocketResponse,
        view: str,
        room: str | None,
        cfg: ConsoleSettings,
        operator: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.view = view
        self.operator = operator
        self.filter = "all"  # 全部 / 我的 / 未分配: the client switches it with {"type": "view", "filter": …}
        self.room = hub.room(room).room
        self.clock = clock
        self.schedule = PushSchedule(
            coalesce_s=cfg.push_coalesce_ms / 1000,
            min_gap_s=1.0 / cfg.max_push_per_s,
            panel_gap_s=1.0 / min(cfg.panel_push_per_s, cfg.max_push_per_s),
            idle_s=IDLE_REFRESH_S,
        )
        self.send_timeout = cfg.ws_send_timeout_s
        self.members_shown = cfg.members_shown
        self._sent_vers: dict[str, int] = {}
        self._sent_order: list[str] = []
        self._sent_recent: list[str] = []
        self._cards_ver = -1  # the room's cards_ver when the cards were last compared
        self._coupons_sent: Any = None
        self._force = True  # push now…
        self._full_next = True  # …everything
        self.messages = 0

    def cards_changed(self) -> bool:
        """Whether a card this client shows (or their order) changed since the last push."""
        if self._force or self.view != "console":
            return self._force
        st = self.hub.room(self.room)
        if st.cards_ver == self._cards_ver:
            return False  # only numbers moved (a counted-only comment, an event)
        self._cards_ver = st.cards_ver
        items, _ = st.visible(self.filter, self.operator)
        sent = self._sent_vers
        return (
            any(sent.get(i.item_id) != i.ver for i in items)
            or len(items) != len(self._sent_order)
            or any(i.item_id != s for i, s in zip(items, self._sent_order, strict=False))
            or [i.item_id for i in st.recent] != self._sent_recent
        )

    def build(self, panel: bool = True) -> dict[str, Any]:
        """The next message: the cards that changed, their order, the tab counts; with ``panel`` (and on a
        full push) the live panel (``stats``) and the room switcher (``rooms``) too."""
        hub = self.hub
        if self.view == "streamer":
            return hub.streamer_view(self.room)
        st = hub.room(self.room)
        self._cards_ver = st.cards_ver
        items, hidden = st.visible(self.filter, self.operator)
        recent = list(st.recent)
        shown = [*items, *recent]
        changed = [i.to_dict(self.members_shown) for i in shown if self._sent_vers.get(i.item_id) != i.ver]
        full, self._full_next = self._full_next, False
        self._sent_vers = {i.item_id: i.ver for i in shown}
        self._sent_order = [i.item_id for i in items]
        self._sent_recent = [i.item_id for i in recent]
        msg: dict[str, Any] = {
            "type": "console",
            "room": st.room,
            "now": hub.clock(),
            "ver": st.ver,
            "full": full,
            "order": self._sent_order,
            "recent": self._sent_recent,
            "items": changed,
            "hidden": hidden,
            "view": self.filter,
            "views": st.view_counts(self.operator),
        }
        if panel or full:
            msg["rooms"] = hub.rooms_overview()
            msg["stats"] = hub.stats(st.room)
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
            self._sent_vers = {}
            self._full_next = True  # the next push is a full one
            self._force = True
            self.hub.changed(waiting_on)  # wakes the sender now

    async def run(self) -> None:
        hub, schedule = self.hub, self.schedule
        seen_ver = -1
        while not self.ws.closed:
            st = hub.room(self.room)
            now = self.clock()
            if st.ver != seen_ver or self._force:
                seen_ver = st.ver
                if schedule.cards_pending:
                    schedule.changed(now, cards=False)  # already due soon: no need to compare cards
                else:
                    schedule.changed(now, cards=self.cards_changed())
                self._force = False
            due = schedule.due()
            if due > now:
                if schedule.cards_pending:
                    await asyncio.sleep(due - now)  # nothing can make it sooner
                else:
                    await hub.notifiers[st.room].wait(due - now)  # a card change may
                continue
            panel = schedule.panel_due(now)
            data = orjson.dumps(self.build(panel)).decode()
            await asyncio.wait_for(self.ws.send_str(data), self.send_timeout)
            schedule.sent(now, panel)
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
