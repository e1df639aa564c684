"""The XLSX's sheet per operator and per product (issue 13: "a sheet per operator and per product, tickets
exported too"), each number against a direct count of the synthetic session's record."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import orjson

from livecs.review import ReviewResult, build_review
from livecs.review.labels import ACTION_LABELS, COLUMN_ZH
from livecs.review.settings import ReviewSettings
from livecs.review.sheets import OPERATOR_FIGURES
from livecs.review.xlsx import XlsxWriter, safe_sheet_name
from livecs.tickets.model import TicketSettings, apply, new_ticket
from livecs.tickets.store import TicketStore
from livecs.vocabulary import INTENT_ZH
from livecs.vocabulary import QUESTION_INTENT_ORDER as QUESTION_INTENTS

from .conftest import START, Session
from .test_adds_up import _rows
from .test_review import _csv_rows, _file, _jsonl

BAD_CHARS = set("[]:*?/\\")


def _sheets(res: ReviewResult) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(_file(res, "review.xlsx"), read_only=True)
    try:
        return {
            n: [tuple(r) for r in wb[n].iter_rows(values_only=True)]
            for n in wb.sheetnames
            if n.startswith(("客服-", "商品-"))
        }
    finally:
        wb.close()


def _section(rows: list[tuple[Any, ...]], title: str) -> list[tuple[Any, ...]]:
    """The rows of a titled block (after its header row) up to the next blank row."""
    start = next(i for i, r in enumerate(rows) if r and r[0] and str(r[0]).startswith(title))
    out = []
    for r in rows[start + 2 :]:
        if not r or all(v is None for v in r):
            break
        out.append(r)
    return out


def _figures(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in rows[2:]:
        if not r or r[0] is None:
            break
        out[str(r[0])] = r[1] if len(r) > 1 else None
    return out


def _valid_names(names: list[str]) -> None:
    assert len({n.casefold() for n in names}) == len(names)
    for n in names:
        assert 0 < len(n) <= 31 and not (set(n) & BAD_CHARS), n
        assert not n.startswith("'") and not n.endswith("'"), n


def test_a_sheet_per_operator_adds_up(session_db: Session, masked_review: ReviewResult) -> None:
    db = session_db.db
    sheets = _sheets(masked_review)
    ops = {r["operator"]: r for r in _jsonl(_file(masked_review, "operators.jsonl"))}
    assert {n for n in sheets if n.startswith("客服-")} == {f"客服-{o}" for o in ops}
    credited: dict[str, tuple[str, Any]] = {}
    for op, figures in ops.items():
        rows = sheets[f"客服-{op}"]
        assert rows[0] == ("客服", op)
        # the figures block is the 客服表现 row, with Chinese names
        block = _figures(rows)
        for _, col in OPERATOR_FIGURES:
            v = figures[col]
            assert block[COLUMN_ZH[col]] == (round(v, 1) if isinstance(v, float) else v), (op, col)
        # every action of the operator once (a delivery attempt ``<id>.<n>`` is not a second action)
        actions = _section(rows, "【处理记录】")
        direct = {
            str(a).split(".")[0]: str(k)
            for a, k in _rows(db, "SELECT action_id, kind FROM actions WHERE operator=?", op)
        }
        assert len(actions) == len(direct) > 100
        assert Counter(r[1] for r in actions) == Counter(ACTION_LABELS.get(k, k) for k in direct.values())
        assert {r[2] for r in actions} == set(direct)
        # a reply carries its comment (through the suggestion) and its delivery status
        replies = [r for r in actions if r[1] == "回复"]
        assert replies and all(r[4] and r[7] and r[11] == "已发送" for r in replies)
        mutes = [r for r in actions if r[1] == "禁言"]
        assert all(r[11] == "已发送" and str(r[3]).startswith("u_") for r in mutes)  # the user, masked
        # first responses: as many as the figures say, 超时 as many as its breaches
        first = _section(rows, "【首次响应】")
        assert len(first) == figures["first_responses"]
        assert sum(1 for r in first if r[10] == "是") == figures["sla_breaches"]
        for r in first:
            assert r[1] not in credited, r[1]  # each comment credited to one operator
            credited[str(r[1])] = (op, r[9])
    # ... and together they are exactly the answered comments of the export, with the same delays
    js = {str(r["comment_id"]): r for r in _jsonl(_file(masked_review, "comments.jsonl"))}
    answered = {cid for cid, r in js.items() if r["first_action_ts"] is not None}
    assert set(credited) == answered
    for cid, (_, delay) in credited.items():
        assert delay == js[cid]["response_s"], cid


def test_a_sheet_per_product_adds_up(session_db: Session, masked_review: ReviewResult) -> None:
    sheets = _sheets(masked_review)
    comp = session_db.comp
    products = {str(r["product"]): r for r in _jsonl(_file(masked_review, "products.jsonl"))}
    js = _jsonl(_file(masked_review, "comments.jsonl"))
    by_product: dict[str, Counter[str]] = {}
    for r in js:
        if r["product"]:
            by_product.setdefault(str(r["product"]), Counter())[str(r["intent"] or "")] += 1
    names = {n for n in sheets if n.startswith("商品-")}
    assert names == {f"商品-{p}" for p in set(products) | set(by_product)}
    assert len(names) >= 5
    for label in set(products) | set(by_product):
        rows = sheets[f"商品-{label}"]
        block = _figures(rows)
        p = products.get(label)
        if p is not None:
            assert block["订单"] == p["orders"] and block["成交额"] == p["gmv"], label
            assert block["在播秒数"] == p["on_air_s"] and block["在播时订单"] == p["orders_on_air"], label
            assert block["在播每分钟订单"] == p["orders_per_min_on_air"], label
        # comments and questions by intent = the comments export's 在播商品 column, counted directly
        counts = by_product.get(label, Counter())
        table = _section(rows, "【评论与提问】")
        assert table[-1][0] == "合计" and table[-1][2] == sum(counts.values()) == block["评论"]
        expected = {INTENT_ZH.get(i, i or "未分诊"): n for i, n in counts.items()}
        assert {r[0]: r[2] for r in table[:-1]} == expected
        assert block["提问"] == sum(n for i, n in counts.items() if i in QUESTION_INTENTS)
        breached = sum(1 for r in js if r["product"] == label and r["sla_breached"] is True)
        assert block["超时或未处理"] == breached == table[-1][6]
        # on-air periods: the merchant's changes to this link, their orders adding up to orders on air
        periods = _section(rows, "【在播时段】")
        link = int(label.split("号")[0])
        assert len(periods) == sum(1 for _, lk in comp.on_air if lk == link)
        if p is not None:
            assert sum(int(r[3]) for r in periods) == p["orders_on_air"]
            assert round(sum(float(r[2]) for r in periods), 1) == p["on_air_s"]


def test_operator_sheets_list_their_tickets_and_names_stay_valid(session_db: Session, tmp_path: Path) -> None:
    db = tmp_path / "livecs.db"
    shutil.copy(session_db.db, db)
    sid = session_db.comp.session_id
    store = TicketStore(db)
    settings = TicketSettings()
    made = []
    for i, (by, owner, close) in enumerate(
        [("op-b", "op-a", "resolved"), ("op-a", "", ""), ("op-c", "op-a", "unresolved")]
    ):
        t = new_ticket(
            "",
            room="shop",
            session_id=sid,
            item_id=f"i{i}",
            target_id=f"c{i}",
            source="single",
            intent="complaint",
            priority="P0",
            viewer={"user_id": "13900001111", "nickname": "李四13900001111"},
            comments=[{"comment_id": f"c{i}", "text": "电话13900001111 退钱", "ts": START + i}],
            note="回电",
            by=by,
            now=START + 100 + i,
            settings=settings,
        )
        if owner:
            apply(t, "reassign", by, START + 200, owner=owner)
        if close:
            apply(t, "close", owner, START + 300, text="已退款", outcome=close)
        made.append(store.insert(t))
    store.close()
    # operators whose names Excel would refuse as sheet names, and two that differ only in case
    conn = sqlite3.connect(db)
    with conn:
        for j, name in enumerate(["a/b:c*?[x]", "Amy", "AMY", "x" * 40, "'quoted'"]):
            conn.execute(
                "INSERT INTO actions VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (sid, f"weird{j}", "shop", name, "dismiss", "c5", START + 50, "", "", "", "", ""),
            )
    conn.close()
    res = build_review(db, sid, tmp_path / "out", "xlsx,jsonl", compare=None)
    wb = openpyxl.load_workbook(_file(res, "review.xlsx"), read_only=True)
    names = list(wb.sheetnames)
    wb.close()
    _valid_names(names)
    assert res.detail_sheets == [n for n in names if n.startswith(("客服-", "商品-"))]
    ops = [n for n in names if n.startswith("客服-")]
    assert len(ops) == 3 + 5
    assert "客服-a_b_c__[x]" not in ops and "客服-a_b_c___x_" in ops
    assert {"客服-AMY", "客服-Amy (2)"} <= set(ops)  # sorted by name: AMY first
    sheets = _sheets(res)
    tickets = {r[0]: r for r in _section(sheets["客服-op-a"], "【工单】")}
    assert set(tickets) == {made[0].ticket_id, made[1].ticket_id, made[2].ticket_id}
    assert tickets[made[0].ticket_id][1] == "负责人" and tickets[made[1].ticket_id][1] == "创建人"
    assert tickets[made[0].ticket_id][11] == "已解决" and tickets[made[2].ticket_id][11] == "未解决"
    assert tickets[made[0].ticket_id][2] == "已关闭"
    assert {r[0] for r in _section(sheets["客服-op-b"], "【工单】")} == {made[0].ticket_id}
    raw = orjson.dumps(sheets).decode()
    assert "13900001111" not in raw and "李四" not in raw  # the viewer masked in every sheet
    js = _jsonl(_file(res, "operators.jsonl"))
    assert {r["operator"]: r["tickets_resolved"] for r in js}["op-a"] == 1
    assert res.rows["tickets"] == 3


def test_detail_sheets_are_capped(session_db: Session, tmp_path: Path) -> None:
    settings = ReviewSettings.model_validate({"xlsx_max_detail_sheets": 1})
    res = build_review(session_db.db, "latest", tmp_path, "xlsx", settings=settings, compare=None)
    assert [n[:3] for n in res.detail_sheets] == ["客服-", "商品-"]
    wb = openpyxl.load_workbook(_file(res, "review.xlsx"), read_only=True)
    notes = {r[0]: r[1] for r in wb["概览"].iter_rows(values_only=True)}
    wb.close()
    assert "只写了前 1 位客服" in str(notes["注意：客服分表"])
    assert "只写了前 1 个商品" in str(notes["注意：商品分表"])


def test_sheet_names_are_valid_for_excel(tmp_path: Path) -> None:
    assert safe_sheet_name("a[b]c:d*e?f/g\\h") == "a_b_c_d_e_f_g_h"
    assert safe_sheet_name("x" * 40) == "x" * 31
    assert safe_sheet_name("'abc'") == "abc" and safe_sheet_name("") == "sheet"
    assert safe_sheet_name("history") == "history_"
    with XlsxWriter(tmp_path / "w.xlsx") as wb:
        for n in ["客服-Amy", "客服-amy", "客服-AMY", "y" * 40, "y" * 31]:
            wb.close_sheet(wb.sheet(n, 1))
        names = wb.names
    assert names == ["客服-Amy", "客服-amy (2)", "客服-AMY (3)", "y" * 31, "y" * 27 + " (2)"]
    _valid_names(names)
    book = openpyxl.load_workbook(tmp_path / "w.xlsx", read_only=True)
    assert book.sheetnames == names
    book.close()


def test_marks_read_in_chinese_in_the_actions_export(masked_review: ReviewResult) -> None:
    rows = _csv_rows(_file(masked_review, "actions.csv"))
    marks = [r for r in rows if r["kind"] in ("标记解决", "标记满意度")]
    assert marks and {r["note"] for r in marks} <= {"已解决", "未解决", "满意", "不满意"}
    js = _jsonl(_file(masked_review, "actions.jsonl"))
    assert {r["note"] for r in js if r["kind"] == "resolve"} == {"resolved", "unresolved"}  # codes kept


def test_ticket_changes_read_in_chinese_in_the_actions_export() -> None:
    from livecs.review.labels import label

    assert label("actions", "note", "take") == "接手"
    assert label("actions", "note", "reassign → bob") == "转派 → bob"
    assert label("actions", "note", "close: unresolved") == "关闭：未解决"
    assert label("actions", "note", "resolved") == "已解决"
    assert label("actions", "note", "客户说明天再来") == "客户说明天再来"  # free text as it is
    assert label("actions", "note", None) is None
