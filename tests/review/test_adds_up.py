"""Every number of the report against a direct count of the record (issue 13: "a review that adds up").

The synthetic session holds approved coupons (``approve_coupon``), mutes with their delivery confirmation
(a second ``mute`` row ``<id>.1``), late cluster members whose recorded deadline is before the comment, and
the merchant's on-air changes as ``on_air`` events on a rhythm other than the comments' own product.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path

import orjson

from livecs.review import ReviewResult
from livecs.review.queries import product_label
from livecs.review.settings import ReviewSettings

from .conftest import START, Session
from .test_review import _card, _csv_rows, _file, _jsonl

SLA = ReviewSettings.model_validate({}).sla_s


def _html(res: ReviewResult) -> str:
    return _file(res, "report.html").read_text(encoding="utf-8")


def _rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_coupons_count_every_path_including_approval(
    session_db: Session, masked_review: ReviewResult
) -> None:
    comp = session_db.comp
    assert comp.coupons_approved > 0 and comp.coupons > comp.coupons_approved
    direct = _rows(
        session_db.db,
        "SELECT kind, COUNT(*) FROM actions WHERE kind IN ('issue_coupon','approve_coupon') GROUP BY kind",
    )
    total = sum(int(str(n)) for _, n in direct)
    assert total == comp.coupons
    html = _html(masked_review)
    assert _card(html, "summary-coupons") == f"{total:,}"
    assert f"已发券 {total:,} 张" in html
    coupons = {r["coupon_rule_id"]: r for r in _csv_rows(_file(masked_review, "coupons.csv"))}
    assert coupons["full-300-50"]["issued"] == str(total)


def test_a_mute_is_counted_once(session_db: Session, masked_review: ReviewResult) -> None:
    comp = session_db.comp
    rows = _rows(session_db.db, "SELECT action_id FROM actions WHERE kind='mute'")
    assert len(rows) == 2 * comp.mutes  # each mute and its delivery confirmation
    html = _html(masked_review)
    assert f"禁言 {comp.mutes:,} 次" in html
    # the moderation table lists each mute once (its delivery attempt is not a second mute)
    section = html.split("<h2>审核操作</h2>", 1)[1]
    assert section.count("<td>禁言</td>") == min(comp.mutes, 50)
    distinct = len({str(a).split(".")[0] for (a,) in _rows(session_db.db, "SELECT action_id FROM actions")})
    assert _card(html, "summary-actions") == f"{distinct:,}"


def _deadlines(db: Path) -> dict[str, tuple[float, float, str]]:
    """comment_id → (comment ts, deadline as the review must set it, priority), computed in Python."""
    out = {}
    for cid, ts, dl, prio in _rows(
        db,
        "SELECT c.comment_id, c.ts, t.sla_deadline, t.priority FROM comments c JOIN triage t "
        "ON t.session_id=c.session_id AND t.comment_id=c.comment_id",
    ):
        ts_f = float(str(ts))
        if dl is None and prio not in SLA:
            continue
        own = ts_f + SLA.get(str(prio), 0.0)
        deadline = float(str(dl)) if dl is not None and float(str(dl)) >= ts_f else own
        out[str(cid)] = (ts_f, deadline, str(prio))
    return out


def test_deadlines_never_before_their_comment(session_db: Session, masked_review: ReviewResult) -> None:
    late = _rows(
        session_db.db,
        "SELECT COUNT(*) FROM triage t JOIN comments c ON c.comment_id=t.comment_id "
        "WHERE t.sla_deadline < c.ts",
    )[0][0]
    assert int(str(late)) > 0  # the record has them (late cluster members)
    expected = _deadlines(session_db.db)
    js = {str(r["comment_id"]): r for r in _jsonl(_file(masked_review, "comments.jsonl"))}
    checked = 0
    for cid, (ts, deadline, _) in expected.items():
        row = js[cid]
        assert row["sla_deadline"] is not None and float(str(row["sla_deadline"])) >= ts, cid
        assert float(str(row["sla_deadline"])) == deadline
        checked += 1
    assert checked > 1000


def test_breached_and_unanswered_add_up(session_db: Session, masked_review: ReviewResult) -> None:
    js = _jsonl(_file(masked_review, "comments.jsonl"))
    end = max(float(str(r["ts"])) for r in js)
    sessions = _rows(session_db.db, "SELECT ended_at FROM sessions")
    end = max(end, float(str(sessions[0][0])))
    expected = _deadlines(session_db.db)
    first = {str(r["comment_id"]): r["first_action_ts"] for r in js}
    breached = unanswered = 0
    per_prio: Counter[str] = Counter()
    for cid, (_, deadline, prio) in expected.items():
        f = first[cid]
        if f is None and deadline < end:
            breached += 1
            unanswered += 1
            per_prio[prio] += 1
        elif f is not None and float(str(f)) > deadline:
            breached += 1
            per_prio[prio] += 1
    html = _html(masked_review)
    m = re.search(r"共 ([\d,]+) 条超时或未处理（其中 ([\d,]+) 条", html)
    assert m, "breached note"
    whole, part = (int(x.replace(",", "")) for x in m.groups())
    assert (whole, part) == (breached, unanswered)
    assert part <= whole
    # the response table's 超时/未处理 column adds up to the same whole
    table = html.split('id="response-table"', 1)[1].split("</table>", 1)[0]
    col = [  # 优先级, 需处理, 已响应, 中位, P90, 超时/未处理 (the 5th numeric cell), 时限
        int(r[4].replace(",", ""))
        for r in re.findall(r"<tr><td>[^<]+</td>" + r"<td class=\"n\">([^<]*)</td>" * 5, table)
    ]
    assert len(col) == 4
    assert sum(col) == breached == sum(per_prio.values())
    # the exported flag agrees comment by comment
    flagged = sum(1 for r in js if r["sla_breached"] is True)
    assert flagged == breached


def test_on_air_shading_follows_the_merchants_changes(
    session_db: Session, masked_review: ReviewResult
) -> None:
    comp = session_db.comp
    assert comp.on_air and any(link is None for _, link in comp.on_air)
    # the comments' own product (the simulator's script) disagrees with the merchant's on-air link
    js = _jsonl(_file(masked_review, "comments.jsonl"))
    changes = comp.on_air

    def on_air_at(ts: float) -> str | None:
        cur = None
        for t, link in changes:
            if t <= ts:
                cur = link
        return product_label(cur) if cur is not None else None

    disagree = 0
    for r in js:
        ts = float(str(r["ts"]))
        expected = on_air_at(ts)
        extras = r["extras"] if isinstance(r["extras"], dict) else {}
        assert r["product"] == (expected if expected is not None else extras.get("on_air")), r["comment_id"]
        disagree += expected is not None and extras.get("on_air") not in (None, expected)
    assert disagree > 100  # the shading cannot have come from the comments' extras
    # the CSV column is filled in every row (Chinese header 在播商品 → product)
    assert all(r["product"] for r in _csv_rows(_file(masked_review, "comments.csv")))
    # the chart shades the merchant's products: a minute inside the first on-air period
    first_link = next(link for _, link in changes if link is not None)
    assert f"{first_link}号链接" in _html(masked_review)
    assert START == changes[0][0]


def test_findings_are_not_repeated(masked_review: ReviewResult) -> None:
    texts = [f.text for f in masked_review.findings]
    actions = [f.action for f in masked_review.findings if f.action]
    assert len(texts) == len(set(texts))
    assert len(actions) == len(set(actions))
    html = _html(masked_review)
    for a in actions:
        assert html.count(a) == 1, a


def test_csv_and_xlsx_speak_chinese_jsonl_keeps_codes(masked_review: ReviewResult) -> None:
    raw = _file(masked_review, "actions.csv").read_bytes().decode("utf-8-sig")
    head = raw.splitlines()[0]
    assert head.startswith("操作ID,时间") and "kind" not in head
    rows = _csv_rows(_file(masked_review, "actions.csv"))
    kinds = {r["kind"] for r in rows}
    assert {"禁言", "回复", "发券", "审批发券"} <= kinds and "mute" not in kinds
    assert {r["delivery_status"] for r in rows} <= {"", "已发送", "发送失败", "已放弃"}
    js = _jsonl(_file(masked_review, "actions.jsonl"))
    assert {"mute", "send", "issue_coupon", "approve_coupon"} <= {r["kind"] for r in js}
    comments = _csv_rows(_file(masked_review, "comments.csv"))
    assert {r["priority"] for r in comments} <= {
        "",
        "P0 紧急",
        "P1 阻碍下单",
        "P2 普通问题",
        "P3 计数",
        "审核",
    }
    assert {r["sla_breached"] for r in comments} <= {"", "是", "否"}
    events = _csv_rows(_file(masked_review, "events.csv"))
    assert {r["kind"] for r in events} == {"已付款订单", "上架讲解", "关注", "在线人数"}
    assert all(
        isinstance(orjson.loads(line), dict)
        for line in _file(masked_review, "events.jsonl").read_bytes().splitlines()
    )


def _last_marks(db: Path, kind: str) -> dict[str, tuple[str, str, str]]:
    """target → (intent, operator, last mark), computed naively from the rows."""
    last: dict[str, tuple[float, str, str, str]] = {}
    intents = dict(_rows(db, "SELECT comment_id, intent FROM triage"))
    for target, ts, op, note in _rows(
        db, "SELECT target_id, ts, operator, note FROM actions WHERE kind=? ORDER BY ts", kind
    ):
        last[str(target)] = (float(str(ts)), str(intents.get(target, "")), str(op), str(note))
    return {t: v[1:] for t, v in last.items()}


def test_resolution_and_satisfaction_rates(session_db: Session, masked_review: ReviewResult) -> None:
    comp = session_db.comp
    marks = _last_marks(session_db.db, "resolve")
    assert len(marks) == sum(comp.resolution_marked.values()) > 20
    good = sum(1 for _, _, m in marks.values() if m == "resolved")
    assert good == sum(comp.resolution.values())
    html = _html(masked_review)
    assert _card(html, "summary-resolution") == f"{100 * good / len(marks):.0f}%（{good:,}/{len(marks):,}）"
    by_intent = html.split('id="resolution-by-intent"', 1)[1].split("</table>", 1)[0]
    for intent, n in comp.resolution_marked.items():
        g = comp.resolution[intent]
        assert f'<td class="n">{g:,}</td><td class="n">{n - g:,}</td>' in by_intent, intent
    by_op = html.split('id="resolution-by-operator"', 1)[1].split("</table>", 1)[0]
    per_op: Counter[str] = Counter(op for _, op, _ in marks.values())
    for op, n in per_op.items():
        g = sum(1 for _, o, m in marks.values() if o == op and m == "resolved")
        assert f'<td>{op}</td><td class="n">{g:,}</td><td class="n">{n - g:,}</td>' in by_op
    sat = _last_marks(session_db.db, "satisfaction")
    assert len(sat) == comp.satisfaction_marked and comp.satisfied > 0
    s_good = sum(1 for _, _, m in sat.values() if m == "satisfied")
    assert s_good == comp.satisfied
    # no survey imported into this record: the satisfaction card is the operators' marks alone
    assert _card(html, "summary-satisfaction") == f"{100 * s_good / len(sat):.0f}%（{s_good:,}/{len(sat):,}）"


def test_business_figures(session_db: Session, masked_review: ReviewResult) -> None:
    comp = session_db.comp
    db = session_db.db
    html = _html(masked_review)
    orders = _rows(db, "SELECT user_id, ts, data FROM events WHERE kind='order_paid'")
    gmv = sum(float(orjson.loads(str(d)).get("amount", 0)) for _, _, d in orders)
    assert gmv == comp.gmv  # the hand-written PII order carries no amount
    assert _card(html, "summary-gmv") == f"¥{gmv:,.2f}"
    peak = max(comp.online)
    assert _card(html, "summary-peak-online") == f"{peak:,}" == _card(html, "summary-audience")
    commenters = len({u for (u,) in _rows(db, "SELECT DISTINCT user_id FROM comments")})
    buyers = len({str(u) for u, _, _ in orders})
    assert _card(html, "summary-interaction") == f"{100 * commenters / peak:.1f}%"
    assert _card(html, "summary-conversion") == f"{100 * buyers / peak:.1f}%"
    assert _card(html, "summary-follows") == f"{comp.follows:,}"
    avg = sum(comp.online) / len(comp.online)
    assert f"平均 {avg:,.0f}" in html
    # the viewer curve, with its peak and average, in the 生意数据 section
    business = html.split("<h2>生意数据</h2>", 1)[1].split("<h2>", 1)[0]
    assert 'id="chart-online"' in business and "在线人数随时间变化" in business
    assert f"峰值 {peak:,}" in business and f"平均 {avg:,.0f}" in business
    # per product: orders, GMV, time on air and orders while on air, from the merchant's changes
    products = {r["product"]: r for r in _jsonl(_file(masked_review, "products.jsonl"))}
    end = max(float(str(r[0])) for r in _rows(db, "SELECT MAX(ts) FROM comments"))
    end = max(end, float(str(_rows(db, "SELECT ended_at FROM sessions")[0][0])))
    changes = comp.on_air
    for label, row in products.items():
        link = int(str(label).split("号")[0])
        mine = [(u, float(str(ts))) for u, ts, d in orders if orjson.loads(str(d)).get("link") == link]
        assert row["orders"] == len(mine), label
        periods = [
            (t, changes[i + 1][0] if i + 1 < len(changes) else end)
            for i, (t, lk) in enumerate(changes)
            if lk == link
        ]
        on_air = sum(b - a for a, b in periods)
        assert row["on_air_s"] == round(on_air, 1), label
        inside = sum(1 for _, ts in mine if any(a <= ts < b for a, b in periods))
        assert row["orders_on_air"] == inside, label
        if on_air:
            assert row["orders_per_min_on_air"] == round(inside / (on_air / 60), 3)
    assert sum(int(str(r["orders"])) for r in products.values()) == comp.orders_paid


def test_operator_table(session_db: Session, masked_review: ReviewResult) -> None:
    db = session_db.db
    ops = {r["operator"]: r for r in _jsonl(_file(masked_review, "operators.jsonl"))}
    assert set(ops) == {"op-a", "op-b", "op-c"}
    for op, row in ops.items():
        kinds: Counter[str] = Counter()
        for kind, aid in _rows(db, "SELECT kind, action_id FROM actions WHERE operator=?", op):
            if "." not in str(aid):
                kinds[str(kind)] += 1
        sends = len(
            {
                str(a).split(".")[0]
                for (a,) in _rows(db, "SELECT action_id FROM actions WHERE operator=? AND kind='send'", op)
            }
        )
        assert row["replies"] == sends, op
        assert row["coupons_issued"] == kinds["issue_coupon"] + kinds["approve_coupon"], op
        assert row["moderation"] == kinds["mute"], op
        marks = _last_marks(db, "resolve")
        assert row["marked"] == sum(1 for _, o, _ in marks.values() if o == op)
        assert row["resolved_marks"] == sum(1 for _, o, m in marks.values() if o == op and m == "resolved")
    # first responses: every answered comment credited to exactly one operator
    js = _jsonl(_file(masked_review, "comments.jsonl"))
    answered = sum(1 for r in js if r["first_action_ts"] is not None)
    assert sum(int(str(r["first_responses"])) for r in ops.values()) == answered
    breached = sum(1 for r in js if r["sla_breached"] is True and r["first_action_ts"] is not None)
    assert sum(int(str(r["sla_breaches"])) for r in ops.values()) == breached
    html = _html(masked_review)
    assert 'id="operators-table"' in html and "<td>op-a</td>" in html
