"""The review's comparison with another broadcast: the change of each headline figure.

``build_review(..., compare="auto")`` compares with the same room's previous broadcast (the most recent
session of that room started before this one), ``compare=SESSION`` with that one, ``compare=None`` not at
all. The headline figures of a session are computed by the same queries as its own report, so a comparison of
a session with itself shows no change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from livecs.review import figures
from livecs.review.queries import ReviewReader, SessionMeta, resolve_session
from livecs.review.settings import ReviewSettings

AUTO = "auto"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "" count, "%" share (0–1), "s" seconds, "¥" money


METRICS = (
    Metric("comments", "评论数", ""),
    Metric("unique_viewers", "独立观众（评论人数）", ""),
    Metric("audience", "观看人数", ""),
    Metric("peak_online", "峰值在线", ""),
    Metric("interaction_rate", "互动率", "%"),
    Metric("conversion_rate", "转化率", "%"),
    Metric("orders", "已付款订单", ""),
    Metric("gmv", "成交额", "¥"),
    Metric("follows", "新增关注", ""),
    Metric("coupons", "发券", ""),
    Metric("complaints", "投诉", ""),
    Metric("breached_share", "超时或未处理占比", "%"),
    Metric("median_response_s", "首次响应中位数", "s"),
    Metric("resolution_rate", "问题解决率", "%"),
)


@dataclass(frozen=True)
class Comparison:
    previous: SessionMeta
    rows: list[tuple[Metric, float | None, float | None]]  # metric, this session, the other


def previous_session(conn: sqlite3.Connection, meta: SessionMeta) -> SessionMeta | None:
    row = conn.execute(
        "SELECT session_id FROM sessions WHERE room=? AND started_at<? AND session_id<>? "
        "ORDER BY started_at DESC LIMIT 1",
        (meta.room, meta.started_at, meta.session_id),
    ).fetchone()
    return None if row is None else resolve_session(conn, row[0])


def headline(r: ReviewReader, b: figures.Business) -> dict[str, float | None]:
    """The headline figures of one session from its prepared reader (TEMP tables built) and its business
    figures."""
    conn = r.conn
    sm = r.summary()
    _, breached, _ = r.breached(r.end_ts)
    items = int(conn.execute("SELECT COUNT(*) FROM t_resp").fetchone()[0])
    answered = int(conn.execute("SELECT COUNT(first_ts) FROM t_resp").fetchone()[0])
    median = None
    if answered:
        offset = min(answered - 1, int(0.5 * (answered - 1) + 0.5))
        median = float(
            conn.execute(
                "SELECT first_ts - ts d FROM t_resp WHERE first_ts IS NOT NULL ORDER BY d LIMIT 1 OFFSET ?",
                (offset,),
            ).fetchone()[0]
        )
    res = r.marks().get("resolve", {})
    return {
        "comments": sm.comments,
        "unique_viewers": sm.unique_viewers,
        "audience": b.viewers,
        "peak_online": b.peak_online,
        "interaction_rate": b.interaction_rate,
        "conversion_rate": b.conversion_rate,
        "orders": b.orders,
        "gmv": b.gmv,
        "follows": b.follows,
        "coupons": sm.coupons_issued,
        "complaints": sm.complaints,
        "breached_share": breached / items if items else None,
        "median_response_s": None if median is None else max(0.0, median),
        "resolution_rate": res.get("rate"),
    }


def prepare_comparison(
    conn: sqlite3.Connection, meta: SessionMeta, other: str | None, settings: ReviewSettings
) -> Callable[[dict[str, float | None]], Comparison] | None:
    """Resolve the other session (``auto``: the room's previous one) and compute its headline now, before
    the session under review builds its TEMP tables; returns the function that completes the comparison with
    this session's headline (``None`` when there is nothing to compare with)."""
    if not other:
        return None
    prev = previous_session(conn, meta) if other == AUTO else resolve_session(conn, other)
    if prev is None:
        return None
    r = ReviewReader(conn, prev, settings)
    r.prepare()
    theirs = headline(r, figures.business(conn, prev.session_id, r.on_air_periods()))

    def finish(mine: dict[str, float | None]) -> Comparison:
        return Comparison(prev, [(m, mine.get(m.key), theirs.get(m.key)) for m in METRICS])

    return finish


def fmt_value(m: Metric, v: float | None) -> str:
    if v is None:
        return "–"
    if m.unit == "%":
        return f"{100 * v:.1f}%"
    if m.unit == "s":
        return f"{v:.0f} 秒"
    if m.unit == "¥":
        return f"¥{v:,.2f}"
    return f"{v:,.0f}"


def fmt_change(m: Metric, mine: float | None, theirs: float | None) -> str:
    """``+12（+8%）`` for counts; percentage points for shares."""
    if mine is None or theirs is None:
        return "–"
    d = mine - theirs
    if m.unit == "%":
        return f"{100 * d:+.1f} 个百分点"
    rel = f"（{100 * d / theirs:+.0f}%）" if theirs else ""
    if m.unit == "s":
        return f"{d:+.0f} 秒{rel}"
    if m.unit == "¥":
        return f"{d:+,.2f}{rel}"
    return f"{d:+,.0f}{rel}"
