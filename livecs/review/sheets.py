"""Detail sheets of the XLSX export: one per operator and one per product, for a 运营 who opens one person's
or one product's page instead of filtering the big tables.

- **客服-<name>**: the operator's 客服表现 figures, then every action of theirs once (a reply or mute recorded
  with its delivery attempts is one row, with the last delivery status), with the comment it was about; the
  comments whose first response was theirs (deadline, response seconds, 超时) — as many rows as the figures'
  首次响应, and as many 超时 as its 超时次数; and the tickets they own or created.
- **商品-<label>**: time on air, orders, GMV, orders on air and per minute on air; each on-air period with
  its orders; the comments attributed to the product (the 在播商品 column of the comments export) by intent,
  with the questions among them, negatives, items with an SLA, answered and 超时或未处理.

Viewer data is masked exactly as in the other exports (the exporter's :class:`Masker`); operator names are
shown as in the 客服操作 table. A sheet never passes Excel's row limit (a note row says where the rest is), at
most ``xlsx_max_detail_sheets`` sheets of each kind are written (a note on the summary sheet says so).
Sheet names are made valid by :mod:`livecs.review.xlsx` (≤ 31 characters, no ``[]:*?/\\``, unique).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from livecs.review import labels
from livecs.review.figures import Business, OperatorFigures, ProductFigures, orders_in_period
from livecs.review.mask import Masker
from livecs.review.queries import BASE_ACTION_ID, OnAirPeriod, TicketRow, product_label
from livecs.review.settings import XLSX_MAX_SHEET_ROWS
from livecs.review.xlsx import XlsxWriter
from livecs.vocabulary import DELIVERY_ZH, INTENT_ZH, OUTCOME_ZH, PRIORITY_ZH, TICKET_STATUS_ZH
from livecs.vocabulary import QUESTION_INTENT_ORDER as QUESTION_INTENTS

OPERATOR_PREFIX = "客服-"
PRODUCT_PREFIX = "商品-"
WIDTH = 12
TimeFmt = Callable[[float | None], str | None]
Cell = Callable[[Any], Any]
MARK_ZH = labels.MARK_NOTE_ZH
OVERDUE_ZH = labels.VALUE_ZH["tickets"]["overdue"]
YES_NO = labels.YES_NO

OPERATOR_FIGURES = [  # (OperatorFigures attribute, 客服表现 column)
    ("handled", "handled"),
    ("first_responses", "first_responses"),
    ("p50_s", "p50_s"),
    ("p90_s", "p90_s"),
    ("sla_breaches", "sla_breaches"),
    ("replies", "replies"),
    ("edited", "edited"),
    ("dismissed", "dismissed"),
    ("escalated", "escalated"),
    ("tickets_resolved", "tickets_resolved"),
    ("coupons", "coupons_issued"),
    ("moderation", "moderation"),
    ("resolved_marks", "resolved_marks"),
    ("marked", "marked"),
]
ACTION_HEADER = [
    "时间",
    "类型",
    "操作ID",
    "对象ID",
    "评论ID",
    "观众",
    "昵称",
    "评论内容",
    "意图",
    "优先级",
    "券规则",
    "送达状态",
    "回复/内容",
    "备注",
]
FIRST_HEADER = [
    "评论时间",
    "评论ID",
    "观众",
    "昵称",
    "评论内容",
    "意图",
    "优先级",
    "响应时限",
    "首次响应时间",
    "响应秒数",
    "超时",
]
TICKET_HEADER = [
    "工单号",
    "角色",
    "状态",
    "优先级",
    "意图",
    "观众",
    "昵称",
    "内容",
    "创建时间",
    "首次响应时间",
    "解决时间",
    "结果",
    "超期",
]
PERIOD_HEADER = ["开始", "结束", "在播秒数", "订单", "每分钟订单"]
INTENT_HEADER = ["意图", "提问", "评论", "负面", "需响应", "已响应", "超时或未处理"]


@dataclass
class IntentCounts:
    comments: int = 0
    negative: int = 0
    with_sla: int = 0
    answered: int = 0
    breached: int = 0


@dataclass
class ProductTally:
    """Comments per product (the comments export's 在播商品) and intent, fed row by row during that export."""

    by_product: dict[str, dict[str, IntentCounts]] = field(default_factory=dict)

    @staticmethod
    def key(product: Any) -> str | None:
        if product is None or product == "" or isinstance(product, (dict, list)):
            return None
        return product_label(product)

    def add(self, row: dict[str, Any]) -> None:
        key = self.key(row.get("product"))
        if key is None:
            return
        intents = self.by_product.setdefault(key, {})
        c = intents.setdefault(str(row.get("intent") or ""), IntentCounts())
        c.comments += 1
        c.negative += row.get("sentiment") == "neg"
        if row.get("sla_deadline") is not None:
            c.with_sla += 1
            c.answered += row.get("first_action_ts") is not None
            c.breached += row.get("sla_breached") is True

    def comments(self, product: str) -> int:
        return sum(c.comments for c in self.by_product.get(product, {}).values())


class _Page:
    """One detail sheet: blocks of rows, cut with a note at Excel's row limit."""

    def __init__(self, wb: XlsxWriter, name: str, cell: Cell, max_rows: int) -> None:
        self.ws = wb.sheet(name, WIDTH)
        self.cell = cell
        self.max_rows = max_rows
        self.cut = 0
        self.name = name

    def row(self, values: Sequence[Any]) -> None:
        if self.ws.rows >= self.max_rows - 1:
            self.cut += 1
            return
        self.ws.append([self.cell(v) for v in values])

    def blank(self) -> None:
        self.row([])

    def close(self, wb: XlsxWriter, rest: str) -> None:
        if self.cut:
            self.ws.append([f"注意：超过 Excel 上限，其余 {self.cut:,} 行见 CSV/JSONL 导出（{rest}）"])
        wb.close_sheet(self.ws)


def _round(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


@dataclass
class DetailSheets:
    """Writes the per-operator and per-product sheets into an open workbook (after the table sheets)."""

    conn: sqlite3.Connection
    sid: str
    masker: Masker
    time: TimeFmt
    cell: Cell
    max_sheets: int
    max_rows: int = XLSX_MAX_SHEET_ROWS
    notes: list[tuple[str, str]] = field(default_factory=list)  # for the summary sheet

    # -- operators ------------------------------------------------------------------------------------
    def operators(self, wb: XlsxWriter, ops: Sequence[OperatorFigures], tickets: Sequence[TicketRow]) -> None:
        for n, o in enumerate(ops):
            if n >= self.max_sheets:
                rest = "其余见 客服表现 与 客服操作"
                self.notes.append(("注意：客服分表", f"只写了前 {self.max_sheets} 位客服的分表，{rest}"))
                return
            page = _Page(wb, OPERATOR_PREFIX + o.operator, self.cell, self.max_rows)
            self._operator(page, o, tickets)
            page.close(wb, "客服操作、评论")

    def _operator(self, page: _Page, o: OperatorFigures, tickets: Sequence[TicketRow]) -> None:
        m = self.masker
        page.row(["客服", o.operator])
        page.row(["项目", "值"])
        for attr, col in OPERATOR_FIGURES:
            v = getattr(o, attr)
            page.row([labels.COLUMN_ZH.get(col, col), _round(v) if isinstance(v, float) else v])
        page.blank()
        page.row(["【处理记录】每个操作一行（送达重试不重复计）"])
        page.row(ACTION_HEADER)
        sql = (
            "WITH g AS (SELECT * FROM (SELECT b, action_id, ts, kind, target_id, user_id, coupon_rule_id, "
            "text, note, ROW_NUMBER() OVER (PARTITION BY b ORDER BY ts, action_id) rn, "
            "FIRST_VALUE(delivery_status) OVER (PARTITION BY b ORDER BY delivery_status='', ts DESC) status "
            f"FROM (SELECT {BASE_ACTION_ID} b, * FROM actions WHERE session_id=:sid AND operator=:op)) "
            "WHERE rn=1) "
            "SELECT g.b, g.ts, g.kind, g.target_id, g.user_id, g.coupon_rule_id, g.status, g.text, g.note, "
            "COALESCE(c.comment_id, c2.comment_id), COALESCE(c.user_id, c2.user_id), "
            "COALESCE(c.nickname, c2.nickname), COALESCE(c.text, c2.text), t.intent, t.priority "
            "FROM g LEFT JOIN comments c ON c.session_id=:sid AND c.comment_id=g.target_id "
            "LEFT JOIN suggestions s ON s.session_id=:sid AND s.suggestion_id=g.target_id "
            "LEFT JOIN comments c2 ON c2.session_id=:sid AND c2.comment_id=s.comment_id "
            "LEFT JOIN triage t ON t.session_id=:sid AND t.comment_id=COALESCE(c.comment_id, c2.comment_id) "
            "ORDER BY g.ts, g.b"
        )
        for (
            aid,
            ts,
            kind,
            target,
            uid,
            rule,
            status,
            text,
            note,
            cid,
            c_uid,
            nick,
            c_text,
            intent,
            prio,
        ) in self.conn.execute(sql, {"sid": self.sid, "op": o.operator}):
            viewer = c_uid if c_uid is not None else uid
            if target and target == viewer and cid is None:
                target = m.user(target)  # a user targeted directly (mute/ban)
            if kind in ("resolve", "satisfaction"):
                note = MARK_ZH.get(note, note)
            page.row(
                [
                    self.time(ts),
                    labels.ACTION_LABELS.get(kind, kind),
                    aid,
                    target,
                    cid,
                    m.user(viewer) if viewer else None,
                    m.nickname(nick) if nick else None,
                    m.text(c_text) if c_text else None,
                    INTENT_ZH.get(intent, intent),
                    PRIORITY_ZH.get(prio, prio),
                    rule,
                    DELIVERY_ZH.get(status, status),
                    self._reply(text, nick),
                    self._reply(note, nick),
                ]
            )
        page.blank()
        page.row(["【首次响应】这些评论的第一个操作是该客服做的"])
        page.row(FIRST_HEADER)
        for cid, ts, deadline, first, delay, late, uid, nick, text, intent, prio in self.conn.execute(
            "SELECT k.comment_id, k.ts, k.deadline, k.first_ts, k.delay, k.late, c.user_id, c.nickname, "
            "c.text, t.intent, t.priority FROM t_credit k "
            "JOIN comments c ON c.session_id=:sid AND c.comment_id=k.comment_id "
            "LEFT JOIN triage t ON t.session_id=:sid AND t.comment_id=k.comment_id "
            "WHERE k.operator=:op ORDER BY k.ts",
            {"sid": self.sid, "op": o.operator},
        ):
            page.row(
                [
                    self.time(ts),
                    cid,
                    m.user(uid),
                    m.nickname(nick),
                    m.text(text),
                    INTENT_ZH.get(intent, intent),
                    PRIORITY_ZH.get(prio, prio),
                    self.time(deadline),
                    self.time(first),
                    round(float(delay), 3),
                    YES_NO[bool(late)],
                ]
            )
        page.blank()
        page.row(["【工单】负责或创建的工单"])
        page.row(TICKET_HEADER)
        for t in tickets:
            roles = [r for r, who in (("负责人", t.owner), ("创建人", t.created_by)) if who == o.operator]
            if not roles:
                continue
            page.row(
                [
                    t.ticket_id,
                    "、".join(roles),
                    TICKET_STATUS_ZH.get(t.status, t.status),
                    PRIORITY_ZH.get(t.priority, t.priority),
                    INTENT_ZH.get(t.intent, t.intent),
                    m.user(t.user_id),
                    m.nickname(t.nickname),
                    m.text(t.text),
                    self.time(t.created_at),
                    self.time(t.first_response_at),
                    self.time(t.resolved_at),
                    OUTCOME_ZH.get(t.outcome, t.outcome),
                    OVERDUE_ZH.get(t.overdue, t.overdue),
                ]
            )

    def _reply(self, text: str | None, nickname: str | None) -> str | None:
        if not text:
            return None
        if self.masker.enabled and nickname and nickname in text:
            text = text.replace(nickname, self.masker.nickname(nickname))
        return self.masker.text(text)

    # -- products -------------------------------------------------------------------------------------
    def products(
        self, wb: XlsxWriter, business: Business | None, periods: Sequence[OnAirPeriod], tally: ProductTally
    ) -> None:
        known = {p.label: p for p in (business.products if business else [])}
        order = list(known) + sorted(
            (k for k in tally.by_product if k not in known), key=lambda k: (-tally.comments(k), k)
        )
        for n, label in enumerate(order):
            if n >= self.max_sheets:
                self.notes.append(
                    ("注意：商品分表", f"只写了前 {self.max_sheets} 个商品的分表，其余见 商品 与 评论")
                )
                return
            name = self.masker.text(label)
            page = _Page(wb, PRODUCT_PREFIX + name, self.cell, self.max_rows)
            self._product(page, name, known.get(label) or ProductFigures(label), periods, tally)
            page.close(wb, "商品、评论")

    def _product(
        self,
        page: _Page,
        name: str,
        p: ProductFigures,
        periods: Sequence[OnAirPeriod],
        tally: ProductTally,
    ) -> None:
        intents = tally.by_product.get(p.label, {})
        total = IntentCounts()
        for c in intents.values():
            total.comments += c.comments
            total.negative += c.negative
            total.with_sla += c.with_sla
            total.answered += c.answered
            total.breached += c.breached
        questions = sum(c.comments for i, c in intents.items() if i in QUESTION_INTENTS)
        per_min = p.orders_per_min_on_air
        page.row(["商品", name])
        page.row(["项目", "值"])
        for k, v in (
            ("在播秒数", round(p.on_air_s, 1)),
            ("订单", p.orders),
            ("成交额", round(p.gmv, 2)),
            ("在播时订单", p.orders_on_air),
            ("在播每分钟订单", None if per_min is None else round(per_min, 3)),
            ("评论", total.comments),
            ("提问", questions),
            ("负面", total.negative),
            ("超时或未处理", total.breached),
        ):
            page.row([k, v])
        page.blank()
        page.row(["【在播时段】商家设置的上架讲解"])
        page.row(PERIOD_HEADER)
        for period in periods:
            if period.label != p.label:
                continue
            n = orders_in_period(self.conn, self.sid, period)
            minutes = (period.end - period.start) / 60.0
            page.row(
                [
                    self.time(period.start),
                    self.time(period.end),
                    round(period.end - period.start, 1),
                    n,
                    round(n / minutes, 3) if minutes > 0 else None,
                ]
            )
        page.blank()
        page.row(["【评论与提问】按意图（商品 = 评论时在播的商品）"])
        page.row(INTENT_HEADER)
        for intent, c in sorted(intents.items(), key=lambda kv: (-kv[1].comments, kv[0])):
            page.row(
                [
                    INTENT_ZH.get(intent, intent or "未分诊"),
                    YES_NO[intent in QUESTION_INTENTS],
                    c.comments,
                    c.negative,
                    c.with_sla,
                    c.answered,
                    c.breached,
                ]
            )
        t = total
        page.row(["合计", None, t.comments, t.negative, t.with_sla, t.answered, t.breached])


def sheet_names(names: Iterable[str]) -> list[str]:
    """The detail sheets among a workbook's sheet names (for tests and the summary)."""
    return [n for n in names if n.startswith((OPERATOR_PREFIX, PRODUCT_PREFIX))]
