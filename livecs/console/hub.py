"""The hub: reads the pipeline's ``results`` topic into per-room state, runs operator actions, pushes views.

One :class:`Hub` per console process. Its pump task reads the bus (its own stage, so it sees every result) and
feeds :class:`~livecs.console.state.RoomState`; every connected websocket gets a
:class:`~livecs.console.views.feed.ClientFeed` that waits for a change and sends what changed on a
:class:`~livecs.console.push.PushSchedule`: a changed card a few milliseconds after the change, never more
than ``console.max_push_per_s`` messages a second — each with everything that changed since the last one
(only the cards whose version moved, the order of the visible cards, the count of the rest), the live panel
at most ``console.panel_push_per_s`` times a second.

Actions (:meth:`Hub.act`: the checks every action shares, then the kind's handler from :data:`ACTIONS`; one
that cannot be done raises :class:`ActionError`, a :class:`~livecs.errors.LivecsError` with no HTTP in it)
change the shared state, so every console of a room sees an item taken by one operator as taken; each is
recorded as an :class:`~livecs.models.OperatorAction` in the store, with the operator and the time. Replies
and moderation commands go out through the :class:`~livecs.console.outbound.Outbox`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livecs.bus.base import Bus
from livecs.config import ConsoleSettings
from livecs.console.merchant import CouponService, MerchantError
from livecs.console.outbound import GAVE_UP, QUEUED, RETRYING, SENT, DeliveryJob, Outbox
from livecs.console.state import OPEN, Item, RoomState
from livecs.errors import ErrorCode, LivecsError
from livecs.keys import RESULTS_TOPIC
from livecs.metrics import Counters
from livecs.models import ActionKind, EventKind, LiveEvent, MemberTier, OperatorAction
from livecs.scripts.terms import FORCED_SEND_NOTE
from livecs.store import Store, StoreBatch
from livecs.tickets.resolution import MARKS, MarkError, Tally, check_mark
from livecs.vocabulary import STATUS_AFTER_ACTION

if TYPE_CHECKING:
    from livecs.tickets.service import TicketService

log = logging.getLogger("livecs.console.hub")

#: minimum pause between bus read errors
READ_ERROR_PAUSE_S = 0.5
#: a client is refreshed at least this often (ages, alerts) even when nothing changed
IDLE_REFRESH_S = 1.0
#: the status a card is closed with by each closing action (one vocabulary: livecs.vocabulary)
STATUS_CLOSING = STATUS_AFTER_ACTION
BULK_KINDS = (ActionKind.MUTE, ActionKind.BAN, ActionKind.DISMISS)
#: kinds that also work on a handled card (a coupon or a mark comes after the reply); the rest need it open
ON_HANDLED = frozenset(
    {
        ActionKind.TAKE,
        ActionKind.ISSUE_COUPON,
        ActionKind.APPROVE_COUPON,
        ActionKind.RESOLVE,
        ActionKind.SATISFACTION,
    }
)


MENTION_MAX_CHARS = 12
_CONTACT_OR_CLAIM = re.compile(r"\d{5,}|https?:|www\.|[vV][xX]|微信|加[vV]|假|骗|差评|投诉|垃圾")


def _mentionable(nickname: str) -> bool:
    """Whether a nickname may be @-mentioned in the shop's reply: short, no contact details, no claims (a
    stranger's words never go out in the shop's name)."""
    return bool(nickname) and len(nickname) <= MENTION_MAX_CHARS and not _CONTACT_OR_CLAIM.search(nickname)


#: the note a forced send is recorded with (the review's 质检 table lists them)
FORCED_NOTE = FORCED_SEND_NOTE


class ActionError(LivecsError):
    """An action that cannot be done (by default an invalid one; ``code`` says otherwise)."""

    code = ErrorCode.INVALID


@dataclass(slots=True)
class ActionRequest:
    room: str
    item_id: str
    kind: ActionKind
    text: str = ""
    note: str = ""
    coupon_rule_id: str = ""
    force: bool = False
    force_terms: bool = False  # send a reply carrying an error-level term anyway (recorded)


@dataclass(slots=True)
class ActionContext:
    """One action under way: what its handler reads and fills in (``records`` are written after it)."""

    req: ActionRequest
    st: RoomState
    item: Item
    operator: str
    now: float
    action: OperatorAction
    records: list[OperatorAction]
    result: dict[str, Any]


class Notifier:
    """Wakes every waiter when the room version moves (a shared future per generation)."""

    def __init__(self) -> None:
        self._fut: asyncio.Future[None] | None = None

    def notify(self) -> None:
        if self._fut is not None and not self._fut.done():
            self._fut.set_result(None)
        self._fut = None

    async def wait(self, timeout: float) -> None:
        if self._fut is None:
            self._fut = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._fut), timeout)


class Hub:
    def __init__(
        self,
        settings: ConsoleSettings,
        bus: Bus,
        store: Store,
        counters: Counters,
        outbox: Outbox,
        coupons: CouponService | None = None,
        *,
        default_room: str | None = None,
        clock: Callable[[], float] = time.time,
        products: Callable[[], dict[str, Any]] | None = None,
        sla_s: Mapping[str, float | None] | None = None,
    ) -> None:
        self.cfg = settings
        self.bus = bus
        self.store = store
        self.counters = counters
        self.outbox = outbox
        self.coupons = coupons
        self.default_room = default_room
        self.clock = clock
        self.products = products  # the merchant's catalogue: {"on_air": link, "products": [...]}
        #: error-level terms (广告法, the shop's 禁忌语) in a reply; a send carrying one needs ``force_terms``
        self.term_hits: Callable[[str], list[str]] | None = None
        self.rooms: dict[str, RoomState] = {}
        self.notifiers: dict[str, Notifier] = {}
        self._task: asyncio.Task[None] | None = None
        self._consumer = f"console-{secrets.token_hex(3)}"
        self._stats_cache: dict[str, tuple[float, int, dict[str, Any]]] = {}
        self._sla = sla_s  # the triage's table (``triage.priority.sla_s``): one source for both
        self.online: dict[str, Counter[str]] = {}  # room -> operators with a console open on it
        self.tickets: TicketService | None = None  # set by the app: escalations become stored tickets
        self.tallies: dict[str, Tally] = {}  # room -> resolution and satisfaction marks

    # -- lifecycle --------------------------------------------------------------------------------------
    async def declare(self) -> None:
        await self.bus.declare(RESULTS_TOPIC, self.cfg.results_stage)

    async def start(self) -> None:
        await self.declare()
        self._task = asyncio.create_task(self._pump(), name="console-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.outbox.close()

    def room(self, room: str | None) -> RoomState:
        name = room or self.default_room or (next(iter(self.rooms)) if self.rooms else "default")
        st = self.rooms.get(name)
        if st is None:
            st = self.rooms[name] = RoomState(name, self.cfg, self._sla)
            self.notifiers[name] = Notifier()
        return st

    def tally(self, room: str) -> Tally:
        t = self.tallies.get(room)
        if t is None:
            t = self.tallies[room] = Tally()
        return t

    def changed(self, room: str) -> None:
        n = self.notifiers.get(room)
        if n is not None:
            n.notify()

    async def _pump(self) -> None:
        cfg = self.cfg
        while True:
            try:
                deliveries = await self.bus.read(
                    RESULTS_TOPIC, cfg.results_stage, self._consumer, cfg.read_count, cfg.read_block_ms
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("console: results read failed: %r", exc)
                await asyncio.sleep(READ_ERROR_PAUSE_S)
                continue
            self.assign()
            if not deliveries:
                continue
            self.ingest(deliveries)
            self.assign()
            with contextlib.suppress(Exception):
                await self.bus.ack(RESULTS_TOPIC, cfg.results_stage, deliveries)

    def ingest(self, deliveries: list[Any]) -> None:
        """Apply a batch of bus deliveries (grouped per room, publication order kept)."""
        now = self.clock()
        by_room: dict[str, list[tuple[str, Any]]] = {}
        for d in deliveries:
            by_room.setdefault(d.room, []).append((d.session_id, d.record))
        for room, recs in by_room.items():
            self.room(room).apply(recs, now)
            self.changed(room)

    def assign(self) -> None:
        """Automatic assignment in every room (a no-op unless ``console.assign.enabled``)."""
        if not self.cfg.assign.enabled:
            for st in self.rooms.values():
                st.fresh.clear()
            return
        now = self.clock()
        for name, st in self.rooms.items():
            online = [op for op, n in self.online.get(name, Counter()).items() if n > 0]
            if st.assign(now, online):
                self.changed(name)

    def connected(self, room: str, operator: str, delta: int) -> None:
        """An operator's console opened (+1) or closed (-1) on ``room``."""
        self.online.setdefault(room, Counter())[operator] += delta

    # -- views ------------------------------------------------------------------------------------------
    def stats(self, room: str | None) -> dict[str, Any]:
        st = self.room(room)
        now = self.clock()
        cached = self._stats_cache.get(st.room)
        if cached is not None and cached[1] == st.ver and now - cached[0] < IDLE_REFRESH_S / 2:
            return cached[2]
        out = st.stats(now, self.counters.snapshot())
        out["room"] = st.room
        out["outbound"] = self.outbox.connector.name
        out["marks"] = self.tally(st.room).summary()  # 问题解决率 / 满意度, by intent and by operator
        if self.tickets is not None:  # overdue tickets are flagged on the console
            overdue = self.tickets.overdue_count(st.room, now)
            out["tickets_overdue"] = overdue
            if overdue:
                out["alerts"] = [
                    *out.get("alerts", []),
                    {
                        "code": "tickets_overdue",
                        "level": "warn",
                        "title": "工单超期",
                        "detail": f"{overdue} 个工单已超过响应或处理时限，请到「工单」页跟进",
                    },
                ]
        self._stats_cache[st.room] = (now, st.ver, out)
        return out

    def queue_snapshot(self, room: str | None, view: str = "all", operator: str = "") -> dict[str, Any]:
        st = self.room(room)
        items, hidden = st.visible(view, operator)
        return {
            "room": st.room,
            "now": self.clock(),
            "ver": st.ver,
            "view": view,
            "views": st.view_counts(operator),
            "items": [i.to_dict(self.cfg.members_shown) for i in items],
            "hidden": hidden,
            "recent": [i.to_dict(self.cfg.members_shown) for i in st.recent],
            "coupons": self.coupons.rules() if self.coupons else [],
        }

    def rooms_overview(self) -> list[dict[str, Any]]:
        """Each room's open P0/P1 counts and alert titles, for the room switcher."""
        out = []
        for name in sorted(self.rooms):
            stats = self.stats(name)
            out.append(
                {
                    "room": name,
                    "open_p0": stats["open_p0"],
                    "open_p1": stats["open_p1"],
                    "alerts": [a["title"] for a in stats["alerts"]],
                }
            )
        return out

    def streamer_view(self, room: str | None) -> dict[str, Any]:
        st = self.room(room)
        now = self.clock()
        stats = self.stats(st.room)
        coupon = st.announce or None
        if coupon is None and self.coupons is not None:
            suggested = [
                (k.split(":", 1)[1], v) for k, v in st.totals.items() if k.startswith("coupon_suggested:")
            ]
            for rule_id, _ in sorted(suggested, key=lambda kv: -kv[1]):
                coupon = self.coupons.announceable(rule_id)  # never an approval-only coupon
                if coupon:
                    break
            if coupon is None:
                coupon = self.coupons.first_announceable()
        product = self._on_air_product()
        hot = st.hottest(now)
        if product is not None:  # a price question without a scripted line gets the price on air
            for h in hot:
                if h["on_air"]:
                    continue
                if h["intent"] == "price_promo" and product.get("price") is not None:
                    h["on_air"] = f"{product['link']}号链接 {product['name']} ¥{product['price']:g}"
                elif h["intent"] == "logistics" and product.get("ship_days"):
                    h["on_air"] = f"{product['link']}号链接 现货{product['ship_days']:g}天内发货"
        return {
            "type": "streamer",
            "room": st.room,
            "now": now,
            "product": product,
            "pinned": list(st.pinned.values()),
            "hot": hot,
            "buy_signals_total": stats["buy_signals_total"],
            "buy_signals_per_min": stats["buy_signals_per_min"],
            "comments_per_min": stats["comments_per_min"],
            "coupon": coupon,
            "alerts": [a for a in stats["alerts"] if a["code"] in ("complaint_wave", "negative_spike")],
        }

    def _on_air_product(self) -> dict[str, Any] | None:
        """The product on air (link, name, price, stock) for the streamer view, if the catalogue says."""
        if self.products is None:
            return None
        try:
            cat = self.products()
        except Exception as exc:  # the streamer view never fails for the catalogue
            log.debug("console: catalogue not readable: %r", exc)
            return None
        link = cat.get("on_air")
        return next((dict(p) for p in cat.get("products", []) if p.get("link") == link), None)

    # -- actions ----------------------------------------------------------------------------------------
    async def act(self, req: ActionRequest, operator: str) -> dict[str, Any]:
        """Run one operator action; raises :class:`ActionError` when it cannot be done.

        The checks every action shares are made here (the card exists, nobody else holds it, it is still
        open unless the kind works on handled cards too); the kind's own work is :data:`ACTIONS`'s handler.
        """
        st = self.room(req.room)
        item = st.find(req.item_id)
        if item is None:
            raise ActionError("该条目不存在或已移出队列", "no such item", code=ErrorCode.NOT_FOUND)
        now = self.clock()
        kind = req.kind
        held_by_other = item.taken_by and item.taken_by != operator and item.status == OPEN
        if held_by_other and not req.force and kind is not ActionKind.TAKEOVER:
            raise ActionError(
                f"已由 {item.taken_by} 接手，可点“接管”",
                f"taken by {item.taken_by} (take over to act)",
                code=ErrorCode.CONFLICT,
            )
        if kind not in ON_HANDLED and item.status != OPEN:
            raise ActionError("该条目已处理", f"item already {item.status}", code=ErrorCode.CONFLICT)
        action = self._action(item, operator, kind, now)
        ctx = ActionContext(
            req=req,
            st=st,
            item=item,
            operator=operator,
            now=now,
            action=action,
            records=[action],
            result={"ok": True, "item_id": item.item_id, "action_id": action.action_id},
        )
        handler = ACTIONS.get(kind)
        if handler is None:
            raise ActionError("不支持的操作", f"unsupported action {kind.value}")
        await handler(self, ctx)
        if ctx.records:
            await self._write(item.session_id, ctx.records)
        self.changed(st.room)
        return ctx.result

    async def _take(self, ctx: ActionContext) -> None:
        item, action, operator = ctx.item, ctx.action, ctx.operator
        previous = item.taken_by if item.taken_by != operator else ""
        if previous:
            action.kind = ActionKind.TAKEOVER
            action.note = f"接管自 {previous}"
            ctx.result["taken_from"] = previous
        ctx.st.take(item, operator, ctx.now)

    async def _pin(self, ctx: ActionContext) -> None:
        if ctx.item.kind != "cluster":
            raise ActionError("只有聚合问题可以置顶到主播视图", "only a cluster can be pinned")
        ctx.result["pinned"] = ctx.st.pin(ctx.item, ctx.now)
        ctx.action.note = "pin" if ctx.result["pinned"] else "unpin"

    async def _send(self, ctx: ActionContext) -> None:
        item, action, operator, now, req = ctx.item, ctx.action, ctx.operator, ctx.now, ctx.req
        text = (req.text or (item.suggestion or {}).get("reply", "")).strip()
        if not text:
            raise ActionError("回复内容为空", "empty reply")
        terms = self.term_hits(text) if self.term_hits is not None else []
        if terms and not req.force_terms:
            raise ActionError(
                f"回复含违禁用语「{'、'.join(terms)}」，请修改或确认强制发送",
                f"reply carries forbidden terms: {', '.join(terms)}",
                terms=terms,
            )
        if terms:
            action.note = FORCED_NOTE + "、".join(terms)
        action.text = text
        suggested = (item.suggestion or {}).get("reply", "")
        if suggested and text != suggested.strip():
            ctx.records.insert(0, self._action(item, operator, ActionKind.EDIT, now, text=text))
        item.taken_by = item.taken_by or operator
        item.delivery = {"status": QUEUED, "attempts": 0, "error": "", "at": now}
        ctx.records = ctx.records[:-1]  # the send itself is recorded with each delivery outcome
        message = self._reply_message(item, action)
        if item.kind == "cluster":  # reply to all: one room-level reply, recorded against every member
            action.text = message["text"]
            ctx.records += self._reply_all_records(item, action, now)
            ctx.result["members"] = len(item.member_ids)
        ctx.st.close(item, SENT, now)
        await self._submit(item, action, message)

    async def _escalate(self, ctx: ActionContext) -> None:
        item, st = ctx.item, ctx.st
        note = ctx.req.note.strip()
        if not note:
            raise ActionError("请填写工单备注", "a ticket needs a note")
        ctx.action.note = note
        item.note = note
        ticket = {
            "ticket_id": f"T{len(st.tickets) + 1:04d}",
            "item_id": item.item_id,
            "note": note,
            "by": ctx.operator,
            "at": ctx.now,
            "text": item.first.text,
        }
        if self.tickets is not None:  # a stored ticket (survives restarts), followed up on 工单
            stored = await self.tickets.create_from_item(item, note, ctx.operator)
            ticket["ticket_id"] = stored.ticket_id
        st.tickets.append(ticket)
        ctx.result["ticket"] = ticket
        st.close(item, STATUS_CLOSING[ctx.req.kind], ctx.now)

    async def _issue_coupon(self, ctx: ActionContext) -> None:
        ctx.result["coupon"] = await self._coupon(
            ctx.st, ctx.item, ctx.req, ctx.action, ctx.operator, ctx.now
        )

    async def _moderate(self, ctx: ActionContext) -> None:
        item, st, action, kind, now = ctx.item, ctx.st, ctx.action, ctx.req.kind, ctx.now
        user_id = item.first.user_id
        action.user_id = user_id
        action.note = ctx.req.note
        closed = [item] + (
            [i for i in st.user_items(user_id) if i is not item] if kind is not ActionKind.DELETE else []
        )
        if kind is ActionKind.MUTE:
            st.muted.add(user_id)
        elif kind is ActionKind.BAN:
            st.banned.add(user_id)
        for other in closed:
            st.close(other, STATUS_CLOSING[kind], now)
        ctx.result["closed"] = len(closed)
        item.delivery = {"status": QUEUED, "attempts": 0, "error": "", "at": now}
        message = {
            "type": "moderate",
            "action": kind.value,
            "room": item.room,
            "user_id": user_id,
            "comment_id": item.first.comment_id,
            "action_id": action.action_id,
        }
        await self._write(item.session_id, ctx.records)
        ctx.records = []
        await self._submit(item, action, message)

    async def _mark(self, ctx: ActionContext) -> None:
        item, st, kind = ctx.item, ctx.st, ctx.req.kind
        try:
            mark = check_mark(kind.value, ctx.req.note)
        except MarkError:
            good, bad = MARKS[kind.value]
            raise ActionError("请选择标记", f"note must be {good} or {bad}") from None
        ctx.action.note = mark
        self.tally(st.room).mark(kind.value, item.target_id, item.intent.value, ctx.operator, mark)
        item.marks[kind.value] = mark
        ctx.result["mark"] = mark
        if item.status == OPEN and kind is ActionKind.RESOLVE:  # 已解决/未解决 closes an open card
            st.close(item, mark, ctx.now)
        else:
            st.bump(item)

    async def _close(self, ctx: ActionContext) -> None:
        """Dismiss, or copy the reply to send it by hand: the card is handled."""
        item, action, kind = ctx.item, ctx.action, ctx.req.kind
        if kind is ActionKind.COPY:
            action.text = ctx.req.text or (item.suggestion or {}).get("reply", "")
        action.note = ctx.req.note
        ctx.st.close(item, STATUS_CLOSING[kind], ctx.now)

    async def _reply_all(self, ctx: ActionContext) -> None:
        raise ActionError("回复全部请用 send（聚合卡片）", "reply to all is a send on a cluster card")

    async def act_bulk(
        self, room: str, item_ids: list[str], kind: ActionKind, operator: str, note: str = ""
    ) -> dict[str, Any]:
        """The same action on many cards (the moderation queue's select-all + mute/ban/dismiss): each is done
        and recorded as if alone; what could not be done is reported per card, never half-applied."""
        if kind not in BULK_KINDS:
            raise ActionError("批量操作仅支持禁言、封禁、忽略", f"no bulk {kind.value}")
        done: list[str] = []
        failed: dict[str, str] = {}
        for item_id in dict.fromkeys(item_ids):
            try:
                await self.act(ActionRequest(room, item_id, kind, note=note), operator)
            except ActionError as exc:
                failed[item_id] = exc.zh
            else:
                done.append(item_id)
        return {"ok": not failed, "done": done, "failed": failed}

    def _reply_all_records(self, item: Item, action: OperatorAction, now: float) -> list[OperatorAction]:
        return [
            OperatorAction(
                action_id=f"{action.action_id}.m{i}",
                room=item.room,
                operator=action.operator,
                kind=ActionKind.REPLY_ALL,
                target_id=comment_id,
                ts=now,
                text=action.text,
                note=f"cluster {item.cluster_id}",
            )
            for i, comment_id in enumerate(item.member_ids)
        ]

    def _action(
        self, item: Item, operator: str, kind: ActionKind, now: float, text: str = ""
    ) -> OperatorAction:
        return OperatorAction(
            action_id=f"a-{secrets.token_hex(8)}",
            room=item.room,
            operator=operator,
            kind=kind,
            target_id=item.target_id,
            ts=now,
            text=text,
            user_id=item.first.user_id if item.kind == "single" else "",
        )

    async def _write(self, session_id: str, actions: list[OperatorAction]) -> None:
        await self.store.write(StoreBatch(actions=[(session_id, a) for a in actions]))

    async def _coupon(
        self, st: RoomState, item: Item, req: ActionRequest, action: OperatorAction, operator: str, now: float
    ) -> dict[str, Any]:
        from livecs.scripts.coupons import CouponRefused

        if self.coupons is None:
            raise ActionError("未接入优惠券引擎", "no coupon engine", code=ErrorCode.CONFLICT)
        approve = req.kind is ActionKind.APPROVE_COUPON
        rule_id = req.coupon_rule_id or (item.suggestion or {}).get("coupon_rule_id", "")
        if not rule_id:
            raise ActionError("请选择优惠券", "no coupon rule given")
        if item.kind == "cluster":
            raise ActionError("聚合条目请在直播间口播优惠券，不能发给单个用户", "coupons go to one viewer")
        try:
            issued = await self.coupons.issue(
                rule_id,
                room=item.room,
                user_id=item.first.user_id,
                operator=operator,
                approved_by=operator if approve else "",
                comment_id=item.first.comment_id,
                member_tier=MemberTier(item.first.member_tier),
            )
        except CouponRefused as exc:
            item.coupon = {"rule_id": rule_id, "status": "refused", "reason": exc.zh}
            st.bump(item)
            self.changed(st.room)
            raise ActionError(
                f"优惠券未发出：{exc.zh}", f"coupon refused: {exc.en}", code=ErrorCode.CONFLICT
            ) from None
        except MerchantError as exc:
            raise ActionError(exc.zh, exc.en, code=exc.code) from None
        action.coupon_rule_id = rule_id
        action.note = f"issue {issued.get('issue_id', '')}"
        desc = self.coupons.describe(rule_id) or {"id": rule_id, "name": rule_id, "text": ""}
        item.coupon = {
            "rule_id": rule_id,
            "status": "issued",
            "name": desc["name"],
            "issue_id": issued.get("issue_id"),
        }
        if self.coupons.announceable(rule_id) is not None:  # an approved compensation stays private
            st.announce = desc
        st.mark_acted(item, now)
        st.bump(item)
        return issued

    async def record_on_air(self, link: int | None, by: str) -> int:
        """Record the merchant's on-air change as an ``on_air`` event in each live room's session (the
        review's on-air periods come from these); returns how many sessions got it."""
        now = self.clock()
        batch = StoreBatch()
        for st in self.rooms.values():
            if st.session_id:
                ev = LiveEvent(
                    event_id=f"onair-{secrets.token_hex(8)}",
                    platform="console",
                    room=st.room,
                    kind=EventKind.ON_AIR,
                    ts=now,
                    data={"link": link, "by": by},
                    received_at=now,
                )
                batch.events.append((st.session_id, ev))
        if batch.events:
            await self.store.write(batch)
        return len(batch.events)

    # -- delivery ---------------------------------------------------------------------------------------
    def _reply_message(self, item: Item, action: OperatorAction) -> dict[str, Any]:
        rep = item.first
        text = action.text
        mentions: list[str] = []
        if item.kind == "cluster" and self.cfg.cluster_reply_mentions:
            for m in reversed(item.members):  # the newest askers first
                if _mentionable(m.nickname) and m.nickname not in mentions:
                    mentions.append(m.nickname)
                if len(mentions) >= self.cfg.cluster_reply_mentions:
                    break
            text = " ".join(f"@{n}" for n in mentions) + " " + text
        return {
            "type": "reply",
            "room": item.room,
            "text": text,
            "mentions": mentions,
            "members": len(item.member_ids) if item.kind == "cluster" else 1,
            "reply_to": rep.comment_id,
            "user_id": rep.user_id if item.kind == "single" else "",
            "nickname": rep.nickname if item.kind == "single" else "",
            "cluster_id": item.cluster_id,
            "action_id": action.action_id,
            "operator": action.operator,
        }

    async def _submit(self, item: Item, action: OperatorAction, message: dict[str, Any]) -> None:
        st = self.room(item.room)

        async def on_status(job: DeliveryJob, status: str, error: str) -> None:
            now = self.clock()
            item.delivery = {"status": status, "attempts": job.attempts, "error": error, "at": now}
            outcome = OperatorAction(
                action_id=f"{action.action_id}.{job.attempts}",
                room=action.room,
                operator=action.operator,
                kind=action.kind,
                target_id=action.target_id,
                ts=now,
                text=action.text,
                note=(f"{action.note}; " if action.note else "")
                + f"attempt {job.attempts}/{self.outbox.cfg.max_attempts}"
                + (f": {error}" if error else ""),
                user_id=action.user_id,
                delivery_status=status if status != RETRYING else "failed",
            )
            if action.kind is ActionKind.SEND and status == GAVE_UP:
                st.reopen(item)  # back to the queue: the viewer still has no answer
            st.bump(item)
            self.changed(st.room)
            await self._write(item.session_id, [outcome])

        await self.outbox.submit(DeliveryJob(item.room, message, on_status))


#: what each action kind does (:meth:`Hub.act` makes the checks they share first); a kind not here is refused
ACTIONS: dict[ActionKind, Callable[[Hub, ActionContext], Awaitable[None]]] = {
    ActionKind.TAKE: Hub._take,
    ActionKind.TAKEOVER: Hub._take,
    ActionKind.PIN: Hub._pin,
    ActionKind.SEND: Hub._send,
    ActionKind.ESCALATE: Hub._escalate,
    ActionKind.ISSUE_COUPON: Hub._issue_coupon,
    ActionKind.APPROVE_COUPON: Hub._issue_coupon,
    ActionKind.MUTE: Hub._moderate,
    ActionKind.BAN: Hub._moderate,
    ActionKind.DELETE: Hub._moderate,
    ActionKind.RESOLVE: Hub._mark,
    ActionKind.SATISFACTION: Hub._mark,
    ActionKind.DISMISS: Hub._close,
    ActionKind.COPY: Hub._close,
    ActionKind.REPLY_ALL: Hub._reply_all,
}
