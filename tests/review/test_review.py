"""The review end to end on a known session: numbers, exports, masking, self-containment, CLI."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest

from livecs.cli import main as cli_main
from livecs.review import ReviewError, ReviewResult, build_review
from livecs.review import exports as exports_mod
from livecs.review.labels import COLUMN_ZH, SHEET_ZH
from livecs.review.queries import ReviewReader, open_db, resolve_session
from livecs.review.settings import ReviewSettings
from livecs.store import insert_sql
from livecs.vocabulary import INTENT_ZH

from .conftest import PII_COMMENTS, PII_NICK, PII_RAW, PII_USER, Session, output_blobs

TABLES = ("comments", "suggestions", "actions", "coupons", "events", "tickets", "products", "operators")


def _products(db: Path) -> set[str]:
    """Products that were on air or sold (the products sheet has one row each)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT json_extract(data, '$.link') FROM events WHERE kind IN ('on_air', 'order_paid') "
            "AND json_extract(data, '$.link') IS NOT NULL"
        ).fetchall()
    finally:
        conn.close()
    return {f"{r[0]}号链接" for r in rows}


def _card(html: str, card_id: str) -> str:
    m = re.search(rf'id="{card_id}"><div class="v">([^<]*)</div>', html)
    assert m, card_id
    return m.group(1)


CODE_OF = {zh: code for code, zh in COLUMN_ZH.items()}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows keyed by the column codes (the file's headers are Chinese: each must be a known one)."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    return [{CODE_OF[k]: v for k, v in r.items()} for r in rows]


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _sheet_rows(ws: Any) -> int:
    return len(list(ws.iter_rows(values_only=True)))


def _file(result: ReviewResult, name: str) -> Path:
    return next(p for p in result.files if p.name == name)


def _truth(db: Path, sid: str) -> dict[str, object]:
    """Expected figures computed naively in Python from the raw rows."""
    conn = sqlite3.connect(db)
    comments = conn.execute(
        "SELECT comment_id, ts, user_id FROM comments WHERE session_id=?", (sid,)
    ).fetchall()
    triage = {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT comment_id, intent, priority, cluster_id,"
            " sla_deadline, sentiment FROM triage WHERE session_id=?",
            (sid,),
        )
    }
    sugg: dict[str, list[str]] = {}
    for s_id, c_id in conn.execute(
        "SELECT suggestion_id, comment_id FROM suggestions WHERE session_id=?", (sid,)
    ):
        sugg.setdefault(c_id, []).append(s_id)
    actions = conn.execute(
        "SELECT kind, target_id, ts, user_id FROM actions WHERE session_id=? AND kind<>'copy'", (sid,)
    ).fetchall()
    by_target: dict[str, list[float]] = {}
    mods: dict[str, list[float]] = {}
    for kind, target, ts, uid in actions:
        by_target.setdefault(target, []).append(ts)
        if kind in ("mute", "ban", "delete"):
            mods.setdefault(uid or target, []).append(ts)
    orders = conn.execute(
        "SELECT COUNT(*) FROM events WHERE session_id=? AND kind='order_paid'", (sid,)
    ).fetchone()[0]
    conn.close()
    per_prio: dict[str, list[float]] = {}
    for cid, ts, uid in comments:
        t = triage.get(cid)
        if not t or t[1] not in ("P0", "P1", "P2", "mod"):
            continue
        cands = list(by_target.get(cid, []))
        for s_id in sugg.get(cid, []):
            cands += by_target.get(s_id, [])
        if t[2]:
            cands += [a for a in by_target.get(t[2], []) if a >= ts]
        if t[1] == "mod":
            cands += [a for a in mods.get(uid, []) if a >= ts]
        per_prio.setdefault(t[1], [])
        if cands:
            per_prio[t[1]].append(min(cands) - ts)
    per_min = Counter(int(ts // 60) for _, ts, _ in comments)
    per_sec = Counter(int(ts) for _, ts, _ in comments)
    return {
        "comments": len(comments),
        "viewers": len({u for _, _, u in comments}),
        "intents": Counter(t[0] for t in triage.values()),
        "buy": sum(1 for t in triage.values() if t[0] == "buy_signal") + orders,
        "responses": per_prio,
        "peak_minute": max(per_min.values()),
        "peak_second": max(per_sec.values()),
    }


def _quantile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


# -- numbers ------------------------------------------------------------------------------------------------
def test_report_numbers_match_the_composition(session_db: Session, masked_review: ReviewResult) -> None:
    comp = session_db.comp
    truth = _truth(session_db.db, comp.session_id)
    html = _file(masked_review, "report.html").read_text(encoding="utf-8")
    n_pii = len(PII_COMMENTS)
    assert truth["comments"] == comp.comments + n_pii
    assert _card(html, "summary-comments") == f"{comp.comments + n_pii:,}"
    assert _card(html, "summary-viewers") == f"{comp.unique_viewers + 1:,}" == f"{truth['viewers']:,}"
    assert _card(html, "summary-buys") == f"{truth['buy']:,}"
    assert _card(html, "summary-orders") == f"{comp.orders_paid:,}"
    assert _card(html, "summary-coupons") == f"{comp.coupons:,}"
    assert _card(html, "summary-peak-minute") == f"{truth['peak_minute']:,}"
    assert _card(html, "summary-peak-second") == f"{truth['peak_second']:,}"
    assert _card(html, "summary-duration") == "59 分 59 秒" or "1 小时" in _card(html, "summary-duration")
    # the intent table shows the composition's counts
    intents = truth["intents"]
    assert isinstance(intents, Counter)
    for intent, n in intents.items():
        assert re.search(rf"<td>{intent}</td><td class=\"n\">{n:,}</td>", html), intent
    assert intents["buy_signal"] == comp.intents["buy_signal"]
    # findings are computed (the synthetic "会起球吗" has no script; logistics/quality themes are frequent)
    texts = [f.text for f in masked_review.findings]
    assert any("没有匹配到话术" in t for t in texts)
    assert any(t.startswith("发货物流占") for t in texts)
    assert 'id="findings"' in html
    for chart in ("chart-volume", "chart-intent", "chart-negative", "chart-response", "chart-clusters"):
        assert f'<svg id="{chart}"' in html


def test_response_times_match_a_naive_computation(session_db: Session) -> None:
    truth = _truth(session_db.db, session_db.comp.session_id)
    responses = truth["responses"]
    assert isinstance(responses, dict)
    conn = open_db(session_db.db)
    meta = resolve_session(conn, "latest")
    reader = ReviewReader(conn, meta, ReviewSettings.model_validate({}))
    reader.prepare()
    stats = {r.priority: r for r in reader.responses(reader.end_ts)}
    conn.close()
    for prio, delays in responses.items():
        st = stats[prio]
        assert st.answered == len(delays), prio
        assert st.items >= st.answered
        assert sum(st.buckets) == st.answered
        if delays:
            assert st.p50_s == pytest.approx(_quantile(delays, 0.5), abs=1e-6)
            assert st.p90_s == pytest.approx(_quantile(delays, 0.9), abs=1e-6)
    comp = session_db.comp
    for prio in ("P0", "P1"):
        assert stats[prio].answered == comp.answered[prio]
    # a mute answers every earlier comment of that viewer in the moderation queue, not just one
    assert stats["mod"].answered >= comp.answered["mod"]
    assert stats["P2"].answered == comp.answered["P2"] + 1  # + the hand-written reply


def test_exports_hold_every_row_with_its_triage(session_db: Session, masked_review: ReviewResult) -> None:
    comp = session_db.comp
    n = comp.comments + len(PII_COMMENTS)
    rows = _csv_rows(_file(masked_review, "comments.csv"))
    assert len(rows) == n
    truth_intents = _truth(session_db.db, comp.session_id)["intents"]
    assert isinstance(truth_intents, Counter)
    # CSV shows Chinese labels (投诉), JSONL keeps the codes (complaint)
    assert Counter(r["intent"] for r in rows) == Counter({INTENT_ZH[k]: n for k, n in truth_intents.items()})
    assert len({r["user"] for r in rows}) == comp.unique_viewers + 1
    answered = [r for r in rows if r["response_s"]]
    assert answered and all(float(r["response_s"]) >= 0 for r in answered)
    js = _jsonl(_file(masked_review, "comments.jsonl"))
    assert len(js) == n
    assert [r["comment_id"] for r in js] == [r["comment_id"] for r in rows]
    assert isinstance(js[0]["extras"], dict)  # JSON columns stay objects in JSONL
    assert Counter(r["intent"] for r in js) == truth_intents
    assert masked_review.rows == {
        "comments": n,
        "suggestions": comp.suggestions + 1,
        "actions": comp.actions + 1,
        "coupons": 1,  # the synthetic session issues one rule; no library, so only that rule is listed
        "events": comp.orders_paid + len(comp.on_air) + comp.follows + len(comp.online),
        "tickets": 0,
        "products": len(_products(session_db.db)),
        "operators": 3,  # op-a, op-b, op-c
    }
    for t in TABLES:
        assert len(_csv_rows(_file(masked_review, f"{t}.csv"))) == masked_review.rows[t]
        assert len(_jsonl(_file(masked_review, f"{t}.jsonl"))) == masked_review.rows[t]
    wb = openpyxl.load_workbook(_file(masked_review, "review.xlsx"), read_only=True)
    tables = wb.sheetnames[: len(TABLES) + 1]  # then a sheet per operator and per product
    assert wb.sheetnames[len(TABLES) + 1 :] == masked_review.detail_sheets
    assert (
        tables
        == [SHEET_ZH[t] for t in ("summary", *TABLES)]
        == ["概览", "评论", "建议回复", "客服操作", "发券与库存", "直播事件", "工单", "商品", "客服表现"]
    )
    for t in TABLES:
        assert _sheet_rows(wb[SHEET_ZH[t]]) == masked_review.rows[t] + 1  # + header
    head = next(wb["评论"].iter_rows(min_row=1, max_row=1, values_only=True))
    assert head[:3] == ("评论ID", "时间", "时间戳") and "意图" in head and "在播商品" in head
    first = next(wb["评论"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[0] == rows[0]["comment_id"]
    wb.close()


# -- masking ------------------------------------------------------------------------------------------------
def test_no_personal_data_survives_in_any_output(session_db: Session, masked_review: ReviewResult) -> None:
    conn = sqlite3.connect(session_db.db)
    user_ids = {r[0] for r in conn.execute("SELECT DISTINCT user_id FROM comments")}
    nicknames = {r[0] for r in conn.execute("SELECT DISTINCT nickname FROM comments") if len(r[0]) > 2}
    order_ids = {orjson.loads(r[0]).get("order_id") for r in conn.execute("SELECT data FROM events")}
    conn.close()
    long_runs = re.compile(rb"\d{15,}")
    blobs = list(output_blobs(masked_review))
    assert len(blobs) > len(TABLES) * 2
    for name, blob in blobs:
        for raw in PII_RAW:
            assert raw.encode() not in blob, (name, raw)
        assert not re.search(rb"uid\d{8}", blob), name  # synthetic raw user ids
        assert not re.search("观众\\d{2,}".encode(), blob), name  # synthetic raw nicknames
        found = {m.decode() for m in long_runs.findall(blob)}
        assert not (found & order_ids), name
    text = b"".join(b for _, b in blobs).decode("utf-8", "replace")
    assert len(user_ids) > 100 and len(nicknames) > 100 and order_ids
    for token in ("[手机]", "[身份证]", "[地址]", "[订单]", "[邮箱]", "[QQ]", "[微信]"):
        assert token in text, token


def test_pseudonyms_are_consistent_within_a_report_and_differ_between_reports(
    session_db: Session, masked_review: ReviewResult, tmp_path: Path
) -> None:
    comments = _csv_rows(_file(masked_review, "comments.csv"))
    pii_users = {r["user"] for r in comments if r["comment_id"].startswith("pii")}
    assert len(pii_users) == 1
    pseudo = pii_users.pop()
    assert pseudo.startswith("u_") and PII_USER not in pseudo
    actions = _csv_rows(_file(masked_review, "actions.csv"))
    events = _csv_rows(_file(masked_review, "events.csv"))
    assert pseudo in {r["user"] for r in actions}
    assert pseudo in {r["user"] for r in events}
    xl = openpyxl.load_workbook(_file(masked_review, "review.xlsx"), read_only=True)
    assert pseudo in {r[3] for r in xl["评论"].iter_rows(min_row=2, values_only=True)}
    xl.close()
    # same viewer, same pseudonym across the comments export
    by_raw: dict[str, set[str]] = {}
    conn = sqlite3.connect(session_db.db)
    raw_of = dict(conn.execute("SELECT comment_id, user_id FROM comments"))
    conn.close()
    for r in comments:
        by_raw.setdefault(raw_of[r["comment_id"]], set()).add(r["user"])
    assert all(len(v) == 1 for v in by_raw.values())
    assert len({next(iter(v)) for v in by_raw.values()}) == len(by_raw)
    # another report, another key: no linkage
    other = build_review(session_db.db, "latest", tmp_path, "csv")
    other_users = {
        r["user"] for r in _csv_rows(_file(other, "comments.csv")) if r["comment_id"].startswith("pii")
    }
    assert other_users and other_users != {pseudo}
    # nickname kept partially
    nick = next(r["nickname"] for r in comments if r["comment_id"].startswith("pii"))
    assert nick[0] == PII_NICK[0] and nick[-1] == PII_NICK[-1] and "*" in nick


def test_no_mask_keeps_data_and_says_so(unmasked_review: ReviewResult, masked_review: ReviewResult) -> None:
    html = _file(unmasked_review, "report.html").read_text(encoding="utf-8")
    assert 'id="no-mask-banner"' in html and "未脱敏" in html
    assert "no-mask-banner" not in _file(masked_review, "report.html").read_text(encoding="utf-8")
    text = _file(unmasked_review, "comments.csv").read_text(encoding="utf-8-sig")
    assert "13812345678" in text and PII_USER in text
    assert not unmasked_review.masked


# -- self-contained HTML ----------------------------------------------------------------------
def test_report_has_no_external_reference(masked_review: ReviewResult) -> None:
    html = _file(masked_review, "report.html").read_text(encoding="utf-8")
    low = html.lower()
    assert "http://" not in low and "https://" not in low
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*//""", low)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(?!#)[a-z]+:""", low)  # only in-page #refs
    assert "<script" not in low
    assert "@import" not in low
    assert not re.search(r"url\(\s*['\"]?(?!#)", low)  # only url(#clip) fragments of the inline SVG
    assert "<link" not in low and "<iframe" not in low
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html


def test_hostile_text_is_escaped(tmp_path: Path) -> None:
    from tests.review.session_db import synthesize

    db = tmp_path / "x.db"
    comp = synthesize(db, 200, seed=3, duration_s=600)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            insert_sql("comments", conflict=None),
            (
                comp.session_id,
                "evil",
                "x",
                comp.room,
                "u-evil",
                "<img src=x onerror=alert(1)>",
                0,
                0,
                "<script>alert(1)</script>骗子",
                comp.first_ts + 5,
                0,
                None,
                comp.first_ts + 5,
            ),
        )
        conn.execute(
            insert_sql("triage", conflict=None),
            (
                comp.session_id,
                "evil",
                comp.room,
                "<script>alert(1)</script>骗子",
                "complaint",
                0.9,
                "neg",
                0.1,
                "angry",
                0,
                "",
                "",
                1,
                "P0",
                comp.first_ts + 35,
                "[]",
            ),
        )
    conn.close()
    res = build_review(db, "latest", tmp_path / "out", "html", mask=False)
    html = _file(res, "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;骗子" in html


# -- scale features -----------------------------------------------------------------------------------------
def test_xlsx_splits_a_long_table_and_notes_the_cut(
    session_db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports_mod, "XLSX_MAX_SHEET_ROWS", 1_000)  # header + 999 rows a sheet
    settings = ReviewSettings.model_validate({"xlsx_max_sheets_per_table": 2})
    res = build_review(session_db.db, "latest", tmp_path, "xlsx", settings=settings)
    wb = openpyxl.load_workbook(_file(res, "review.xlsx"), read_only=True)
    assert wb.sheetnames[:4] == ["概览", "评论", "评论 (2)", "建议回复"]
    assert _sheet_rows(wb["评论"]) == 1_000 and _sheet_rows(wb["评论 (2)"]) == 1_000
    n = res.rows["comments"]
    assert res.xlsx_truncated["comments"] == n - 2 * 999
    notes = [r for r in wb["概览"].iter_rows(values_only=True) if r[0] and "超过 Excel 上限" in str(r[0])]
    assert notes
    wb.close()


def test_progress_reports_every_stage(session_db: Session, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    build_review(
        session_db.db, "latest", tmp_path, "html,csv", progress=lambda s, d, t: seen.append((s, d, t))
    )
    stages = {s for s, _, _ in seen}
    assert {"汇总（SQL）", "图表与报告", "导出 comments", "导出 events"} <= stages
    last = [x for x in seen if x[0] == "导出 comments"][-1]
    assert last[1] == last[2] > 0


def test_formula_like_cells_are_defused(tmp_path: Path) -> None:
    from tests.review.session_db import synthesize

    db = tmp_path / "f.db"
    comp = synthesize(db, 50, seed=5, duration_s=100)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            insert_sql("comments", conflict=None),
            (
                comp.session_id,
                "f1",
                "x",
                comp.room,
                "u1",
                "=cmd",
                0,
                0,
                '=HYPERLINK("x","y")',
                comp.first_ts,
                0,
                None,
                comp.first_ts,
            ),
        )
    conn.close()
    res = build_review(db, "latest", tmp_path / "o", "csv,xlsx", mask=False)
    row = next(r for r in _csv_rows(_file(res, "comments.csv")) if r["comment_id"] == "f1")
    assert row["text"].startswith("'=") and row["nickname"].startswith("'=")
    with zipfile.ZipFile(_file(res, "review.xlsx")) as z:
        xml = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml


# -- CLI and errors -----------------------------------------------------------------------------------------
def test_cli_review(session_db: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = cli_main(
        ["review", "latest", "--db", str(session_db.db), "--out", str(out), "--format", "html,jsonl"]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["report.html", *(f"{t}.jsonl" for t in TABLES)])
    captured = capsys.readouterr()
    assert "reviewed" in captured.out and "汇总" in captured.err  # the progress bar is on stderr
    code = cli_main(
        [
            "review",
            "latest",
            "--db",
            str(session_db.db),
            "--out",
            str(out),
            "--no-mask",
            "--quiet",
            "--format",
            "html",
        ]
    )
    assert code == 0
    assert "personal data" in capsys.readouterr().err
    assert "未脱敏" in (out / "report.html").read_text(encoding="utf-8")


def test_errors_are_clear(session_db: Session, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ReviewError, match="no such database"):
        build_review(tmp_path / "missing.db", "latest", tmp_path)
    with pytest.raises(ReviewError, match="no session"):
        build_review(session_db.db, "nope", tmp_path)
    with pytest.raises(ReviewError, match="unknown format"):
        build_review(session_db.db, "latest", tmp_path, "pdf")
    assert cli_main(["review", "nope", "--db", str(session_db.db), "--out", str(tmp_path), "--quiet"]) == 2
    assert "no session" in capsys.readouterr().err


def test_empty_session_renders(tmp_path: Path) -> None:
    from livecs.store import connect

    db = tmp_path / "e.db"
    conn = connect(db)
    with conn:
        conn.execute(
            "INSERT INTO sessions (session_id, room, source, started_at) VALUES ('s0','r','x',1.7e9)"
        )
    conn.close()
    res = build_review(db, "s0", tmp_path / "o")
    html = _file(res, "report.html").read_text(encoding="utf-8")
    assert _card(html, "summary-comments") == "0"
    assert res.rows["comments"] == 0


def test_pii_nickname_not_in_report_tables(masked_review: ReviewResult) -> None:
    html = _file(masked_review, "report.html").read_text(encoding="utf-8")
    assert PII_NICK not in html and "王" in html  # the masked nickname (王*…7) is shown


def test_quality_table_lists_edits_forced_sends_and_term_hits(tmp_path: Path) -> None:
    """Issue 12: the review's 质检 table — an edited suggestion (before → after), a forced send and a reply
    that went out carrying an error-level term."""
    from livecs.scripts.terms import FORCED_SEND_NOTE
    from tests.review.session_db import synthesize

    db = tmp_path / "q.db"
    comp = synthesize(db, 200, seed=5, duration_s=600)
    t0 = comp.first_ts + 30
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            insert_sql("suggestions", conflict=None),
            (comp.session_id, "q-s1", comp.room, "q-c1", "", "P1", "price_this", "亲，1号到手129元", "", 0.9,
             "[]", "", t0),
        )  # fmt: skip
        actions = [
            ("q-a1", "edit", "q-c1", t0 + 1, "亲，1号今天到手129元，领券再减", "", ""),
            ("q-a2.1", "send", "q-c1", t0 + 2, "亲，1号今天到手129元，领券再减", "attempt 1/3", "sent"),
            (
                "q-a3.1",
                "send",
                "q-c2",
                t0 + 3,
                "全网最低价，冲",
                FORCED_SEND_NOTE + "全网最低价; attempt 1/3",
                "failed",
            ),
            (
                "q-a3.2",
                "send",
                "q-c2",
                t0 + 4,
                "全网最低价，冲",
                FORCED_SEND_NOTE + "全网最低价; attempt 2/3",
                "sent",
            ),
            ("q-a4.1", "send", "q-c3", t0 + 5, "国家级工艺，放心拍", "attempt 1/3", "sent"),
        ]
        for aid, kind, target, ts, text, note, status in actions:
            conn.execute(
                insert_sql("actions", conflict=None),
                (comp.session_id, aid, comp.room, "alice", kind, target, ts, text, note, "", "", status),
            )
    conn.close()
    res = build_review(db, "latest", tmp_path / "out", "html", mask=False)
    html = _file(res, "report.html").read_text(encoding="utf-8")
    assert "<h2>质检</h2>" in html
    section = html.split('<table id="quality">', 1)[1].split("</table>", 1)[0]
    assert "亲，1号到手129元" in section and "领券再减" in section  # before → after
    assert section.count("强制发送") == 1  # one forced send, not one per delivery attempt
    assert "全网最低价" in section and "国家级" in section
    totals = html.split("id='quality-totals'>", 1)[1].split("</p>", 1)[0]
    assert "强制发送 1 次" in totals and "其他含违禁用语的回复 1 条" in totals


def test_quality_table_checks_the_configured_terms(tmp_path: Path) -> None:
    """The 质检 table reads the ad-law terms file the scripts settings name, not always the shipped one."""
    from livecs.scripts.settings import ScriptsSettings
    from tests.review.session_db import synthesize

    db = tmp_path / "t.db"
    comp = synthesize(db, 100, seed=3, duration_s=300)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            insert_sql("actions", conflict=None),
            (comp.session_id, "t-a1.1", comp.room, "alice", "send", "t-c1", comp.first_ts + 5,
             "闭眼入，包您满意", "attempt 1/3", "", "", "sent"),
        )  # fmt: skip
    conn.close()
    terms = tmp_path / "terms.yaml"
    terms.write_text(
        'version: "t"\ncategories:\n  - {name: 店规, severity: error, terms: [闭眼入]}\n', "utf-8"
    )
    scripts = ScriptsSettings.model_validate({"lint": {"ad_law_terms_file": str(terms)}})

    def quality_section(**kwargs: Any) -> str:
        res = build_review(db, "latest", tmp_path / f"out{len(kwargs)}", "html", mask=False, **kwargs)
        html = _file(res, "report.html").read_text(encoding="utf-8")
        return html.split("id='quality-totals'>", 1)[1].split("</p>", 1)[0]

    assert "其他含违禁用语的回复 1 条" in quality_section(scripts=scripts)
    assert "其他含违禁用语的回复 1 条" not in quality_section()  # the shipped list has no 闭眼入
