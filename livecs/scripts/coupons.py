"""Coupon rules engine: which coupons fit a comment (pure) and atomic issuing through a stock backend.

Types (``CouponRule.type``):

* ``full_reduction`` 满减 (threshold/amount), ``time_discount`` 限时折扣 (time window, percent off),
* ``member`` 会员专享 (minimum tier), ``new_customer`` 新人券 (first order), ``gift`` 赠品,
* ``compensation`` 补偿券 (always needs an operator's approval).

Triggers: intents, keywords, sentiments, cluster size (a rule with no trigger is manual only). Limits: total
stock per room, per-user limit, per-room cooldown, validity window.

:meth:`CouponEngine.eligible` is pure. :meth:`CouponEngine.issue` checks the rule, then claims through a
:class:`StockBackend`, which does stock + per-user limit + cooldown in one atomic step:

* :class:`InProcessStock` — a lock-protected dict (safe from threads; its async ``claim`` never awaits inside
  the critical section, so it is also safe between asyncio tasks);
* :class:`SqliteStock` — the embedded default's durable stock: two tables in the session record's SQLite file,
  one ``BEGIN IMMEDIATE`` transaction per claim, so a restart keeps what was issued and every user's count,
  and two processes on one file never exceed the stock either;
* :class:`RedisStock` — one Lua script per claim, so two operators or two workers on any number of processes
  never exceed the stock or a user's limit. Keys come from :mod:`livecs.keys`.

:func:`open_stock` picks the backend: Redis when a URL is given, else SQLite at the record's path.

Every successful issue returns an :class:`IssuedCoupon` record for the store; a refusal raises
:class:`CouponRefused` with a stable ``reason`` and a bilingual message.
"""

from __future__ import annotations

import asyncio
import enum
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from re import Pattern
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict, Unpack

from livecs import keys
from livecs.errors import ErrorCode, LivecsError
from livecs.models import Comment, Intent, MemberTier, Sentiment, Triage
from livecs.scripts.library import CouponRule, Product
from livecs.scripts.settings import CouponSettings
from livecs.vocabulary import INTENT_ZH, MEMBER_TIER_ZH

if TYPE_CHECKING:
    import redis.asyncio as aioredis

#: who a coupon is for, by the lowest tier it needs
TIER_CHINESE = {**MEMBER_TIER_ZH, MemberTier.NONE: "所有观众"}
#: ``Comment.extras`` keys a platform adapter may set to say whether the viewer has never ordered.
FIRST_ORDER_EXTRAS = ("first_order", "new_customer")
PERCENT = 100.0
DISCOUNT_TENTHS = 10.0
DEFAULT_KEY_TTL_S = CouponSettings().key_ttl_s  # scripts.coupons.key_ttl_s
MS_PER_S = 1000
_SENTIMENT_BY_ID = {id(s): s for s in Sentiment}


class ClaimStatus(enum.IntEnum):
    """What a stock backend answered (values are what the Lua script returns)."""

    OK = 1
    SOLD_OUT = 0
    USER_LIMIT = -1
    COOLDOWN = -2


REFUSAL_TEXT: dict[str, tuple[str, str]] = {
    "unknown_rule": ("没有这个优惠券规则", "no such coupon rule"),
    "disabled": ("这张券已停用", "coupon rule disabled"),
    "not_started": ("还没到发券时间", "coupon not yet valid"),
    "expired": ("这张券已过期", "coupon expired"),
    "needs_approval": ("补偿券需要主管审批后才能发", "compensation coupon needs an operator's approval"),
    "not_eligible": ("这位用户不符合领取条件", "user not eligible for this coupon"),
    "sold_out": ("券已发完", "coupon sold out"),
    "user_limit": ("该用户已达领取上限", "user reached the per-user limit"),
    "cooldown": ("发券冷却中，请稍后再发", "room cooldown: try again shortly"),
}
_STATUS_REASON = {
    ClaimStatus.SOLD_OUT: "sold_out",
    ClaimStatus.USER_LIMIT: "user_limit",
    ClaimStatus.COOLDOWN: "cooldown",
}


class CouponRefused(LivecsError):
    """An issue that did not happen; ``reason`` is one of ``REFUSAL_TEXT``."""

    code = ErrorCode.CONFLICT

    def __init__(self, reason: str, rule_id: str = "") -> None:
        zh, en = REFUSAL_TEXT.get(reason, (reason, reason))
        super().__init__(zh, en, message=f"{rule_id}: {zh} / {en}")
        self.reason = reason
        self.rule_id = rule_id


@dataclass(frozen=True, slots=True)
class EligibleCoupon:
    """A coupon that fits a comment, with why (for the suggestion's ``why`` list)."""

    rule: CouponRule
    text: str
    reasons: tuple[str, ...]
    requires_approval: bool


@dataclass(frozen=True, slots=True)
class CouponCandidate:
    """A rule that fits what was said; per-viewer conditions are checked by ``eligible_among``."""

    rule: CouponRule
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IssuedCoupon:
    """One coupon handed out — the record the store keeps."""

    issue_id: str
    rule_id: str
    rule_type: str
    user_id: str
    room: str
    operator: str
    issued_at: float
    approved_by: str = ""
    comment_id: str = ""
    sequence: int = 0  # n-th coupon of this rule in this room

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(rule: CouponRule) -> str:
    """A short Chinese description from the rule's fields ("满300减50", "限时9折", "粉丝团专享立减10元"…)."""

    def money(v: float | None) -> str:
        return "" if v is None else (str(int(v)) if float(v).is_integer() else f"{v:g}")

    def discount(p: float | None) -> str:
        return "" if p is None else f"{(PERCENT - p) / DISCOUNT_TENTHS:g}折"

    off = (
        f"满{money(rule.threshold)}减{money(rule.amount)}"
        if rule.threshold
        else f"立减{money(rule.amount)}元"
    )
    if rule.amount is None:
        off = discount(rule.percent_off)
    if rule.type == "full_reduction":
        return f"满{money(rule.threshold)}减{money(rule.amount)}"
    if rule.type == "time_discount":
        return f"限时{discount(rule.percent_off)}"
    if rule.type == "member":
        return f"{TIER_CHINESE[MemberTier(rule.min_tier or 0)]}专享{off}"
    if rule.type == "new_customer":
        return f"新人券{off}"
    if rule.type == "gift":
        prefix = f"满{money(rule.threshold)}" if rule.threshold else "下单"
        return f"{prefix}送{rule.gift}"
    return f"补偿券{off}（需审批）"


#: One rule of a candidates plan: rule, keyword pattern (None: no keyword trigger), reasons before and after
#: the keyword's, and the finished candidate when there is no pattern.
_Step = tuple[CouponRule, Pattern[str] | None, tuple[str, ...], tuple[str, ...], CouponCandidate | None]


@dataclass(frozen=True, slots=True)
class _KeywordPlan:
    """A candidates plan with keyword rules (see ``CouponEngine._plan``)."""

    steps: list[_Step]
    any_keyword: Pattern[str]
    without_keywords: tuple[CouponCandidate, ...]


_Plan = tuple[CouponCandidate, ...] | _KeywordPlan


class IssueAsk(TypedDict):
    """Who asks for a coupon, for whom, where and on whose approval (an operator's side of a request)."""

    user_id: str
    room: str
    operator: str
    approved_by: NotRequired[str]
    comment_id: NotRequired[str]
    member_tier: NotRequired[MemberTier | None]
    first_order: NotRequired[bool | None]


class IssueRequest(IssueAsk):
    """An :class:`IssueAsk` at a time: :meth:`CouponEngine.issue`'s keywords."""

    now: float


def _first_order(comment: Comment, override: bool | None) -> bool | None:
    if override is not None:
        return override
    for key in FIRST_ORDER_EXTRAS:
        if key in comment.extras:
            return bool(comment.extras[key])
    return None


class CouponEngine:
    """The rules of one library version; eligibility is pure, issuing goes through a backend."""

    def __init__(self, rules: list[CouponRule]) -> None:
        self.rules = list(rules)
        self._by_id = {r.id: r for r in self.rules}
        self._auto = [r for r in self.rules if r.enabled and not r.trigger.is_manual_only]
        self._windows = {r.id: r.window() for r in self.rules}
        self._keywords = {
            r.id: re.compile(
                "|".join(re.escape(k.lower()) for k in sorted(r.trigger.keywords, key=len, reverse=True))
            )
            for r in self.rules
            if r.trigger.keywords
        }
        rank = {r.id: (r.priority, r.amount or r.percent_off or 0.0) for r in self.rules}
        self._auto.sort(key=lambda r: rank[r.id], reverse=True)  # best first, so eligible() needs no sort
        # keyed by id(intent): enum members are singletons and Enum.__hash__ is slow Python code
        self._auto_by_intent: dict[int, list[CouponRule]] = {
            id(i): [r for r in self._auto if not r.trigger.intents or i in r.trigger.intents] for i in Intent
        }
        #: every keyword trigger of the automatic rules, lower-cased (None when one is "": found in any text)
        words = {k.lower() for r in self._auto for k in r.trigger.keywords}
        self.trigger_keywords: frozenset[str] | None = None if "" in words else frozenset(words)
        # candidates() per (intent, sentiment, product), keyword search aside: filled on first use
        self._plans: dict[tuple[int, int, tuple[int, str] | None], _Plan] = {}

    def rule(self, rule_id: str) -> CouponRule | None:
        return self._by_id.get(rule_id)

    def eligible(
        self,
        comment: Comment,
        triage: Triage,
        now: float,
        *,
        product: Product | None = None,
        first_order: bool | None = None,
        text: str | None = None,
    ) -> list[EligibleCoupon]:
        """Coupons whose triggers and conditions fit this comment, best first (stock is not consulted)."""
        lowered = (text if text is not None else comment.text).lower()
        candidates = self.candidates(triage.intent, triage.sentiment, lowered, product)
        return self.eligible_among(candidates, comment, triage, now, first_order=first_order)

    def candidates(
        self,
        intent: Intent,
        sentiment: Sentiment,
        lowered: str,
        product: Product | None,
        *,
        keyword_seen: bool | None = None,
    ) -> tuple[CouponCandidate, ...]:
        """The part of eligibility that depends only on what was said (cacheable with a script ranking):
        intent, sentiment and keyword triggers and the product scope.

        ``keyword_seen``: whether one of :attr:`trigger_keywords` occurs in ``lowered``, when the caller
        already knows (the matcher finds them in its own scan); False skips every keyword search."""
        member = _SENTIMENT_BY_ID.get(id(sentiment))  # the enum member itself, or None for anything else
        if member is None:
            return tuple(self._candidates(intent, sentiment, lowered, product))
        key = (id(intent), id(member), None if product is None else (product.link, product.sku))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(intent, member, product)
        if isinstance(plan, tuple):  # no keyword trigger among the rules: the same candidates every time
            return plan
        if keyword_seen is False or plan.any_keyword.search(lowered) is None:
            return plan.without_keywords  # no rule's keyword occurs: only the others fit
        out: list[CouponCandidate] = []
        for rule, pattern, head, tail, fixed in plan.steps:
            if pattern is None:
                out.append(fixed)  # type: ignore[arg-type]  # fixed is set when there is no pattern
                continue
            found = pattern.search(lowered)
            if found is not None:
                keyword = f"coupon {rule.id}: keyword {found.group(0)}"
                out.append(CouponCandidate(rule, (*head, keyword, *tail)))
        return tuple(out)

    def _fitting(self, intent: Intent, sentiment: Sentiment, product: Product | None) -> Iterator[CouponRule]:
        """The automatic rules, best first, whose intent and sentiment triggers and product scope fit
        (keywords aside)."""
        for rule in self._auto_by_intent[id(intent)]:
            sentiments = rule.trigger.sentiments
            if sentiments and sentiment not in sentiments:
                continue
            if rule.products and product is not None:
                if str(product.link) not in rule.products and product.sku not in rule.products:
                    continue
            yield rule

    def _plan(self, intent: Intent, sentiment: Sentiment, product: Product | None) -> _Plan:
        """:meth:`candidates` for one (intent, sentiment, product) with only the keyword search left to do:
        the rules that fit, in order, each with its keyword pattern (None: no keyword trigger, the candidate
        is fixed) and the reasons before and after the keyword's, plus one pattern of every rule's keywords
        (one search tells whether any keyword rule can fit) and the candidates when none does; a plain tuple
        when no rule has keywords."""
        steps: list[_Step] = []
        for rule in self._fitting(intent, sentiment, product):
            trig = rule.trigger
            head = (f"coupon {rule.id}: intent {INTENT_ZH[intent]}",) if trig.intents else ()
            tail = (f"coupon {rule.id}: sentiment {sentiment.value}",) if trig.sentiments else ()
            if trig.keywords:
                steps.append((rule, self._keywords[rule.id], head, tail, None))
            else:
                steps.append((rule, None, head, tail, CouponCandidate(rule, (*head, *tail))))
        without_keywords = tuple(step[4] for step in steps if step[4] is not None)
        if all(step[1] is None for step in steps):
            return without_keywords
        words = {k.lower() for step in steps if step[1] is not None for k in step[0].trigger.keywords}
        any_keyword = re.compile("|".join(re.escape(k) for k in sorted(words, key=len, reverse=True)))
        return _KeywordPlan(steps, any_keyword, without_keywords)

    def _candidates(
        self, intent: Intent, sentiment: Sentiment, lowered: str, product: Product | None
    ) -> list[CouponCandidate]:
        """:meth:`candidates` worked out rule by rule (for a sentiment that is not a :class:`Sentiment`)."""
        out: list[CouponCandidate] = []
        for rule in self._fitting(intent, sentiment, product):
            trig = rule.trigger
            reasons: list[str] = []
            if trig.keywords:
                found = self._keywords[rule.id].search(lowered)
                if found is None:
                    continue
                reasons.append(f"coupon {rule.id}: keyword {found.group(0)}")
            if trig.intents:
                reasons.insert(0, f"coupon {rule.id}: intent {INTENT_ZH[intent]}")
            if trig.sentiments:
                reasons.append(f"coupon {rule.id}: sentiment {sentiment.value}")
            out.append(CouponCandidate(rule, tuple(reasons)))
        return out

    def eligible_among(
        self,
        candidates: tuple[CouponCandidate, ...],
        comment: Comment,
        triage: Triage,
        now: float,
        *,
        first_order: bool | None = None,
    ) -> list[EligibleCoupon]:
        """The rest of eligibility, per comment: validity window, cluster size, member tier, first order."""
        fits = (self._eligible(cand, comment, triage, now, first_order) for cand in candidates)
        return [eligible for eligible in fits if eligible is not None]

    def best_among(
        self,
        candidates: tuple[CouponCandidate, ...],
        comment: Comment,
        triage: Triage,
        now: float,
        *,
        first_order: bool | None = None,
    ) -> EligibleCoupon | None:
        """``eligible_among(…)[0]`` (or None) without checking the rules after the first that fits."""
        for cand in candidates:
            eligible = self._eligible(cand, comment, triage, now, first_order)
            if eligible is not None:
                return eligible
        return None

    def _eligible(
        self, cand: CouponCandidate, comment: Comment, triage: Triage, now: float, first_order: bool | None
    ) -> EligibleCoupon | None:
        rule = cand.rule
        lo, hi = self._windows[rule.id]
        if (lo is not None and now < lo) or (hi is not None and now > hi):
            return None
        min_cluster = rule.trigger.min_cluster_size
        if triage.cluster_size < min_cluster:
            return None
        reasons = list(cand.reasons)
        if min_cluster > 1:
            reasons.append(f"coupon {rule.id}: cluster {triage.cluster_size} ≥ {min_cluster}")
        if rule.type == "member":
            if comment.member_tier < (rule.min_tier or MemberTier.NONE):
                return None
            reasons.append(f"coupon {rule.id}: tier {MemberTier(comment.member_tier).name.lower()}")
        elif rule.type == "new_customer":
            fo = _first_order(comment, first_order)
            if fo is False:
                return None
            reasons.append(f"coupon {rule.id}: first order {'yes' if fo else 'unverified'}")
        if rule.requires_approval:
            reasons.append(f"coupon {rule.id}: needs approval")
        return EligibleCoupon(rule, rule.name, tuple(reasons), rule.requires_approval)

    def check_issuable(
        self,
        rule_id: str,
        now: float,
        *,
        approved_by: str = "",
        member_tier: MemberTier | None = None,
        first_order: bool | None = None,
    ) -> CouponRule:
        """The rule if it may be issued now (before stock); raises :class:`CouponRefused` otherwise."""
        rule = self._by_id.get(rule_id)
        if rule is None:
            raise CouponRefused("unknown_rule", rule_id)
        if not rule.enabled:
            raise CouponRefused("disabled", rule_id)
        lo, hi = rule.window()
        if lo is not None and now < lo:
            raise CouponRefused("not_started", rule_id)
        if hi is not None and now > hi:
            raise CouponRefused("expired", rule_id)
        if rule.requires_approval and not approved_by:
            raise CouponRefused("needs_approval", rule_id)
        if rule.type == "member" and member_tier is not None and member_tier < (rule.min_tier or 0):
            raise CouponRefused("not_eligible", rule_id)
        if rule.type == "new_customer" and first_order is False:
            raise CouponRefused("not_eligible", rule_id)
        return rule

    async def issue(
        self, backend: StockBackend, rule_id: str, **request: Unpack[IssueRequest]
    ) -> IssuedCoupon:
        """Issue one coupon atomically (stock, per-user limit, cooldown) or raise :class:`CouponRefused`."""
        rule = self._issuable(rule_id, request)
        status, sequence = await backend.claim(request["room"], rule, request["user_id"], request["now"])
        return self._record(rule, status, sequence, request)

    def issue_sync(
        self, backend: InProcessStock | SqliteStock, rule_id: str, **request: Unpack[IssueRequest]
    ) -> IssuedCoupon:
        """:meth:`issue` for synchronous callers (threads) on the in-process or SQLite backend."""
        rule = self._issuable(rule_id, request)
        status, sequence = backend.claim_sync(request["room"], rule, request["user_id"], request["now"])
        return self._record(rule, status, sequence, request)

    def _issuable(self, rule_id: str, request: IssueRequest) -> CouponRule:
        return self.check_issuable(
            rule_id,
            request["now"],
            approved_by=request.get("approved_by", ""),
            member_tier=request.get("member_tier"),
            first_order=request.get("first_order"),
        )

    @staticmethod
    def _record(rule: CouponRule, status: ClaimStatus, sequence: int, request: IssueRequest) -> IssuedCoupon:
        if status is not ClaimStatus.OK:
            raise CouponRefused(_STATUS_REASON[status], rule.id)
        return IssuedCoupon(
            issue_id=uuid.uuid4().hex,
            rule_id=rule.id,
            rule_type=rule.type,
            user_id=request["user_id"],
            room=request["room"],
            operator=request["operator"],
            issued_at=request["now"],
            approved_by=request.get("approved_by", ""),
            comment_id=request.get("comment_id", ""),
            sequence=sequence,
        )


class StockBackend(Protocol):
    """Atomic claim of one coupon: stock + per-user limit + per-room cooldown in one step."""

    async def claim(self, room: str, rule: CouponRule, user_id: str, now: float) -> tuple[ClaimStatus, int]:
        """``(status, issued count after the claim)``."""
        ...

    async def issued_count(self, room: str, rule_id: str) -> int: ...

    async def close(self) -> None:
        """Release the connection (a no-op in-process)."""
        ...


@dataclass
class _RoomRuleState:
    issued: int = 0
    per_user: dict[str, int] = field(default_factory=dict)
    last_issue_at: float | None = None


class InProcessStock:
    """Stock kept in this process (the embedded default); cooldown measured on the caller's clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], _RoomRuleState] = {}

    def claim_sync(self, room: str, rule: CouponRule, user_id: str, now: float) -> tuple[ClaimStatus, int]:
        with self._lock:
            st = self._state.setdefault((room, rule.id), _RoomRuleState())
            if st.issued >= rule.stock:
                return ClaimStatus.SOLD_OUT, st.issued
            if rule.room_cooldown_s > 0 and st.last_issue_at is not None:
                if now < st.last_issue_at + rule.room_cooldown_s:
                    return ClaimStatus.COOLDOWN, st.issued
            mine = st.per_user.get(user_id, 0)
            if mine >= rule.per_user_limit:
                return ClaimStatus.USER_LIMIT, st.issued
            st.issued += 1
            st.per_user[user_id] = mine + 1
            st.last_issue_at = now
            return ClaimStatus.OK, st.issued

    async def claim(self, room: str, rule: CouponRule, user_id: str, now: float) -> tuple[ClaimStatus, int]:
        return self.claim_sync(room, rule, user_id, now)

    def issued_count_sync(self, room: str, rule_id: str) -> int:
        with self._lock:
            st = self._state.get((room, rule_id))
            return st.issued if st else 0

    async def issued_count(self, room: str, rule_id: str) -> int:
        return self.issued_count_sync(room, rule_id)

    async def close(self) -> None:
        return None


#: KEYS: issued counter, per-user hash, cooldown flag. ARGV: stock, per-user limit, user, cooldown ms, ttl s.
CLAIM_LUA = """
local issued = tonumber(redis.call('GET', KEYS[1]) or '0')
if issued >= tonumber(ARGV[1]) then return {0, issued} end
local cooldown_ms = tonumber(ARGV[4])
if cooldown_ms > 0 and redis.call('EXISTS', KEYS[3]) == 1 then return {-2, issued} end
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0')
if mine >= tonumber(ARGV[2]) then return {-1, issued} end
issued = redis.call('INCR', KEYS[1])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
if cooldown_ms > 0 then redis.call('SET', KEYS[3], '1', 'PX', cooldown_ms) end
return {1, issued}
"""


class RedisStock:
    """Stock shared by every process through Redis; cooldown measured on the Redis server's clock."""

    def __init__(
        self, client: aioredis.Redis, key_ttl_s: int = DEFAULT_KEY_TTL_S, *, owns_client: bool = False
    ) -> None:
        self._client = client
        self._owns_client = owns_client
        self._script = client.register_script(CLAIM_LUA)
        self._ttl = key_ttl_s

    async def claim(self, room: str, rule: CouponRule, user_id: str, now: float) -> tuple[ClaimStatus, int]:
        result = await self._script(
            keys=[
                keys.coupon_issued(room, rule.id),
                keys.coupon_users(room, rule.id),
                keys.coupon_cooldown(room, rule.id),
            ],
            args=[rule.stock, rule.per_user_limit, user_id, int(rule.room_cooldown_s * MS_PER_S), self._ttl],
        )
        status, count = int(result[0]), int(result[1])
        return ClaimStatus(status), count

    async def issued_count(self, room: str, rule_id: str) -> int:
        value = await self._client.get(keys.coupon_issued(room, rule_id))
        return int(value) if value is not None else 0

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


#: The durable stock of the embedded default (in the record's SQLite file, next to the session tables).
STOCK_SCHEMA = """
CREATE TABLE IF NOT EXISTS coupon_stock (
    room TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    issued INTEGER NOT NULL DEFAULT 0,
    last_issue_at REAL,
    PRIMARY KEY (room, rule_id)
);
CREATE TABLE IF NOT EXISTS coupon_user_claims (
    room TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    claimed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, rule_id, user_id)
);
"""
DEFAULT_BUSY_TIMEOUT_MS = 10_000


class SqliteStock:
    """Stock persisted in SQLite: a restart keeps the issued counts and per-user claims; processes sharing the
    file share the stock (each claim is one ``BEGIN IMMEDIATE`` transaction). Cooldown on the caller's clock.

    Claims run in a worker thread (``asyncio.to_thread``) so the event loop never waits on the disk."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path), timeout=busy_timeout_ms / MS_PER_S, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(STOCK_SCHEMA)
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("coupon stock closed")
        return self._conn

    def claim_sync(self, room: str, rule: CouponRule, user_id: str, now: float) -> tuple[ClaimStatus, int]:
        with self._lock:
            conn = self._db()
            conn.execute("BEGIN IMMEDIATE")
            try:
                status, issued = self._claim(conn, room, rule, user_id, now)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return status, issued

    @staticmethod
    def _claim(
        conn: sqlite3.Connection, room: str, rule: CouponRule, user_id: str, now: float
    ) -> tuple[ClaimStatus, int]:
        row = conn.execute(
            "SELECT issued, last_issue_at FROM coupon_stock WHERE room = ? AND rule_id = ?", (room, rule.id)
        ).fetchone()
        issued, last = (int(row[0]), row[1]) if row else (0, None)
        if issued >= rule.stock:
            return ClaimStatus.SOLD_OUT, issued
        if rule.room_cooldown_s > 0 and last is not None and now < float(last) + rule.room_cooldown_s:
            return ClaimStatus.COOLDOWN, issued
        mine_row = conn.execute(
            "SELECT claimed FROM coupon_user_claims WHERE room = ? AND rule_id = ? AND user_id = ?",
            (room, rule.id, user_id),
        ).fetchone()
        mine = int(mine_row[0]) if mine_row else 0
        if mine >= rule.per_user_limit:
            return ClaimStatus.USER_LIMIT, issued
        conn.execute(
            "INSERT INTO coupon_stock (room, rule_id, issued, last_issue_at) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (room, rule_id) DO UPDATE SET issued = issued + 1, "
            "last_issue_at = excluded.last_issue_at",
            (room, rule.id, now),
        )
        conn.execute(
            "INSERT INTO coupon_user_claims (room, rule_id, user_id, claimed) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (room, rule_id, user_id) DO UPDATE SET claimed = claimed + 1",
            (room, rule.id, user_id),
        )
        return ClaimStatus.OK, issued + 1

    async def claim(self, room: str, rule: CouponRule, user_id: str, now: float) -> tuple[ClaimStatus, int]:
        return await asyncio.to_thread(self.claim_sync, room, rule, user_id, now)

    def issued_count_sync(self, room: str, rule_id: str) -> int:
        with self._lock:
            row = (
                self._db()
                .execute("SELECT issued FROM coupon_stock WHERE room = ? AND rule_id = ?", (room, rule_id))
                .fetchone()
            )
        return int(row[0]) if row else 0

    async def issued_count(self, room: str, rule_id: str) -> int:
        return await asyncio.to_thread(self.issued_count_sync, room, rule_id)

    def user_claims_sync(self, room: str, rule_id: str, user_id: str) -> int:
        with self._lock:
            row = (
                self._db()
                .execute(
                    "SELECT claimed FROM coupon_user_claims WHERE room = ? AND rule_id = ? AND user_id = ?",
                    (room, rule_id, user_id),
                )
                .fetchone()
            )
        return int(row[0]) if row else 0

    async def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def open_stock(
    redis_url: str | None, db_path: str | Path | None, *, key_ttl_s: int = DEFAULT_KEY_TTL_S
) -> StockBackend:
    """The stock a console issues against: shared through Redis when ``redis_url`` is given (every console
    and worker on that Redis), else durable in SQLite at ``db_path`` (the record), else in this process only
    (``db_path`` None or ``:memory:``)."""
    if redis_url:
        import redis.asyncio as aioredis

        return RedisStock(aioredis.Redis.from_url(redis_url), key_ttl_s=key_ttl_s, owns_client=True)
    if db_path is not None and str(db_path) != ":memory:":
        return SqliteStock(db_path)
    return InProcessStock()
