"""Test fixture: a recorded session of known composition, written straight into SQLite (fast bulk insert).

For the review's tests and its benchmark: comments with triage rows, suggestions, operator actions (replies
with known delays, coupons, mutes) and paid orders, drawn from ``random.Random(seed)``. The returned
:class:`Composition` holds the exact counts, so a test can compare the report with the truth. A
test-database builder lives under ``tests/``, not in the package: nothing but the tests and the README's
review benchmark uses it. Its rows follow the store's one table definition (:data:`livecs.store.TABLES`,
through :func:`livecs.store.insert_sql`). From the repository root:

    python -m tests.review.session_db --comments 1000000 --db /tmp/big.db [--duration 14400] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from livecs.store import connect, insert_sql

BATCH = 50_000
DEFAULT_DURATION_S = 4 * 3600.0
DEFAULT_START = 1_716_033_600.0  # 2024-05-18 20:00 Asia/Shanghai
USERS_PER_COMMENT = 0.15  # distinct viewers per comment (pool size)
SLA_S = {"P0": 30.0, "P1": 60.0, "P2": 180.0, "mod": 60.0}
#: intent → (weight, priority, share negative, texts)
INTENTS: dict[str, tuple[float, str, float, tuple[str, ...]]] = {
    "chitchat": (0.40, "P3", 0.02, ("来了来了", "主播好美", "1111", "扣1", "哈哈哈", "晚上好")),
    "product": (0.18, "P2", 0.0, ("有S码吗", "165/110斤穿什么码", "是纯棉的吗", "还有货吗", "会起球吗")),
    "price_promo": (0.10, "P2", 0.1, ("多少钱", "有券吗", "怎么领券", "满300减50能叠加吗")),
    "buy_signal": (0.12, "P3", 0.0, ("已拍", "拍了拍了", "要了", "冲")),
    "logistics": (0.06, "P2", 0.2, ("这单什么时候发货", "发什么快递", "包邮吗", "三天了物流没动")),
    "order": (0.03, "P2", 0.0, ("怎么下单", "拍错了能改吗", "限购几件")),
    "payment": (0.02, "P1", 0.3, ("付款失败", "能用花呗吗")),
    "after_sales": (0.03, "P2", 0.5, ("怎么退货", "七天无理由吗", "衣服起球了能换吗")),
    "complaint": (0.02, "P0", 1.0, ("三天了还不发货 骗子", "再不退款我就投诉", "客服死了吗")),
    "spam": (0.04, "mod", 0.0, ("加V领福利", "看我主页", "asdfghjkl")),
}
ANSWER_SHARE = {"P0": 0.9, "P1": 0.8, "P2": 0.5, "mod": 0.3}
MEAN_DELAY_S = {"P0": 20.0, "P1": 40.0, "P2": 120.0, "mod": 30.0}
NO_SCRIPT_TEXTS = frozenset({"会起球吗"})  # a frequent question with no script (a finding)
PRODUCT_SEGMENT_S = 900.0
PRODUCTS = 8
ORDER_PER_BUY = 0.5
COUPON_EVERY = 50  # every n-th answered price question also gets a coupon
APPROVE_AT = 25  # ... and the one half-way between is the suggested coupon approved (``A``)
ON_AIR_SEGMENT_S = 600.0  # the merchant sets a product on air this often (not the comments' own product)
OFF_AIR_EVERY = 4  # every n-th change takes the product off air (link null)
LATE_MEMBER_EVERY = 40  # every n-th P2 comment carries its cluster's deadline, earlier than itself
LATE_MEMBER_S = 10.0
RESOLVE_EVERY = 7  # every n-th answered comment is marked 已解决/未解决 (every 3n-th marked again, changed)
SATISFACTION_EVERY = 11
RESOLVED_SHARE = 0.7
PRICE_PER_LINK = 10  # an order of link n pays 10·n
VIEWERS_BASE = 1000  # the online count at minute k is VIEWERS_BASE + 37·(k mod 20)
FOLLOW_EVERY = 13  # every n-th chit-chat comment comes with a follow
OPERATORS = ("op-a", "op-b", "op-c")


@dataclass
class Composition:
    session_id: str
    room: str
    comments: int = 0
    unique_viewers: int = 0
    intents: dict[str, int] = field(default_factory=dict)
    negative: int = 0
    orders_paid: int = 0
    coupons: int = 0  # issued by hand or approved
    coupons_approved: int = 0
    mutes: int = 0  # each mute once (its delivery confirmation is a second row)
    on_air: list[tuple[float, int | None]] = field(default_factory=list)  # the merchant's changes
    resolution: dict[str, int] = field(default_factory=dict)  # intent -> cards whose last mark is resolved
    resolution_marked: dict[str, int] = field(default_factory=dict)  # intent -> cards marked
    satisfied: int = 0
    satisfaction_marked: int = 0
    gmv: float = 0.0
    buyers: set[str] = field(default_factory=set)
    follows: int = 0
    online: list[int] = field(default_factory=list)  # the online count of each minute
    answered: dict[str, int] = field(default_factory=dict)
    sla_items: dict[str, int] = field(default_factory=dict)
    suggestions: int = 0
    actions: int = 0
    first_ts: float = 0.0
    last_ts: float = 0.0


def synthesize(
    db: str | Path,
    comments: int,
    *,
    seed: int = 7,
    duration_s: float = DEFAULT_DURATION_S,
    start_ts: float = DEFAULT_START,
    room: str = "bench",
    session_id: str | None = None,
    users: int | None = None,
) -> Composition:
    """Write one session of ``comments`` comments (with triage, suggestions, actions, orders) into ``db``."""
    rng = random.Random(seed)
    sid = session_id or f"{room}-synth-{seed}"
    comp = Composition(sid, room)
    n_users = users or max(1, int(comments * USERS_PER_COMMENT))
    names = list(INTENTS)
    weights = [INTENTS[i][0] for i in names]
    conn = connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    end_ts = start_ts + duration_s
    conn.execute(
        insert_sql("sessions", conflict="REPLACE"),
        (sid, room, "synth", start_ts, end_ts, "{}"),
    )
    seen_users: set[int] = set()
    rows_c: list[tuple[object, ...]] = []
    rows_t: list[tuple[object, ...]] = []
    rows_s: list[tuple[object, ...]] = []
    rows_a: list[tuple[object, ...]] = []
    rows_e: list[tuple[object, ...]] = []
    step = duration_s / max(1, comments)
    answered_price = 0

    def flush(force: bool = False) -> None:
        if not force and len(rows_c) < BATCH:
            return
        with conn:
            conn.executemany(insert_sql("comments"), rows_c)
            conn.executemany(insert_sql("triage"), rows_t)
            conn.executemany(insert_sql("suggestions"), rows_s)
            conn.executemany(insert_sql("actions"), rows_a)
            conn.executemany(insert_sql("events"), rows_e)
        for rows in (rows_c, rows_t, rows_s, rows_a, rows_e):
            rows.clear()

    for i in range(comments):
        ts = start_ts + i * step + rng.random() * step
        uidx = int(rng.paretovariate(1.2)) % n_users if rng.random() < 0.5 else rng.randrange(n_users)
        seen_users.add(uidx)
        uid = f"uid{uidx:08d}"
        intent = rng.choices(names, weights)[0]
        _, prio, neg_share, texts = INTENTS[intent]
        t_idx = rng.randrange(len(texts))
        text = texts[t_idx]
        neg = rng.random() < neg_share
        product = f"{int((ts - start_ts) // PRODUCT_SEGMENT_S) % PRODUCTS + 1}号链接"
        cid = f"c{i}"
        comp.intents[intent] = comp.intents.get(intent, 0) + 1
        comp.negative += neg
        rows_c.append(
            (
                sid,
                cid,
                "synth",
                room,
                uid,
                f"观众{uidx}",
                0,
                0,
                text,
                ts,
                0,
                orjson.dumps({"on_air": product}).decode(),
                ts,
            )
        )
        cluster = f"{intent}:{t_idx}" if prio in ("P0", "P1", "P2") else ""
        deadline = ts + SLA_S[prio] if prio in SLA_S else None
        if prio == "P2" and i % LATE_MEMBER_EVERY == 0:
            deadline = ts - LATE_MEMBER_S  # a late member of an old cluster: the cluster's deadline
        rows_t.append(
            (
                sid,
                cid,
                room,
                text,
                intent,
                0.9,
                "neg" if neg else "neu",
                0.2 if neg else 0.6,
                "angry" if neg and intent == "complaint" else "",
                int(intent == "spam"),
                "ad" if intent == "spam" else "",
                cluster,
                1,
                prio,
                deadline,
                "[]",
            )
        )
        if prio in SLA_S:
            comp.sla_items[prio] = comp.sla_items.get(prio, 0) + 1
        sug_id = ""
        if prio in ("P0", "P1", "P2"):
            sug_id = f"s{i}"
            script = "" if text in NO_SCRIPT_TEXTS else f"script-{intent}-{t_idx}"
            rows_s.append(
                (
                    sid,
                    sug_id,
                    room,
                    cid,
                    cluster,
                    prio,
                    script,
                    f"亲，{text}的问题我们马上处理",
                    "",
                    0.8,
                    "[]",
                    "",
                    ts,
                )
            )
            comp.suggestions += 1
        if prio in ANSWER_SHARE and rng.random() < ANSWER_SHARE[prio]:
            delay = rng.expovariate(1.0 / MEAN_DELAY_S[prio])
            op = rng.choice(OPERATORS)
            comp.answered[prio] = comp.answered.get(prio, 0) + 1
            if prio == "mod":
                rows_a.append((sid, f"a{i}", room, op, "mute", uid, ts + delay, "", "spam", "", uid, ""))
                rows_a.append(  # its delivery to the platform, recorded as an attempt of the same action
                    (
                        sid,
                        f"a{i}.1",
                        room,
                        op,
                        "mute",
                        uid,
                        ts + delay + 0.5,
                        "",
                        "attempt 1/3",
                        "",
                        uid,
                        "sent",
                    )
                )
                comp.mutes += 1
            else:
                rows_a.append(
                    (
                        sid,
                        f"a{i}",
                        room,
                        op,
                        "send",
                        sug_id,
                        ts + delay,
                        "亲，已为您处理",
                        "",
                        "",
                        uid,
                        "sent",
                    )
                )
                if i % RESOLVE_EVERY == 0:  # the operator marks the card 已解决/未解决 (sometimes twice)
                    marks = ["resolved" if rng.random() < RESOLVED_SHARE else "unresolved"]
                    if i % (RESOLVE_EVERY * 3) == 0:
                        marks.append("unresolved" if marks[0] == "resolved" else "resolved")
                    for j, mark in enumerate(marks):
                        rows_a.append(
                            (
                                sid,
                                f"a{i}r{j}",
                                room,
                                op,
                                "resolve",
                                cid,
                                ts + delay + 2 + j,
                                "",
                                mark,
                                "",
                                uid,
                                "",
                            )
                        )
                    comp.resolution[intent] = comp.resolution.get(intent, 0) + (marks[-1] == "resolved")
                    comp.resolution_marked[intent] = comp.resolution_marked.get(intent, 0) + 1
                if i % SATISFACTION_EVERY == 0:
                    mark = "satisfied" if rng.random() < RESOLVED_SHARE else "unsatisfied"
                    rows_a.append(
                        (sid, f"a{i}s", room, op, "satisfaction", cid, ts + delay + 5, "", mark, "", uid, "")
                    )
                    comp.satisfied += mark == "satisfied"
                    comp.satisfaction_marked += 1
                if intent == "price_promo":
                    answered_price += 1
                    coupon_kind = {0: "issue_coupon", APPROVE_AT: "approve_coupon"}.get(
                        answered_price % COUPON_EVERY
                    )
                    if coupon_kind is not None:
                        comp.coupons_approved += coupon_kind == "approve_coupon"
                        rows_a.append(
                            (
                                sid,
                                f"a{i}c",
                                room,
                                op,
                                coupon_kind,
                                cid,
                                ts + delay + 1,
                                "",
                                "",
                                "full-300-50",
                                uid,
                                "",
                            )
                        )
                        comp.coupons += 1
        if intent == "chitchat" and i % FOLLOW_EVERY == 0:
            rows_e.append((sid, f"f{i}", "follow", "synth", room, uid, f"观众{uidx}", 0, ts + 0.5, "{}"))
            comp.follows += 1
        if intent == "buy_signal" and rng.random() < ORDER_PER_BUY:
            link = int(product.split("号")[0])
            rows_e.append(
                (
                    sid,
                    f"e{i}",
                    "order_paid",
                    "synth",
                    room,
                    uid,
                    f"观众{uidx}",
                    0,
                    ts + 1.0,
                    orjson.dumps(
                        {
                            "order_id": str(rng.randrange(10**17, 10**18)),
                            "link": link,
                            "amount": PRICE_PER_LINK * link,
                        }
                    ).decode(),
                )
            )
            comp.orders_paid += 1
            comp.gmv += PRICE_PER_LINK * link
            comp.buyers.add(uid)
        comp.comments += 1
        comp.last_ts = max(comp.last_ts, ts)
        if i == 0:
            comp.first_ts = ts
        flush()
    flush(force=True)
    for k in range(int(duration_s // 60) + 1):  # the platform's online count, once a minute
        n = VIEWERS_BASE + 37 * (k % 20)
        comp.online.append(n)
        rows_e.append(
            (
                sid,
                f"v{k}",
                "viewers",
                "synth",
                room,
                "",
                "",
                0,
                start_ts + 60 * k,
                orjson.dumps({"viewers": n}).decode(),
            )
        )
    t, k = start_ts, 0
    while t < end_ts:  # the merchant's on-air changes, on their own rhythm
        on_air_link: int | None = None if k % OFF_AIR_EVERY == OFF_AIR_EVERY - 1 else (k * 3) % PRODUCTS + 1
        comp.on_air.append((t, on_air_link))
        rows_e.append(
            (
                sid,
                f"onair{k}",
                "on_air",
                "console",
                room,
                "",
                "",
                0,
                t,
                orjson.dumps({"link": on_air_link}).decode(),
            )
        )
        t += ON_AIR_SEGMENT_S
        k += 1
    flush(force=True)
    comp.unique_viewers = len(seen_users)
    comp.actions = int(conn.execute("SELECT COUNT(*) FROM actions WHERE session_id=?", (sid,)).fetchone()[0])
    conn.close()
    return comp


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.review.session_db", description=__doc__.splitlines()[0])
    p.add_argument("--comments", type=int, required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="seconds (default 4 h)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--room", default="bench")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    comp = synthesize(args.db, args.comments, seed=args.seed, duration_s=args.duration, room=args.room)
    print(
        f"session {comp.session_id}: {comp.comments:,} comments, {comp.unique_viewers:,} viewers, "
        f"{comp.suggestions:,} suggestions, {comp.actions:,} actions, {comp.orders_paid:,} orders "
        f"in {time.perf_counter() - started:.1f}s → {args.db}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
