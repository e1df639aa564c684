"""Coupons issued against the merchant library's stock: report, findings, exports, CLI, unknown stock."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import openpyxl
import orjson
import pytest

from livecs.cli import main as cli_main
from livecs.review import ReviewResult, build_review
from livecs.review.stock import load_library_coupons
from livecs.scripts.versions import LibraryRegistry
from livecs.store import connect, insert_sql

from .test_review import CODE_OF, _card, _csv_rows, _file

ROOT = Path(__file__).resolve().parents[2]
APPAREL = [ROOT / "scripts_library/apparel" / f for f in ("library.yaml", "catalogue.yaml", "coupons.yaml")]
SID = "s-coupons"
START = 1_716_033_600.0  # 2024-05-18 20:00 Asia/Shanghai
#: rule id -> coupons issued in the session. The apparel library has full_300_50 (stock 500) and comp_20
#: (stock 100); "legacy_5" is not in the library. Its other enabled rules: crowd_199_20 300, flash_9off 200,
#: fans_199_20 1000, new_10 1000, gift_scarf 150 → library stock 3,250.
ISSUED = {"full_300_50": 12, "comp_20": 100, "legacy_5": 1}
LIBRARY_STOCK = 3_250


def _session(db: Path) -> None:
    conn = connect(db)
    with conn:
        conn.execute(
            "INSERT INTO sessions (session_id, room, source, started_at) VALUES (?, 'shop', 'test', ?)",
            (SID, START),
        )
        i = 0
        for rule, n in ISSUED.items():
            for _ in range(n):
                i += 1
                conn.execute(
                    insert_sql("actions", conflict=None),
                    (
                        SID,
                        f"a{i}",
                        "shop",
                        "op-a",
                        "issue_coupon",
                        f"u{i}",
                        START + i,
                        "",
                        "",
                        rule,
                        f"u{i}",
                        "sent",
                    ),
                )
        conn.execute(  # not a coupon: must not count
            insert_sql("actions", conflict=None),
            (SID, "m1", "shop", "op-a", "mute", "u1", START + 500, "", "", "", "u1", "sent"),
        )
    conn.close()


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("coupon-record") / "livecs.db"
    _session(db)
    return db


@pytest.fixture(scope="module")
def library_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("coupon-library") / "library_versions.db"
    registry = LibraryRegistry(path)
    up = registry.upload_paths([str(p) for p in APPAREL])
    assert up.version_id is not None, up.issues
    registry.activate(up.version_id)
    return path


@pytest.fixture(scope="module")
def with_stock(record: Path, library_db: Path, tmp_path_factory: pytest.TempPathFactory) -> ReviewResult:
    before = hashlib.sha256(library_db.read_bytes()).hexdigest()
    res = build_review(record, SID, tmp_path_factory.mktemp("with-stock"), library_db=library_db)
    assert hashlib.sha256(library_db.read_bytes()).hexdigest() == before  # read, never written
    return res


def _html(res: ReviewResult) -> str:
    return _file(res, "report.html").read_text(encoding="utf-8")


def _stock_row(html: str, label: str) -> list[str]:
    """The cells of the coupon table row whose first cell starts with ``label``."""
    table = html.split('id="coupon-totals"', 1)[1].split("</table>", 1)[0]
    for tr in re.findall(r"<tr>(.*?)</tr>", table):
        cells = [re.sub(r"<[^>]+>", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
        if cells and cells[0].startswith(label):
            return cells
    raise AssertionError(label)


def test_report_shows_issued_against_stock(with_stock: ReviewResult) -> None:
    html = _html(with_stock)
    assert _card(html, "summary-coupons") == "113"
    assert _card(html, "summary-coupon-stock") == "3%"  # 112 / 3,250
    total = re.search(r"id='coupon-stock-total'><b>([^<]*)</b>", html)
    assert total and total.group(1) == (
        f"已发券 113 张，占库存 3%（112 / {LIBRARY_STOCK:,}）；其中 1 张的券规则不在话术库中，库存未知"
    )
    assert "话术库版本 1" in html and "复盘时生效的版本" in html
    full = _stock_row(html, "满300减50券")
    assert full[1:] == ["满减", "12", "500", "12 / 500 (2%)", "1", "几乎未用"]
    comp = _stock_row(html, "20元售后补偿券")
    assert comp[1:] == ["补偿券", "100", "100", "100 / 100 (100%)", "1", "已发完"]
    legacy = _stock_row(html, "legacy_5")
    assert legacy[2:5] == ["1", "库存未知", "库存未知"]
    gift = _stock_row(html, "满199送针织围巾")  # enabled, never issued: listed with 0
    assert gift[2:5] == ["0", "150", "0 / 150 (0%)"]


def test_findings_name_sold_out_and_barely_used_rules(with_stock: ReviewResult) -> None:
    texts = {f.text: f for f in with_stock.findings}
    sold = [t for t in texts if t.startswith("券「20元售后补偿券」已发完")]
    assert sold == ["券「20元售后补偿券」已发完：100 / 100 (100%)"]
    assert texts[sold[0]].level == "warn"
    low = [t for t in texts if t.startswith("券几乎未用")]
    assert len(low) == 1 and "满300减50券 12 / 500 (2%)" in low[0]
    assert "等 6 个券规则" in low[0]  # full_300_50 + the five enabled rules issued 0 times
    assert "已发完" in _html(with_stock) and "券几乎未用" in _html(with_stock)


def test_exports_carry_the_stock_columns(with_stock: ReviewResult) -> None:
    rows = {r["coupon_rule_id"]: r for r in _csv_rows(_file(with_stock, "coupons.csv"))}
    assert with_stock.rows["coupons"] == len(rows) == 8  # 3 issued + 5 enabled rules never issued
    assert rows["full_300_50"]["issued"] == "12" and rows["full_300_50"]["stock"] == "500"
    assert rows["full_300_50"]["stock_used"] == "12 / 500 (2%)"
    assert rows["full_300_50"]["remaining"] == "488" and rows["full_300_50"]["status"] == "几乎未用"
    assert rows["comp_20"]["stock_used_share"] == "1.0" and rows["comp_20"]["status"] == "已发完"
    assert rows["legacy_5"]["stock"] == "" and rows["legacy_5"]["status"] == "库存未知"
    js = {
        r["coupon_rule_id"]: r
        for r in map(orjson.loads, _file(with_stock, "coupons.jsonl").read_bytes().splitlines())
    }
    assert js["full_300_50"]["stock_used_share"] == 0.024 and js["full_300_50"]["stock"] == 500
    assert js["full_300_50"]["library_version"] == 1 and js["legacy_5"]["stock"] is None
    wb = openpyxl.load_workbook(_file(with_stock, "review.xlsx"), read_only=True)
    sheet = list(wb["发券与库存"].iter_rows(values_only=True))
    header = [CODE_OF[h] for h in sheet[0]]
    assert {"issued", "stock", "stock_used", "stock_used_share", "remaining", "status"} <= set(header)
    xrow = next(dict(zip(header, r, strict=True)) for r in sheet[1:] if r[0] == "comp_20")
    assert xrow["issued"] == 100 and xrow["stock"] == 100 and xrow["status"] == "已发完"
    summary = dict(r for r in wb["概览"].iter_rows(values_only=True) if r[0])
    assert str(summary["发券占库存"]).startswith("已发券 113 张，占库存 3%")
    wb.close()


def test_without_library_stock_is_unknown(record: Path, tmp_path: Path) -> None:
    res = build_review(record, SID, tmp_path / "none", "html,csv")
    html = _html(res)
    assert _card(html, "summary-coupon-stock") == "库存未知"
    assert "已发券 113 张，库存未知" in html
    assert _stock_row(html, "full_300_50")[2:5] == ["12", "库存未知", "库存未知"]
    assert not any("券" in f.text and "已发完" in f.text for f in res.findings)
    rows = _csv_rows(_file(res, "coupons.csv"))
    assert len(rows) == 3 and {r["status"] for r in rows} == {"库存未知"}
    # a missing file, a file that is no registry, a registry with no active version: the same, no failure
    empty = tmp_path / "empty.db"
    LibraryRegistry(empty)  # tables, no version
    for path in (tmp_path / "missing.db", Path(__file__), empty):
        r = build_review(record, SID, tmp_path / f"o-{path.stem}", "html", library_db=path)
        assert _card(_html(r), "summary-coupon-stock") == "库存未知"
    assert not (tmp_path / "missing.db").exists()  # read-only open never creates the file
    assert "没有生效的话术库版本" in load_library_coupons(empty).reason


def test_other_shop_has_no_active_version(library_db: Path) -> None:
    assert load_library_coupons(library_db, shop="other").version_id is None
    assert load_library_coupons(library_db).version_id == 1


def test_cli_library_db(
    record: Path, library_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    args = ["review", SID, "--db", str(record), "--out", str(out), "--format", "html", "--quiet"]
    assert cli_main([*args, "--library-db", str(library_db)]) == 0
    assert "占库存 3%" in capsys.readouterr().out
    assert _card((out / "report.html").read_text(encoding="utf-8"), "summary-coupon-stock") == "3%"
    # default: scripts.library_db of the configuration, only if that file exists
    cfg = tmp_path / "livecs.yaml"
    cfg.write_text(f"scripts:\n  library_db: {tmp_path / 'nope.db'}\n", encoding="utf-8")
    assert cli_main([*args, "--config", str(cfg)]) == 0
    assert "库存未知" in capsys.readouterr().out
    assert not (tmp_path / "nope.db").exists()
    cfg.write_text(f"scripts:\n  library_db: {library_db}\n", encoding="utf-8")
    assert cli_main([*args, "--config", str(cfg)]) == 0
    assert "占库存 3%" in capsys.readouterr().out


def test_stock_of_the_version_active_during_the_broadcast(tmp_path: Path) -> None:
    """A library activated after the broadcast (another shop's catalogue tried the next day) does not stand
    for it: the review sets the coupons against the version active when the broadcast ended."""
    db = tmp_path / "livecs.db"
    _session(db)
    conn = connect(db)
    with conn:
        conn.execute("UPDATE sessions SET ended_at = ? WHERE session_id = ?", (START + 3600, SID))
    conn.close()
    later_coupons = tmp_path / "coupons.yaml"
    later_coupons.write_text(
        APPAREL[2].read_text(encoding="utf-8").replace("stock: 100\n", "stock: 400\n", 1), encoding="utf-8"
    )
    path = tmp_path / "library_versions.db"
    registry = LibraryRegistry(path)
    first = registry.upload_paths([str(p) for p in APPAREL]).version_id
    later = registry.upload_paths([str(APPAREL[0]), str(APPAREL[1]), str(later_coupons)]).version_id
    assert first is not None and later is not None
    registry.activate(first)
    registry.activate(later)
    reg = connect(path)
    with reg:  # the first version went live before the broadcast, the later one the day after
        reg.execute(
            "UPDATE library_activations SET activated_at = ? WHERE version_id = ?", (START - 600, first)
        )
        reg.execute(
            "UPDATE library_activations SET activated_at = ? WHERE version_id = ?", (START + 86_400, later)
        )
    reg.close()
    assert load_library_coupons(path).version_id == later  # now
    assert load_library_coupons(path, at=START + 3600).version_id == first  # during the broadcast
    assert load_library_coupons(path, at=START - 3600).version_id == later  # nothing active yet: now's
    html = _html(build_review(db, SID, tmp_path / "out", "html", library_db=path))
    assert _stock_row(html, "20元售后补偿券")[2:4] == ["100", "100"]  # issued, and the stock then (not 400)
    assert "话术库版本 1" in html and "播出结束时生效的版本" in html
