"""Streaming exports of a session: comments (with triage, responses, suggestions), suggestions, actions,
coupons (one row per coupon rule: issued against the library's stock), events.

One pass over each table feeds every requested format at once: CSV (UTF-8 with BOM, so Excel opens Chinese
correctly; one file per table), JSONL (one file per table; JSON columns stay objects) and XLSX (one workbook
written by the streaming :mod:`livecs.review.xlsx`, one sheet per table; a table longer than Excel's
1,048,576 rows continues on ``comments (2)``… up to a configured number of sheets, then stops with a note on
the ``summary`` sheet). Rows are masked on the way out. Cells that a spreadsheet would run as a formula
(= + - @ first) get a leading apostrophe in CSV and XLSX.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import orjson

from livecs.review import labels
from livecs.review.figures import Business, OperatorFigures, credit_first_responses
from livecs.review.mask import Masker
from livecs.review.queries import PRODUCT_KEYS, ReviewReader, loads, product_at
from livecs.review.settings import XLSX_MAX_SHEET_ROWS, ReviewSettings
from livecs.review.sheets import DetailSheets, ProductTally
from livecs.review.stock import CouponStock
from livecs.review.xlsx import Sheet, XlsxWriter

Progress = Callable[[str, int, int], None]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PROGRESS_EVERY = 10_000
XLSX_NAME = "review.xlsx"
SUMMARY_SHEET = "summary"
SHARE_DIGITS = 4
COUPON_COLUMNS = [
    "coupon_rule_id",
    "name",
    "type",
    "enabled",
    "issued",
    "stock",
    "stock_used",
    "stock_used_share",
    "remaining",
    "per_user_limit",
    "status",
    "library_version",
]


@dataclass
class Table:
    name: str
    columns: list[str]
    json_columns: frozenset[str]
    rows: Callable[[], Iterator[dict[str, Any]]]
    total: int


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    xlsx_truncated: dict[str, int] = field(default_factory=dict)  # table -> rows left out of the XLSX
    detail_sheets: list[str] = field(default_factory=list)  # 客服-… and 商品-… sheets of the XLSX


def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _flat(value: Any) -> Any:
    """A value for CSV/XLSX: JSON for containers, text for the rest."""
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return value


class _Csv:
    """Chinese headers and labels (the JSONL beside it keeps the codes)."""

    def __init__(self, path: Path, table: str, columns: Sequence[str]) -> None:
        self.path = path
        self._fh = path.open("w", encoding="utf-8-sig", newline="")
        self._w = csv.writer(self._fh)
        self._w.writerow(labels.header(list(columns)))
        self._columns = columns
        self._table = table

    def write(self, row: dict[str, Any]) -> None:
        t = self._table
        self._w.writerow(
            [
                "" if (v := row.get(c)) is None else _defuse(_flat(labels.label(t, c, v)))
                for c in self._columns
            ]
        )

    def close(self) -> None:
        self._fh.close()


class _Jsonl:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("wb")

    def write(self, row: dict[str, Any]) -> None:
        self._fh.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))

    def close(self) -> None:
        self._fh.close()


def _xlsx_cell(value: Any) -> Any:
    return _defuse(_flat(value))


class _XlsxTable:
    """One table's sheets; moves to a new sheet at Excel's row limit, up to ``max_sheets`` sheets."""

    def __init__(self, wb: XlsxWriter, name: str, columns: Sequence[str], max_sheets: int) -> None:
        self.wb = wb
        self.table = name
        self.name = labels.SHEET_ZH.get(name, name)
        self.columns = list(columns)
        self.max_sheets = max_sheets
        self.sheets = 0
        self.left_out = 0
        self._ws: Sheet | None = None
        self._new_sheet()

    def _new_sheet(self) -> None:
        if self._ws is not None:
            self.wb.close_sheet(self._ws)
        self.sheets += 1
        self._ws = self.wb.sheet(
            self.name if self.sheets == 1 else f"{self.name} ({self.sheets})", len(self.columns)
        )
        self._ws.append(labels.header(self.columns))

    def write(self, row: dict[str, Any]) -> None:
        assert self._ws is not None
        if self._ws.rows >= XLSX_MAX_SHEET_ROWS:
            if self.sheets >= self.max_sheets:
                self.left_out += 1
                return
            self._new_sheet()
            assert self._ws is not None
        t = self.table
        self._ws.append([_xlsx_cell(labels.label(t, c, row.get(c))) for c in self.columns])

    def close(self) -> None:
        if self._ws is not None:
            self.wb.close_sheet(self._ws)
            self._ws = None


class Exporter:
    """Builds the table streams of one session and writes the requested formats."""

    def __init__(
        self,
        reader: ReviewReader,
        masker: Masker,
        settings: ReviewSettings,
        tz: tzinfo,
        end_ts: float,
        coupon_stock: CouponStock | None = None,
        business: Business | None = None,
        operators: list[OperatorFigures] | None = None,
    ) -> None:
        self.r = reader
        self.m = masker
        self.s = settings
        self.tz = tz
        self.end_ts = end_ts
        self.coupon_stock = coupon_stock
        self.business = business
        self.operators = operators or []

    def _time(self, ts: float | None) -> str | None:
        return None if ts is None else datetime.fromtimestamp(ts, self.tz).strftime(TIME_FORMAT)

    def _reply(self, text: str, nickname: str | None) -> str:
        """Mask an operator/script text; a viewer's nickname echoed in it is masked too."""
        if self.m.enabled and nickname and nickname in text:
            text = text.replace(nickname, self.m.nickname(nickname))
        return self.m.text(text)

    # -- tables -----------------------------------------------------------------------------------------
    def tables(self) -> list[Table]:
        self.r.prepare_exports()
        return [
            self._comments(),
            self._suggestions(),
            self._actions(),
            self._coupons(),
            self._events(),
            self._tickets(),
            self._products(),
            self._operators(),
        ]

    def _comments(self) -> Table:
        cols = [
            "comment_id",
            "time",
            "ts",
            "user",
            "nickname",
            "member_tier",
            "fan_level",
            "text",
            "product",
            "intent",
            "intent_confidence",
            "sentiment",
            "sentiment_score",
            "emotion",
            "spam",
            "spam_reason",
            "cluster_id",
            "cluster_size",
            "priority",
            "sla_deadline",
            "first_action_ts",
            "response_s",
            "sla_breached",
            "suggestions",
            "suggested_script",
            "reasons",
            "extras",
        ]
        sql = (
            "SELECT c.comment_id, c.ts, c.user_id, c.nickname, c.member_tier, c.fan_level, c.text, c.extras, "
            "t.intent, t.intent_confidence, t.sentiment,"
            " t.sentiment_score, t.emotion, t.spam, t.spam_reason, "
            "t.cluster_id, t.cluster_size, t.priority, r.deadline, r.first_ts, g.n, g.script_id, t.reasons, "
            "t.comment_id IS NOT NULL "
            "FROM comments c LEFT JOIN triage t ON t.session_id=c.session_id AND t.comment_id=c.comment_id "
            "LEFT JOIN t_resp r ON r.comment_id=c.comment_id LEFT JOIN t_sug g ON g.comment_id=c.comment_id "
            "WHERE c.session_id=? ORDER BY c.ts"
        )
        m, end = self.m, self.end_ts
        periods = self.r.on_air_periods()

        def rows() -> Iterator[dict[str, Any]]:
            for (
                cid,
                ts,
                uid,
                nick,
                tier,
                fan,
                text,
                extras_raw,
                intent,
                conf,
                sent,
                score,
                emo,
                spam,
                spam_r,
                cluster,
                csize,
                prio,
                deadline,
                first,
                n_sug,
                script,
                reasons,
                has_triage,
            ) in self.r.stream(sql, (self.r.sid,)):
                extras = loads(extras_raw)
                # the product the merchant had on air, else one the comment's platform data names
                product: Any = product_at(periods, ts) or next(
                    (extras[k] for k in PRODUCT_KEYS if isinstance(extras, dict) and k in extras), None
                )
                breached = None
                if deadline is not None:
                    breached = (first > deadline) if first is not None else (deadline < end)
                yield {
                    "comment_id": cid,
                    "time": self._time(ts),
                    "ts": ts,
                    "user": m.user(uid),
                    "nickname": m.nickname(nick),
                    "member_tier": tier,
                    "fan_level": fan,
                    "text": m.text(text),
                    "product": m.value(product) if product is not None else None,
                    "intent": intent,
                    "intent_confidence": conf,
                    "sentiment": sent,
                    "sentiment_score": score,
                    "emotion": emo,
                    "spam": None if not has_triage else bool(spam),
                    "spam_reason": spam_r,
                    "cluster_id": cluster,
                    "cluster_size": csize,
                    "priority": prio,
                    "sla_deadline": deadline,
                    "first_action_ts": first,
                    "response_s": None if first is None else round(first - ts, 3),
                    "sla_breached": breached,
                    "suggestions": n_sug or 0,
                    "suggested_script": script,
                    "reasons": m.value(loads(reasons)) if reasons else None,
                    "extras": m.value(extras) if extras else None,
                }

        return Table("comments", cols, frozenset({"reasons", "extras"}), rows, self.r.count("comments"))

    def _suggestions(self) -> Table:
        cols = [
            "suggestion_id",
            "comment_id",
            "time",
            "created_at",
            "cluster_id",
            "priority",
            "script_id",
            "reply",
            "on_air",
            "score",
            "coupon_rule_id",
            "why",
        ]
        sql = (
            "SELECT s.suggestion_id, s.comment_id, s.created_at,"
            " s.cluster_id, s.priority, s.script_id, s.reply, "
            "s.on_air, s.score, s.coupon_rule_id, s.why, c.nickname FROM suggestions s LEFT JOIN comments c "
            "ON c.session_id=s.session_id AND c.comment_id=s.comment_id WHERE s.session_id=?"
        )

        def rows() -> Iterator[dict[str, Any]]:
            for (
                sid_,
                cid,
                created,
                cluster,
                prio,
                script,
                reply,
                on_air,
                score,
                rule,
                why,
                nick,
            ) in self.r.stream(sql, (self.r.sid,)):
                yield {
                    "suggestion_id": sid_,
                    "comment_id": cid,
                    "time": self._time(created),
                    "created_at": created,
                    "cluster_id": cluster,
                    "priority": prio,
                    "script_id": script,
                    "reply": self._reply(reply, nick),
                    "on_air": self._reply(on_air, nick),
                    "score": score,
                    "coupon_rule_id": rule,
                    "why": self.m.value(loads(why)) if why else None,
                }

        return Table("suggestions", cols, frozenset({"why"}), rows, self.r.count("suggestions"))

    def _actions(self) -> Table:
        cols = [
            "action_id",
            "time",
            "ts",
            "operator",
            "kind",
            "target_id",
            "user",
            "coupon_rule_id",
            "delivery_status",
            "text",
            "note",
        ]
        sql = (
            "SELECT a.action_id, a.ts, a.operator, a.kind, a.target_id, a.user_id, a.coupon_rule_id, "
            "a.delivery_status, a.text, a.note, c.nickname, c.user_id FROM actions a LEFT JOIN comments c "
            "ON c.session_id=a.session_id AND c.comment_id=a.target_id WHERE a.session_id=? ORDER BY a.ts"
        )

        def rows() -> Iterator[dict[str, Any]]:
            for aid, ts, op, kind, target, uid, rule, status, text, note, nick, c_uid in self.r.stream(
                sql, (self.r.sid,)
            ):
                if target and target == uid and c_uid is None:
                    target = self.m.user(target)  # a user targeted directly (mute/ban)
                yield {
                    "action_id": aid,
                    "time": self._time(ts),
                    "ts": ts,
                    "operator": op,
                    "kind": kind,
                    "target_id": target,
                    "user": self.m.user(uid),
                    "coupon_rule_id": rule,
                    "delivery_status": status,
                    "text": self._reply(text, nick),
                    "note": self._reply(note, nick),
                }

        return Table("actions", cols, frozenset(), rows, self.r.count("actions"))

    def _coupons(self) -> Table:
        """One row per coupon rule (issued in the session, or enabled in the library): issued vs stock."""
        cs = self.coupon_stock
        rules = cs.rows if cs is not None else []
        version = cs.library.version_id if cs is not None else None

        def rows() -> Iterator[dict[str, Any]]:
            for r in rules:
                share = r.share
                yield {
                    "coupon_rule_id": r.rule_id,
                    "name": r.name or None,
                    "type": r.type or None,
                    "enabled": r.enabled,
                    "issued": r.issued,
                    "stock": r.stock,
                    "stock_used": r.usage(),
                    "stock_used_share": None if share is None else round(share, SHARE_DIGITS),
                    "remaining": r.remaining,
                    "per_user_limit": r.per_user_limit,
                    "status": r.status,
                    "library_version": version,
                }

        return Table("coupons", COUPON_COLUMNS, frozenset(), rows, len(rules))

    def _events(self) -> Table:
        cols = ["event_id", "time", "ts", "kind", "user", "nickname", "member_tier", "data"]
        sql = "SELECT event_id, ts, kind, user_id, nickname, member_tier, data FROM events WHERE session_id=?"

        def rows() -> Iterator[dict[str, Any]]:
            for eid, ts, kind, uid, nick, tier, data in self.r.stream(sql, (self.r.sid,)):
                yield {
                    "event_id": eid,
                    "time": self._time(ts),
                    "ts": ts,
                    "kind": kind,
                    "user": self.m.user(uid),
                    "nickname": self.m.nickname(nick),
                    "member_tier": tier,
                    "data": self.m.value(loads(data)) if data else None,
                }

        return Table("events", cols, frozenset({"data"}), rows, self.r.count("events"))

    def _tickets(self) -> Table:
        cols = [
            "ticket_id",
            "status",
            "priority",
            "intent",
            "user",
            "nickname",
            "text",
            "note",
            "owner",
            "created_by",
            "created",
            "due_first_response",
            "due_resolution",
            "first_response",
            "resolved",
            "outcome",
            "resolution",
            "overdue",
        ]
        tickets = self.r.tickets()

        def rows() -> Iterator[dict[str, Any]]:
            m = self.m
            for t in tickets:
                yield {
                    "ticket_id": t.ticket_id,
                    "status": t.status,
                    "priority": t.priority,
                    "intent": t.intent,
                    "user": m.user(t.user_id),
                    "nickname": m.nickname(t.nickname),
                    "text": m.text(t.text),
                    "note": m.text(t.note),
                    "owner": t.owner,
                    "created_by": t.created_by,
                    "created": self._time(t.created_at),
                    "due_first_response": self._time(t.due_first_response),
                    "due_resolution": self._time(t.due_resolution),
                    "first_response": self._time(t.first_response_at),
                    "resolved": self._time(t.resolved_at),
                    "outcome": t.outcome,
                    "resolution": m.text(t.resolution),
                    "overdue": t.overdue,
                }

        return Table("tickets", cols, frozenset(), rows, len(tickets))

    def _products(self) -> Table:
        """One row per product: time on air, orders, GMV, orders on air and per minute on air."""
        cols = ["product", "on_air_s", "orders", "gmv", "orders_on_air", "orders_per_min_on_air"]
        products = self.business.products if self.business is not None else []

        def rows() -> Iterator[dict[str, Any]]:
            for p in products:
                per_min = p.orders_per_min_on_air
                yield {
                    "product": p.label,
                    "on_air_s": round(p.on_air_s, 1),
                    "orders": p.orders,
                    "gmv": round(p.gmv, 2),
                    "orders_on_air": p.orders_on_air,
                    "orders_per_min_on_air": None if per_min is None else round(per_min, 3),
                }

        return Table("products", cols, frozenset(), rows, len(products))

    def _operators(self) -> Table:
        """The 客服表现 table, one row per operator."""
        cols = [
            "operator",
            "handled",
            "first_responses",
            "p50_s",
            "p90_s",
            "sla_breaches",
            "replies",
            "edited",
            "dismissed",
            "escalated",
            "tickets_resolved",
            "coupons_issued",
            "moderation",
            "resolved_marks",
            "marked",
        ]
        ops = self.operators

        def rows() -> Iterator[dict[str, Any]]:
            for o in ops:
                yield {
                    "operator": o.operator,
                    "handled": o.handled,
                    "first_responses": o.first_responses,
                    "p50_s": None if o.p50_s is None else round(o.p50_s, 1),
                    "p90_s": None if o.p90_s is None else round(o.p90_s, 1),
                    "sla_breaches": o.sla_breaches,
                    "replies": o.replies,
                    "edited": o.edited,
                    "dismissed": o.dismissed,
                    "escalated": o.escalated,
                    "tickets_resolved": o.tickets_resolved,
                    "coupons_issued": o.coupons,
                    "moderation": o.moderation,
                    "resolved_marks": o.resolved_marks,
                    "marked": o.marked,
                }

        return Table("operators", cols, frozenset(), rows, len(ops))

    # -- writing ----------------------------------------------------------------------------------------
    def _detail_sheets(self, wb: XlsxWriter, tally: ProductTally) -> list[tuple[str, str]]:
        """One sheet per operator and per product (after the tables); returns notes for the summary."""
        credit_first_responses(self.r.conn, self.r.sid)
        detail = DetailSheets(
            self.r.conn,
            self.r.sid,
            self.m,
            self._time,
            _xlsx_cell,
            self.s.xlsx_max_detail_sheets,
            XLSX_MAX_SHEET_ROWS,
        )
        detail.operators(wb, self.operators, self.r.tickets())
        detail.products(wb, self.business, self.r.on_air_periods(), tally)
        return detail.notes

    def write(
        self,
        out_dir: Path,
        formats: Sequence[str],
        summary_rows: Sequence[tuple[str, Any]],
        progress: Progress | None = None,
    ) -> ExportResult:
        result = ExportResult()
        fmts = [f for f in formats if f in {"csv", "jsonl", "xlsx"}]
        if not fmts:
            return result
        wb: XlsxWriter | None = None
        summary_no = 0
        if "xlsx" in fmts:
            wb = XlsxWriter(out_dir / XLSX_NAME)
            summary_no = wb.declare(labels.SHEET_ZH[SUMMARY_SHEET])  # first in the workbook, written last
        tally = ProductTally() if wb is not None else None
        for table in self.tables():
            feed = tally.add if tally is not None and table.name == "comments" else None
            writers: list[Any] = []
            if "csv" in fmts:
                writers.append(_Csv(out_dir / f"{table.name}.csv", table.name, table.columns))
            if "jsonl" in fmts:
                writers.append(_Jsonl(out_dir / f"{table.name}.jsonl"))
            xt = _XlsxTable(wb, table.name, table.columns, self.s.xlsx_max_sheets_per_table) if wb else None
            n = 0
            stage = f"导出 {table.name}"
            if progress:
                progress(stage, 0, table.total)
            for row in table.rows():
                for w in writers:
                    w.write(row)
                if feed is not None:
                    feed(row)
                if xt is not None:
                    xt.write(row)
                n += 1
                if progress and n % PROGRESS_EVERY == 0:
                    progress(stage, n, table.total)
            if progress:
                progress(stage, n, max(n, table.total))
            for w in writers:
                w.close()
                result.files.append(w.path)
            result.rows[table.name] = n
            if xt is not None:
                xt.close()
                if xt.left_out:
                    result.xlsx_truncated[table.name] = xt.left_out
        notes: list[tuple[str, str]] = []
        if wb is not None and tally is not None:
            before = len(wb.names)
            notes = self._detail_sheets(wb, tally)
            result.detail_sheets = wb.names[before:]
        if wb is not None:
            summary_ws = wb.open_sheet(summary_no, 2)
            summary_ws.append(["项目", "值"])
            for k, v in summary_rows:
                summary_ws.append([_xlsx_cell(k), _xlsx_cell(v)])
            for name, n in result.rows.items():
                summary_ws.append([f"{labels.SHEET_ZH.get(name, name)} 行数", n])
            if result.detail_sheets:
                summary_ws.append(["分表（每位客服、每个商品一页）", "、".join(result.detail_sheets)])
            for k, v in notes:
                summary_ws.append([k, v])
            for name, left in result.xlsx_truncated.items():
                summary_ws.append(
                    [
                        f"注意：{labels.SHEET_ZH.get(name, name)} 超过 Excel 上限",
                        f"XLSX 只含前 {result.rows[name] - left:,} 行，其余 {left:,} 行见 CSV/JSONL 导出",
                    ]
                )
            wb.close()
            result.files.append(wb.path)
        return result
