"""Business and people figures of a session: orders and GMV per product, the viewer curve, 互动率 and 转化率,
new follows, time on air and orders per minute on air; the 客服表现 table per operator.

Read from the record with the TEMP tables of :class:`~livecs.review.queries.ReviewReader` (call
``prepare()`` first). Definitions (the report repeats them):

- 观看人数 = the largest cumulative ``watched`` a platform reported (Bilibili), else the peak of the online
  counts (``viewers``/``online``/``count`` of ``viewers`` events and ``viewers`` of Douyin ``enter`` events).
- 互动率 = distinct commenters ÷ 观看人数; 转化率 = distinct buyers (``order_paid`` users) ÷ 观看人数.
- GMV = Σ ``amount`` of paid orders (else ``price`` × ``quantity``).
- An operator's first responses are the comments whose first response was that operator's action.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from livecs.review.queries import BASE_ACTION_ID, ORDER_PRODUCT_KEYS, OnAirPeriod, product_label
from livecs.review.settings import SECONDS_PER_MINUTE

ONLINE_KEYS = ("viewers", "online", "count")
AMOUNT_SQL = (
    "COALESCE(CAST(json_extract(data, '$.amount') AS REAL), "
    "CAST(json_extract(data, '$.price') AS REAL) "
    "* COALESCE(CAST(json_extract(data, '$.quantity') AS REAL), 1), 0)"
)


@dataclass
class ProductFigures:
    label: str
    orders: int = 0
    gmv: float = 0.0
    on_air_s: float = 0.0
    orders_on_air: int = 0  # orders of this product while it was on air

    @property
    def orders_per_min_on_air(self) -> float | None:
        return None if self.on_air_s <= 0 else self.orders_on_air / (self.on_air_s / SECONDS_PER_MINUTE)


@dataclass
class Business:
    orders: int = 0
    buyers: int = 0
    gmv: float = 0.0
    commenters: int = 0
    follows: int = 0
    peak_online: int | None = None
    avg_online: float | None = None
    watched: int | None = None  # cumulative viewers reported by the platform
    online_minute: dict[int, int] = field(default_factory=dict)
    products: list[ProductFigures] = field(default_factory=list)

    @property
    def viewers(self) -> int | None:
        """观看人数: the platform's cumulative count, else the peak online."""
        return self.watched if self.watched else self.peak_online

    @property
    def interaction_rate(self) -> float | None:
        v = self.viewers
        return None if not v else self.commenters / v

    @property
    def conversion_rate(self) -> float | None:
        v = self.viewers
        return None if not v else self.buyers / v


@dataclass
class OperatorFigures:
    operator: str
    handled: int = 0  # distinct cards (comments or clusters) acted on
    first_responses: int = 0
    p50_s: float | None = None
    p90_s: float | None = None
    sla_breaches: int = 0  # first responses after the deadline
    replies: int = 0
    edited: int = 0
    dismissed: int = 0
    escalated: int = 0
    coupons: int = 0
    moderation: int = 0
    tickets_resolved: int = 0
    resolved_marks: int = 0
    marked: int = 0


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return max(0.0, v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))])


def orders_in_period(conn: sqlite3.Connection, sid: str, p: OnAirPeriod) -> int:
    """Paid orders of the product on air in ``p`` placed during ``p``."""
    link = "COALESCE(" + ", ".join(f"json_extract(data, '$.{k}')" for k in ORDER_PRODUCT_KEYS) + ")"
    return int(
        conn.execute(
            f"SELECT COUNT(*) FROM events WHERE session_id=? AND kind='order_paid' AND ts>=? AND ts<? "
            f"AND {link} IS NOT NULL AND (CAST({link} AS TEXT) || '号链接' = ? OR CAST({link} AS TEXT) = ?)",
            (sid, p.start, p.end, p.label, p.label),
        ).fetchone()[0]
    )


def business(conn: sqlite3.Connection, sid: str, periods: Sequence[OnAirPeriod]) -> Business:
    b = Business()
    link = "COALESCE(" + ", ".join(f"json_extract(data, '$.{k}')" for k in ORDER_PRODUCT_KEYS) + ")"
    row = conn.execute(
        f"SELECT COUNT(*), COUNT(DISTINCT NULLIF(user_id, '')), SUM({AMOUNT_SQL}) FROM events "
        "WHERE session_id=? AND kind='order_paid'",
        (sid,),
    ).fetchone()
    b.orders, b.buyers, b.gmv = int(row[0]), int(row[1]), float(row[2] or 0.0)
    b.commenters = int(
        conn.execute(
            "SELECT COUNT(DISTINCT user_id) FROM comments WHERE session_id=? AND user_id<>''", (sid,)
        ).fetchone()[0]
    )
    b.follows = int(
        conn.execute("SELECT COUNT(*) FROM events WHERE session_id=? AND kind='follow'", (sid,)).fetchone()[0]
    )
    online = "COALESCE(" + ", ".join(f"json_extract(data, '$.{k}')" for k in ONLINE_KEYS) + ")"
    for m, n in conn.execute(
        f"SELECT CAST(ts / {SECONDS_PER_MINUTE} AS INTEGER) m, MAX(CAST({online} AS INTEGER)) FROM events "
        "WHERE session_id=? AND (kind='viewers' "
        "OR (kind='enter' AND json_extract(data, '$.viewers') IS NOT NULL)) "
        f"AND {online} IS NOT NULL GROUP BY m",
        (sid,),
    ):
        if n is not None and int(n) >= 0:
            b.online_minute[int(m)] = int(n)
    if b.online_minute:
        b.peak_online = max(b.online_minute.values())
        b.avg_online = sum(b.online_minute.values()) / len(b.online_minute)
    watched = conn.execute(
        "SELECT MAX(CAST(json_extract(data, '$.watched') AS INTEGER)) FROM events "
        "WHERE session_id=? AND kind='viewers'",
        (sid,),
    ).fetchone()[0]
    b.watched = int(watched) if watched else None
    products: dict[str, ProductFigures] = {}
    for p in periods:
        products.setdefault(p.label, ProductFigures(p.label)).on_air_s += p.end - p.start
    for p_raw, n, gmv in conn.execute(
        f"SELECT {link} p, COUNT(*), SUM({AMOUNT_SQL}) FROM events "
        "WHERE session_id=? AND kind='order_paid' AND p IS NOT NULL GROUP BY p",
        (sid,),
    ):
        pf = products.setdefault(product_label(p_raw), ProductFigures(product_label(p_raw)))
        pf.orders += int(n)
        pf.gmv += float(gmv or 0.0)
    for p in periods:
        products[p.label].orders_on_air += orders_in_period(conn, sid, p)
    b.products = sorted(products.values(), key=lambda x: (-x.orders, x.label))
    return b


def credit_first_responses(conn: sqlite3.Connection, sid: str) -> None:
    """TEMP ``t_credit``: each answered comment with the operator whose action was its first response
    (``''`` when none is found), the delay and whether it was late. Built once per connection (needs the
    reader's TEMP tables ``t_act``, ``t_mod``, ``t_sugmap``, ``t_resp``)."""
    if conn.execute("SELECT 1 FROM temp.sqlite_master WHERE type='table' AND name='t_credit'").fetchone():
        return
    conn.execute(
        "CREATE TEMP TABLE t_credit AS SELECT r.comment_id, r.ts, r.deadline, r.first_ts, COALESCE("
        "(SELECT a.operator FROM t_act a WHERE a.target_id=r.comment_id AND a.ts=r.first_ts LIMIT 1), "
        "(SELECT a.operator FROM t_sugmap m JOIN t_act a ON a.target_id=m.suggestion_id "
        " WHERE m.comment_id=r.comment_id AND a.ts=r.first_ts LIMIT 1), "
        "(SELECT a.operator FROM t_act a WHERE a.target_id=r.ckey AND a.ts=r.first_ts LIMIT 1), "
        "(SELECT m.operator FROM t_mod m JOIN comments c ON c.session_id=? AND c.comment_id=r.comment_id "
        " WHERE m.user_id=c.user_id AND m.ts=r.first_ts LIMIT 1), '') operator, "
        "r.first_ts - r.ts delay, r.first_ts > r.deadline late FROM t_resp r WHERE r.first_ts IS NOT NULL",
        (sid,),
    )
    conn.execute("CREATE INDEX temp.t_credit_op ON t_credit (operator, ts)")


def operators(conn: sqlite3.Connection, sid: str) -> list[OperatorFigures]:
    """The 客服表现 table (needs the reader's TEMP tables ``t_act``, ``t_mod``, ``t_sugmap``, ``t_resp``)."""
    ops: dict[str, OperatorFigures] = {}

    def op(name: str) -> OperatorFigures:
        f = ops.get(name)
        if f is None:
            f = ops[name] = OperatorFigures(name)
        return f

    counts = {
        "send": "replies",
        "reply_all": "replies",
        "edit": "edited",
        "dismiss": "dismissed",
        "escalate": "escalated",
        "issue_coupon": "coupons",
        "approve_coupon": "coupons",
        "mute": "moderation",
        "ban": "moderation",
        "delete": "moderation",
    }
    for name, kind, n in conn.execute(
        f"SELECT operator, kind, COUNT(DISTINCT {BASE_ACTION_ID}) FROM actions WHERE session_id=? "
        f"GROUP BY operator, kind",
        (sid,),
    ):
        attr = counts.get(kind)
        if attr:
            setattr(op(name), attr, getattr(op(name), attr) + int(n))
    for name, n in conn.execute(
        "SELECT operator, COUNT(DISTINCT target_id) FROM actions WHERE session_id=? "
        "AND kind NOT IN ('copy', 'pin', 'ticket', 'resolve', 'satisfaction', 'take', 'takeover') "
        "GROUP BY operator",
        (sid,),
    ):
        op(name).handled = int(n)
    # whose action was each comment's first response
    credit_first_responses(conn, sid)
    times: dict[str, list[float]] = {}
    for name, delay, late in conn.execute("SELECT operator, delay, late FROM t_credit"):
        f = op(str(name))
        f.first_responses += 1
        f.sla_breaches += int(bool(late))
        times.setdefault(str(name), []).append(float(delay))
    for name, values in times.items():
        ops[name].p50_s = _quantile(values, 0.5)
        ops[name].p90_s = _quantile(values, 0.9)
    for name, note, n in conn.execute(  # the last mark per card (a bare column comes from the MAX row)
        "SELECT operator, note, COUNT(*) FROM (SELECT operator, note, target_id, MAX(ts) FROM actions "
        "WHERE session_id=? AND kind='resolve' GROUP BY target_id) GROUP BY operator, note",
        (sid,),
    ):
        f = op(name)
        f.marked += int(n)
        if note == "resolved":
            f.resolved_marks += int(n)
    has_tickets = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tickets'").fetchone()
    if has_tickets:
        for owner, n in conn.execute(
            "SELECT owner, COUNT(*) FROM tickets WHERE session_id=? AND status IN ('resolved', 'closed') "
            "AND json_extract(data, '$.outcome')='resolved' GROUP BY owner",
            (sid,),
        ):
            op(str(owner)).tickets_resolved = int(n)
    return sorted((f for f in ops.values() if f.operator), key=lambda f: f.operator)
