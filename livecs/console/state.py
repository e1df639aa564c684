"""The console's state of one room, without I/O: queue items, clusters, sliding-window counters, alerts.

:class:`RoomState` is fed the records the pipeline publishes on the ``results`` topic (one ``Result`` per
comment — the comment, its triage and suggestions together — and ``LiveEvent``s) with
:meth:`RoomState.apply`, and answers what the screens show: the operator queue (:meth:`RoomState.visible`,
most urgent first, capped, the rest counted; the moderation queue newest first), the live panel
(:meth:`RoomState.stats`), alerts against the room's own baseline, and the streamer's hottest clusters.

A repeated question is ONE card: comments that triage put in the same cluster (at the ``cluster_priorities``;
P0 and complaints always get a card each) join the open card of that cluster, which shows the count, the
representative text, the newest members and the suggested reply; answering it (reply to all) or dismissing
it closes it for every member, and members arriving after that open a new card. A card's SLA runs from its
oldest unanswered member (its creation), never from an older cluster's deadline, and a question cluster
never outranks a complaint: complaints sort first within a priority and a cluster card is never P0.

Every change bumps a version number; each item remembers the version of its last change so pushes can send
only what changed. Actions are applied here too (:meth:`RoomState.take`, :meth:`RoomState.close`…);
recording them and delivering replies is the hub's job (:mod:`livecs.console.hub`).
"""

from __future__ import annotations

import heapq
import math
import operator
import statistics
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from livecs.config import ConsoleSettings
from livecs.models import (
    Comment,
    EventKind,
    Intent,
    LiveEvent,
    Priority,
    Record,
    Result,
    Sentiment,
    Suggestion,
    Triage,
)
from livecs.triage.settings import PrioritySettings
from livecs.vocabulary import CLUSTER_CARD_INTENTS, SOURCE_STATE_ZH, ItemStatus

OPEN = ItemStatus.OPEN
SECONDS_PER_MINUTE = 60.0
#: seconds to first action per priority when neither the console nor the triage settings say
DEFAULT_SLA_S: dict[str, float | None] = PrioritySettings().sla_s
#: when the open items exceed ``queue_max_items``, the least urgent are closed down to this share of it
EVICT_TO_SHARE = 0.9


@dataclass(slots=True)
class Member:
    comment_id: str
    user_id: str
    nickname: str
    member_tier: int
    text: str
    ts: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "comment_id": self.comment_id,
            "user_id": self.user_id,
            "nickname": self.nickname,
            "member_tier": self.member_tier,
            "text": self.text,
            "ts": self.ts,
        }


@dataclass(slots=True)
class Item:
    """One card: a single comment or a cluster of similar ones."""

    item_id: str
    room: str
    session_id: str
    kind: str  # "single" | "cluster"
    queue: str  # "reply" | "mod"
    priority: Priority
    created_at: float
    sla_deadline: float | None
    cluster_id: str
    intent: Intent
    sentiment: Sentiment
    emotion: str
    spam_reason: str
    members: deque[Member]
    count: int = 1
    suggestion: dict[str, Any] | None = None
    taken_by: str = ""
    taken_at: float | None = None
    status: str = OPEN
    delivery: dict[str, Any] = field(default_factory=dict)
    coupon: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    marks: dict[str, str] = field(default_factory=dict)  # resolve / satisfaction -> the last mark
    first_action_at: float | None = None
    closed_at: float | None = None
    ver: int = 0
    member_ids: list[str] = field(
        default_factory=list
    )  # every member's comment id (capped), for reply-to-all
    answered_before: int = 0  # cluster: members answered by earlier cards of the same cluster
    taken_from: str = ""  # who held the card before a take-over
    pinned: bool = False  # cluster: pinned to the streamer view
    offered_to: str = ""  # automatic assignment: the operator this card is offered to…
    offered_until: float = 0.0  # …until then (then it moves on)
    offered_before: tuple[str, ...] = ()  # a tuple: one object less per card for the collector to walk
    #: :meth:`sort_key` and :meth:`newest_first`, kept: the queue is sorted for every push (thousands of
    #: open cards under a flood); :meth:`rerank` after a change of priority or deadline
    urgency: tuple[int, int, float, float] = (0, 0, 0.0, 0.0)
    recency: tuple[float, str] = (0.0, "")

    def __post_init__(self) -> None:
        self.rerank()
        self.recency = self.newest_first()

    def rerank(self) -> None:
        self.urgency = self.sort_key()

    @property
    def first(self) -> Member:
        return self.members[0]

    @property
    def target_id(self) -> str:
        """What an action on this card is about: the cluster id, or the comment id."""
        return self.cluster_id if self.kind == "cluster" else self.first.comment_id

    def sort_key(self) -> tuple[int, int, float, float]:
        """Priority, then complaints before questions, then the SLA deadline, then age."""
        deadline = self.sla_deadline if self.sla_deadline is not None else math.inf
        return (self.priority.rank, 0 if self.intent is Intent.COMPLAINT else 1, deadline, self.created_at)

    def newest_first(self) -> tuple[float, str]:
        """The moderation queue's order: during a raid the newest accounts are the ones still posting."""
        return (-self.created_at, self.item_id)

    def to_dict(self, members_shown: int) -> dict[str, Any]:
        rep = self.first
        shown = list(self.members)[-members_shown:] if self.kind == "cluster" else []
        return {
            "id": self.item_id,
            "kind": self.kind,
            "queue": self.queue,
            "priority": self.priority.value,
            "created_at": self.created_at,
            "sla_deadline": self.sla_deadline,
            "cluster_id": self.cluster_id,
            "intent": self.intent.value,
            "sentiment": self.sentiment.value,
            "emotion": self.emotion,
            "spam_reason": self.spam_reason,
            "text": rep.text,
            "nickname": rep.nickname,
            "user_id": rep.user_id,
            "member_tier": rep.member_tier,
            "count": self.count,
            "members": [m.to_dict() for m in shown],
            "suggestion": self.suggestion,
            "taken_by": self.taken_by,
            "status": self.status,
            "delivery": self.delivery,
            "coupon": self.coupon,
            "note": self.note,
            "marks": self.marks,
            "answered_before": self.answered_before,
            "taken_from": self.taken_from,
            "pinned": self.pinned,
            "offered_to": self.offered_to,
            "ver": self.ver,
        }


_URGENCY = operator.attrgetter("urgency")
_RECENCY = operator.attrgetter("recency")


class SlidingCounts:
    """Per-second buckets of named counts; sums over the last N seconds in O(buckets)."""

    def __init__(self, span_s: float) -> None:
        self.span = math.ceil(span_s)
        self._buckets: deque[tuple[int, Counter[str]]] = deque()
        self.first_sec: int | None = None  # when counting began (the room's history starts there)

    def add(self, now: float, keys: Iterable[str]) -> None:
        sec = int(now)
        if self.first_sec is None:
            self.first_sec = sec
        if not self._buckets or self._buckets[-1][0] != sec:
            if self._buckets and self._buckets[-1][0] > sec:  # late record: count it in the newest bucket
                sec = self._buckets[-1][0]
            else:
                self._buckets.append((sec, Counter()))
        bucket = self._buckets[-1][1]
        for k in keys:
            bucket[k] += 1
        self._trim(sec)

    def _trim(self, now_sec: int) -> None:
        while self._buckets and self._buckets[0][0] <= now_sec - self.span:
            self._buckets.popleft()

    def windows(self, now: float, width_s: float, count: int) -> list[Counter[str]]:
        """Totals of the ``count`` complete windows of ``width_s`` before the current one, newest first
        (windows from before counting began are left out)."""
        width = max(1, math.ceil(width_s))
        now_sec = int(now)
        out: list[Counter[str]] = []
        first = self.first_sec
        if first is None:
            return out
        for k in range(count):
            hi = now_sec - width * (k + 1)  # window k covers (hi - width, hi]
            if hi - width + 1 < first:
                break
            out.append(Counter())
        if not out:
            return out
        for sec, c in self._buckets:
            age = now_sec - sec
            if age < width:
                continue
            k = (age - width) // width
            if k < len(out):
                out[k].update(c)
        return out

    def totals(self, now: float, span_s: float | None = None) -> Counter[str]:
        span = self.span if span_s is None else math.ceil(span_s)
        since = int(now) - span
        out: Counter[str] = Counter()
        for sec, c in self._buckets:
            if sec > since:
                out.update(c)
        return out


@dataclass(slots=True)
class Heat:
    """How hot one question cluster is for the streamer view."""

    key: str
    label: str
    intent: Intent
    on_air: str = ""
    reply: str = ""
    hits: deque[float] = field(default_factory=lambda: deque(maxlen=HEAT_HITS_KEPT))
    last: float = 0.0


HEAT_HITS_KEPT = 2000


class RoomState:
    """Everything the console knows about one room (see the module docstring)."""

    def __init__(
        self, room: str, settings: ConsoleSettings, sla_s: Mapping[str, float | None] | None = None
    ) -> None:
        self.room = room
        self.cfg = settings
        table = settings.sla_s or sla_s or DEFAULT_SLA_S
        self._sla: dict[Priority, float | None] = {Priority(k): v for k, v in table.items()}
        self.ver = 0
        self.cards_ver = 0  # the version of the last change to a card (the rest: numbers on the live panel)
        self.items: dict[str, Item] = {}
        self.recent: deque[Item] = deque(maxlen=settings.recent_done)
        self._by_comment: dict[str, str] = {}  # comment id -> open item id (for late suggestions)
        self._cluster_open: dict[str, str] = {}  # cluster id -> open item id
        self._cluster_gen: Counter[str] = Counter()
        self._queue_prios = {Priority(p) for p in settings.queue_priorities}
        self._cluster_prios = {Priority(p) for p in settings.cluster_priorities}
        a = settings.alerts
        self.window = SlidingCounts(max(settings.stats_window_s, a.window_s + a.baseline_s + a.window_s))
        self._cluster_answered: dict[str, int] = {}  # cluster id -> members answered so far
        self.pinned: dict[str, dict[str, Any]] = {}  # cluster id -> what the streamer view shows on top
        self._alerting: set[str] = set()
        self.fresh: list[Item] = []  # cards created since the hub last looked (automatic assignment)
        self.offered: dict[str, Item] = {}  # open cards offered to an operator, not yet taken
        self.heat: dict[str, Heat] = {}
        self.response_times: deque[float] = deque(maxlen=settings.response_samples)
        self.muted: set[str] = set()
        self.banned: set[str] = set()
        self.tickets: list[dict[str, Any]] = []
        self.totals: Counter[str] = Counter()
        self.announce: dict[str, Any] = {}
        self.session_id = ""
        self._visible_cache: tuple[int, list[Item], int] | None = None

    # -- feeding ----------------------------------------------------------------------------------------
    def bump(self, item: Item | None = None) -> int:
        self.ver += 1
        if item is not None:
            item.ver = self.cards_ver = self.ver
        return self.ver

    def apply(self, records: Iterable[tuple[str, Record]], now: float) -> None:
        """Apply records in publication order: ``(session_id, record)`` pairs. Each comment arrives as one
        :class:`~livecs.models.Result` (comment, triage and suggestions together), so nothing is paired by
        position and a read cut anywhere loses nothing."""
        for session_id, rec in records:
            if isinstance(rec, Result):
                self.session_id = session_id
                t = rec.triage
                if t is None or t.comment_id != rec.comment.comment_id:
                    self._untriaged(rec.comment, now)
                    continue
                self._triaged(session_id, rec.comment, t, now)
                for s in rec.suggestions:
                    self._suggested(s)
            elif isinstance(rec, LiveEvent):
                self._event(rec, now)
            elif isinstance(rec, Suggestion):
                self._suggested(rec)
            elif isinstance(rec, Comment):  # a bare comment carries no triage: counted, no card
                self._untriaged(rec, now)

    def _untriaged(self, c: Comment, now: float) -> None:
        self.totals["comments"] += 1
        self.totals["untriaged"] += 1
        self.window.add(now, ("comments",))
        self.bump()

    def _event(self, e: LiveEvent, now: float) -> None:
        if e.kind is EventKind.ORDER_PAID:
            self.totals["buy"] += 1
            self.window.add(now, ("buy", "orders"))
            self.bump()

    def _triaged(self, session_id: str, c: Comment, t: Triage, now: float) -> None:
        keys = ["comments", f"intent:{t.intent.value}"]
        if t.sentiment is Sentiment.NEG:
            keys.append("neg")
        if t.intent is Intent.BUY_SIGNAL:
            keys.append("buy")
        if t.intent is Intent.COMPLAINT:
            keys.append("complaint")
        if t.spam or t.priority is Priority.MOD:
            keys.append("spam")
        self.window.add(now, keys)
        self.totals.update(keys)
        if c.user_id in self.banned or c.user_id in self.muted:
            self.totals["from_muted"] += 1
            self.bump()
            return
        if t.priority not in self._queue_prios:
            self.totals["counted_only"] += 1
            self.bump()
            return
        member = Member(c.comment_id, c.user_id, c.nickname, int(c.member_tier), c.text, c.ts)
        clustered = (
            bool(t.cluster_id) and t.priority in self._cluster_prios and t.intent is not Intent.COMPLAINT
        )
        if clustered:
            self._heat(t, c, now)
            item_id = self._cluster_open.get(t.cluster_id)
            item = self.items.get(item_id) if item_id else None
            if item is not None:
                item.members.append(member)
                item.count += 1
                if len(item.member_ids) < self.cfg.cluster_ids_kept:
                    item.member_ids.append(c.comment_id)
                if t.priority.rank < item.priority.rank:
                    item.priority = t.priority
                    item.sla_deadline = self.deadline(item.priority, item.created_at, None)
                    item.rerank()
                self._by_comment[c.comment_id] = item.item_id
                self.bump(item)
                return
            self._cluster_gen[t.cluster_id] += 1
            item_id = f"c:{t.cluster_id}:{self._cluster_gen[t.cluster_id]}"
            kind = "cluster"
        else:
            if t.cluster_id and t.intent in CLUSTER_CARD_INTENTS:
                self._heat(t, c, now)
            item_id = f"m:{c.comment_id}"
            kind = "single"
        if item_id in self.items:
            return  # a redelivered comment
        item = Item(
            item_id=item_id,
            room=self.room,
            session_id=session_id,
            kind=kind,
            queue="mod" if t.priority is Priority.MOD else "reply",
            priority=t.priority,
            created_at=now,
            # the card's own SLA: the triage's deadline for a lone comment, else from now — never a
            # cluster's older deadline (the triage dates a cluster member's SLA from the cluster's start)
            sla_deadline=(
                t.sla_deadline
                if kind == "single" and t.cluster_size <= 1
                else self.deadline(t.priority, now, t.sla_deadline)
            ),
            cluster_id=t.cluster_id,
            intent=t.intent,
            sentiment=t.sentiment,
            emotion=t.emotion.value,
            spam_reason=t.spam_reason,
            members=deque([member], maxlen=self.cfg.members_kept),
            member_ids=[c.comment_id],
        )
        if kind == "cluster":
            item.answered_before = self._cluster_answered.get(t.cluster_id, 0)
            item.pinned = t.cluster_id in self.pinned
        self.items[item_id] = item
        self.fresh.append(item)
        self._by_comment[c.comment_id] = item_id
        if kind == "cluster":
            self._cluster_open[t.cluster_id] = item_id
        self.bump(item)
        if len(self.items) > self.cfg.queue_max_items:
            self._evict()

    def deadline(self, priority: Priority, since: float, fallback: float | None) -> float | None:
        """When a card created at ``since`` with ``priority`` breaches its SLA."""
        if priority not in self._sla:
            return fallback
        sla = self._sla[priority]
        return None if sla is None else since + sla

    def _suggested(self, s: Suggestion) -> None:
        item_id = self._by_comment.get(s.comment_id)
        if item_id is None and s.cluster_id:
            item_id = self._cluster_open.get(s.cluster_id)
        if s.cluster_id and s.on_air:
            h = self.heat.get(s.cluster_id)
            if h is not None:
                h.on_air, h.reply = s.on_air, s.reply
        item = self.items.get(item_id) if item_id else None
        if item is None or (item.suggestion is not None and item.suggestion.get("score", 0) > s.score):
            return
        item.suggestion = {
            "suggestion_id": s.suggestion_id,
            "reply": s.reply,
            "on_air": s.on_air,
            "script_id": s.script_id,
            "coupon_rule_id": s.coupon_rule_id,
            "score": s.score,
            "why": list(s.why)[:5],
        }
        if s.coupon_rule_id:
            self.totals[f"coupon_suggested:{s.coupon_rule_id}"] += 1
        self.bump(item)

    def _heat(self, t: Triage, c: Comment, now: float) -> None:
        if t.intent not in CLUSTER_CARD_INTENTS:
            return
        key = t.cluster_id
        h = self.heat.get(key)
        if h is None:
            h = self.heat[key] = Heat(key, c.text, t.intent)
            if len(self.heat) > self.cfg.queue_max_items:
                cutoff = now - self.cfg.streamer_window_s
                for k in [k for k, v in self.heat.items() if v.last < cutoff]:
                    del self.heat[k]
        h.hits.append(now)
        h.last = now

    def _evict(self) -> None:
        """Too many open items: close the least urgent ones (they stay in the record)."""
        keep = int(self.cfg.queue_max_items * EVICT_TO_SHARE)  # in chunks: eviction stays off the hot path
        excess = len(self.items) - keep
        victims = heapq.nlargest(excess, self.items.values(), key=_URGENCY)
        for item in victims:
            self._forget(item)
            item.status = ItemStatus.EVICTED
            self.totals["evicted"] += 1
        self._visible_cache = None

    def _forget(self, item: Item) -> None:
        self.items.pop(item.item_id, None)
        self.offered.pop(item.item_id, None)
        if item.kind == "cluster" and self._cluster_open.get(item.cluster_id) == item.item_id:
            del self._cluster_open[item.cluster_id]
        for m in item.members:
            if self._by_comment.get(m.comment_id) == item.item_id:
                del self._by_comment[m.comment_id]

    # -- actions ----------------------------------------------------------------------------------------
    def find(self, item_id: str) -> Item | None:
        item = self.items.get(item_id)
        if item is not None:
            return item
        return next((i for i in self.recent if i.item_id == item_id), None)

    def mark_acted(self, item: Item, now: float) -> None:
        if item.first_action_at is None:
            item.first_action_at = now
            self.response_times.append(max(0.0, now - item.created_at))

    def take(self, item: Item, operator: str, now: float) -> None:
        self.offered.pop(item.item_id, None)
        if item.taken_by and item.taken_by != operator:
            item.taken_from = item.taken_by
        item.taken_by, item.taken_at = operator, now
        self.mark_acted(item, now)
        self.bump(item)

    def close(self, item: Item, status: str, now: float) -> None:
        """Move an open item to the recently handled list with ``status``. A cluster card closed counts as
        answered for its members; members arriving afterwards open a new card."""
        self.mark_acted(item, now)
        item.status = status
        item.closed_at = now
        if item.kind == "cluster":
            self._cluster_answered[item.cluster_id] = item.answered_before + item.count
        if item.item_id in self.items:
            self._forget(item)
            self.recent.appendleft(item)
        self.bump(item)

    def reopen(self, item: Item) -> None:
        """A reply that could not be delivered goes back to the queue."""
        if item.item_id in self.items:
            return
        try:
            self.recent.remove(item)
        except ValueError:
            pass
        item.status = OPEN
        item.closed_at = None
        self.items[item.item_id] = item
        if item.kind == "cluster" and item.cluster_id not in self._cluster_open:
            self._cluster_open[item.cluster_id] = item.item_id
        self.bump(item)

    def pin(self, item: Item, now: float) -> bool:
        """Pin a cluster card's question (and its answer) to the top of the streamer view, or unpin it."""
        if item.cluster_id in self.pinned:
            del self.pinned[item.cluster_id]
            item.pinned = False
        else:
            sugg = item.suggestion or {}
            self.pinned[item.cluster_id] = {
                "key": item.cluster_id,
                "label": item.first.text,
                "intent": item.intent.value,
                "answer": sugg.get("on_air") or sugg.get("reply", ""),
                "item_id": item.item_id,
                "at": now,
            }
            item.pinned = True
        self.bump(item)
        return item.pinned

    def assign(self, now: float, online: Iterable[str]) -> int:
        """Automatic assignment (``console.assign``): offer new cards and cards whose offer ran out to the
        operator online in their skill group holding the fewest cards. Returns how many offers were made."""
        cfg = self.cfg.assign
        fresh, self.fresh = self.fresh, []
        if not cfg.enabled:
            return 0
        people = sorted(set(online))
        prios = {Priority(p) for p in cfg.priorities}
        due = [i for i in fresh if i.priority in prios and i.queue != "mod"]
        due += [i for i in self.offered.values() if i.offered_until <= now]
        if not people or not due:
            return 0
        load: Counter[str] = Counter()
        for i in self.items.values():
            holder = i.taken_by or i.offered_to
            if holder:
                load[holder] += 1
        made = 0
        for item in due:
            if item.taken_by or self.items.get(item.item_id) is not item:
                self.offered.pop(item.item_id, None)
                continue
            groups = [g for g, intents in cfg.groups.items() if item.intent.value in intents]
            able = [p for p in people if not groups or set(cfg.operators.get(p, groups)) & set(groups)]
            fresh_people = [p for p in able if p != item.offered_to and p not in item.offered_before]
            choice = fresh_people or [p for p in able if p != item.offered_to] or able
            if not choice:
                continue
            who = min(choice, key=lambda p: (load[p], p))
            if item.offered_to:
                load[item.offered_to] -= 1
                item.offered_before += (item.offered_to,)
            item.offered_to, item.offered_until = who, now + cfg.offer_s
            load[who] += 1
            self.offered[item.item_id] = item
            self.bump(item)
            made += 1
        return made

    def user_items(self, user_id: str) -> list[Item]:
        return [i for i in self.items.values() if i.kind == "single" and i.first.user_id == user_id]

    # -- views ------------------------------------------------------------------------------------------
    def visible(self, view: str = "all", operator: str = "") -> tuple[list[Item], int]:
        """The open items a person can act on, and how many more there are: the reply queue most urgent
        first, the moderation queue newest first (each capped at ``queue_visible``). ``view``: ``all``,
        ``mine`` (taken by ``operator``) or ``unassigned`` (taken by nobody)."""
        cache = self._visible_cache
        if view == "all" and cache is not None and cache[0] == self.ver:
            return cache[1], cache[2]
        # The reply queue and the moderation queue are capped separately, so a burst of urgent questions
        # never hides a spam raid from the moderators (and the other way round).
        n = self.cfg.queue_visible
        pool: Iterable[Item] = self.items.values()
        if view == "mine":
            pool = [
                i for i in pool if i.taken_by == operator or (not i.taken_by and i.offered_to == operator)
            ]
        elif view == "unassigned":
            pool = [i for i in pool if not i.taken_by and not i.offered_to]
        reply_pool: list[Item] = []
        mod_pool: list[Item] = []
        for i in pool:  # one pass, kept keys: this runs for every push under a flood
            (mod_pool if i.queue == "mod" else reply_pool).append(i)
        replies = heapq.nsmallest(n, reply_pool, key=_URGENCY)
        mods = heapq.nsmallest(n, mod_pool, key=_RECENCY)
        items = sorted(replies + mods, key=lambda i: i.priority.rank)  # stable: each queue keeps its order
        hidden = max(0, len(reply_pool) + len(mod_pool) - len(items))
        if view == "all":
            self._visible_cache = (self.ver, items, hidden)
        return items, hidden

    def view_counts(self, operator: str) -> dict[str, int]:
        """Open cards per view, for the 我的 / 未分配 / 全部 tabs."""
        mine = unassigned = 0
        for i in self.items.values():
            if i.taken_by == operator or (not i.taken_by and i.offered_to == operator):
                mine += 1
            elif not i.taken_by and not i.offered_to:
                unassigned += 1
        return {"all": len(self.items), "mine": mine, "unassigned": unassigned}

    def iter_open(self) -> Iterator[Item]:
        return iter(self.items.values())

    def stats(self, now: float, counters: dict[str, Any]) -> dict[str, Any]:
        """The live panel: rates over the stats window, open P0/P1, response time, ingest, alerts."""
        span = self.cfg.stats_window_s
        w = self.window.totals(now, span)
        n = w["comments"]
        triaged = sum(v for k, v in w.items() if k.startswith("intent:"))
        mix = {k.split(":", 1)[1]: v for k, v in w.items() if k.startswith("intent:")}
        open_by: Counter[Priority] = Counter()
        breached = 0
        for i in self.items.values():  # one pass (thousands of open cards under a flood)
            open_by[i.priority] += 1
            if i.sla_deadline is not None and i.sla_deadline < now:
                breached += 1
        median_first = statistics.median(self.response_times) if self.response_times else None
        return {
            "window_s": span,
            "comments_per_min": round(n * SECONDS_PER_MINUTE / span, 1),
            "intent_mix": dict(sorted(mix.items(), key=lambda kv: -kv[1])),
            "negative_share": round(w["neg"] / triaged, 3) if triaged else 0.0,
            "buy_signals_per_min": round(w["buy"] * SECONDS_PER_MINUTE / span, 1),
            "buy_signals_total": int(counters.get("buy_signals", self.totals["buy"])),
            "open": len(self.items),
            "open_p0": open_by[Priority.P0],
            "open_p1": open_by[Priority.P1],
            "open_mod": open_by[Priority.MOD],
            "sla_breached": breached,
            "median_first_action_s": round(median_first, 1) if median_first is not None else None,
            "comments_total": self.totals["comments"],
            "counted_only": self.totals["counted_only"],
            "evicted": self.totals["evicted"],
            "shed_display": int(counters.get("shed_display", 0)),
            "tickets": len(self.tickets),
            "ingest": dict(counters.get("sources", {})),
            "lag_p99_ms": counters.get("lag_p99_ms"),
            "bus": dict(counters.get("bus", {})),  # dropped / dead-lettered bus entries (Redis)
            "capture": dict(counters.get("capture", {})),  # live-platform capture health (Douyin)
            "bus_status": dict(counters.get("bus_status", {})),  # Redis reachable? buffered records
            "alerts": self.alerts(now, counters),
        }

    def alerts(self, now: float, counters: dict[str, Any]) -> list[dict[str, Any]]:
        """Alerts against the room's own baseline: the median of the previous windows over ``baseline_s``.

        A count alert fires when the current window holds at least ``max(floor, rise_factor × baseline)`` and
        clears once it drops below ``max(floor, clear_factor × baseline)``; 负面情绪激增 fires on a real rise
        of the negative share over the baseline share (before there is a baseline: an absolute share). Each
        alert says its size ("投诉 91 条/30秒，平时 6")."""
        a = self.cfg.alerts
        w = self.window.totals(now, a.window_s)
        span = f"{a.window_s:g}秒"
        history = self.window.windows(now, a.window_s, max(1, int(a.baseline_s // a.window_s)))
        out: list[dict[str, Any]] = []

        def count_alert(code: str, key: str, floor: int) -> tuple[bool, int, float | None]:
            base = statistics.median(h[key] for h in history) if history else None
            # before the room has a baseline (its first windows) only a clear flood counts: rise × floor
            fire_at = max(floor, a.rise_factor * base) if base is not None else a.rise_factor * floor
            clear_at = max(floor, a.clear_factor * base) if base is not None else floor
            on = w[key] >= (clear_at if code in self._alerting else fire_at)
            (self._alerting.add if on else self._alerting.discard)(code)
            return on, w[key], base

        triaged = sum(v for k, v in w.items() if k.startswith("intent:"))
        share = w["neg"] / triaged if triaged else 0.0
        # the baseline share: the median of the previous windows' shares (a wave in progress barely moves it)
        shares = []
        for h in history:
            n = sum(v for k, v in h.items() if k.startswith("intent:"))
            if n >= a.negative_min_comments:
                shares.append(h["neg"] / n)
        base_share = statistics.median(shares) if shares else None
        if base_share is None:
            fire = share >= a.negative_share
            clear = share >= a.negative_share * 0.8
        else:
            fire = share >= base_share + a.negative_rise and share >= base_share * a.negative_ratio
            clear = share >= base_share + a.negative_rise / 2
        on = triaged >= a.negative_min_comments and (clear if "negative_spike" in self._alerting else fire)
        (self._alerting.add if on else self._alerting.discard)("negative_spike")
        if on:
            usual = f"，平时 {base_share:.0%}" if base_share is not None else ""
            out.append(
                {
                    "code": "negative_spike",
                    "level": "warn",
                    "title": "负面情绪激增",
                    "detail": f"近{span}负面占比 {share:.0%}（{w['neg']}/{triaged}）{usual}",
                    "value": round(share, 3),
                    "baseline": round(base_share, 3) if base_share is not None else None,
                }
            )
        on, n, base = count_alert("complaint_wave", "complaint", a.complaint_count)
        if on:
            usual = f"，平时 {base:.0f}" if base is not None else ""
            out.append(
                {
                    "code": "complaint_wave",
                    "level": "danger",
                    "title": "投诉潮",
                    "detail": f"投诉 {n} 条/{span}{usual}",
                    "value": n,
                    "baseline": base,
                }
            )
        on, n, base = count_alert("spam_flood", "spam", a.spam_count)
        if on:
            usual = f"，平时 {base:.0f}" if base is not None else ""
            out.append(
                {
                    "code": "spam_flood",
                    "level": "warn",
                    "title": "刷屏/广告",
                    "detail": f"违规 {n} 条/{span}{usual}，请到审核队列处理",
                    "value": n,
                    "baseline": base,
                }
            )
        bad = {k: v for k, v in dict(counters.get("sources", {})).items() if v not in a.ingest_ok_states}
        if bad:
            out.append(
                {
                    "code": "ingest_disconnect",
                    "level": "danger",
                    "title": "弹幕接入中断",
                    "detail": "，".join(f"{k}: {SOURCE_STATE_ZH.get(v, v)}" for k, v in sorted(bad.items())),
                }
            )
        stalled = {k: v for k, v in dict(counters.get("capture", {})).items() if v.get("stalled")}
        if stalled:
            out.append(
                {
                    "code": "ingest_stalled",
                    "level": "danger",
                    "title": "弹幕停滞",
                    "detail": "，".join(
                        f"{k}: {v.get('last_chat_age_s') or v.get('stall_after_s')}秒无弹幕（直播中）"
                        for k, v in sorted(stalled.items())
                    ),
                }
            )
        return out

    def hottest(self, now: float) -> list[dict[str, Any]]:
        """The streamer's hottest question clusters over the streamer window."""
        since = now - self.cfg.streamer_window_s
        scored: list[tuple[int, float, Heat]] = []
        for h in self.heat.values():
            if h.last < since:
                continue
            n = sum(1 for t in h.hits if t >= since)
            scored.append((n, h.last, h))
        scored.sort(key=lambda x: (-x[0], -x[1]))
        return [
            {
                "key": h.key,
                "label": h.label,
                "intent": h.intent.value,
                "count": n,
                "on_air": h.on_air or h.reply,
            }
            for n, _, h in scored[: self.cfg.streamer_clusters]
        ]
