"""``run.py trend``: a room's broadcasts per day and per week, each figure the sum (or mean) of the
broadcasts' own headline figures."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from livecs.cli import main as cli_main
from livecs.review.compare import headline
from livecs.review.figures import business
from livecs.review.queries import ReviewReader, open_db, resolve_session
from livecs.review.settings import ReviewSettings
from livecs.review.trend import trend
from tests.review.session_db import synthesize

DAY = 86_400.0
START = 1_716_033_600.0  # 2024-05-18 20:00 Asia/Shanghai (Saturday)


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    db = tmp_path_factory.mktemp("trend") / "rec.db"
    ids = []
    # shop: 05-18 twice (afternoon and evening), 05-20; other room on 05-19
    for i, (room, offset) in enumerate((("shop", -4 * 3600), ("shop", 0), ("other", DAY), ("shop", 2 * DAY))):
        comp = synthesize(db, 300 + 100 * i, seed=40 + i, duration_s=1200, start_ts=START + offset, room=room)
        ids.append(comp.session_id)
    return db, ids


def _headline(db: Path, sid: str) -> dict[str, float | None]:
    conn = open_db(db)
    try:
        meta = resolve_session(conn, sid)
        r = ReviewReader(conn, meta, ReviewSettings.model_validate({}))
        r.prepare()
        return headline(r, business(conn, sid, r.on_air_periods()))
    finally:
        conn.close()


def test_daily_and_weekly_sums(record: tuple[Path, list[str]]) -> None:
    db, (a, b, _other, c) = record
    periods = trend(db, "shop", 7, until=date(2024, 5, 20))
    assert [p.label for p in periods] == ["2024-05-18", "2024-05-20"]
    assert periods[0].sessions == [a, b] and periods[1].sessions == [c]
    ha, hb, hc = (_headline(db, s) for s in (a, b, c))
    day1 = periods[0].row()
    for k in ("comments", "orders", "gmv", "follows", "coupons", "complaints"):
        assert day1[k] == pytest.approx(float(ha[k] or 0) + float(hb[k] or 0)), k
    assert day1["interaction_rate"] == pytest.approx((ha["interaction_rate"] + hb["interaction_rate"]) / 2)  # type: ignore[operator]
    assert periods[1].row()["comments"] == hc["comments"]
    weekly = trend(db, "shop", 7, until=date(2024, 5, 20), by="week")
    assert [p.label for p in weekly] == ["2024-W20", "2024-W21"]  # Saturday 18th, Monday 20th
    assert trend(db, "shop", 1, until=date(2024, 5, 19)) == []
    assert [p.label for p in trend(db, "shop", 1, until=date(2024, 5, 20))] == ["2024-05-20"]


def test_cli_writes_csv_and_html(
    record: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = record
    code = cli_main(
        [
            "trend",
            "--room",
            "shop",
            "--days",
            "7",
            "--until",
            "2024-05-20",
            "--db",
            str(db),
            "--out",
            str(tmp_path / "t"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("时段\t场次\t评论数") and "2024-05-18\t2\t" in out
    rows = list(csv.reader(io.StringIO((tmp_path / "t" / "trend.csv").read_bytes().decode("utf-8-sig"))))
    assert rows[0][:3] == ["时段", "场次", "评论数"] and [r[0] for r in rows[1:]] == [
        "2024-05-18",
        "2024-05-20",
    ]
    page = (tmp_path / "t" / "trend.html").read_text(encoding="utf-8")
    assert '<svg id="chart-trend"' in page and "<script" not in page and 'id="trend-table"' in page
    assert cli_main(["trend", "--room", "shop", "--days", "0", "--db", str(db)]) == 2
    assert cli_main(["trend", "--room", "shop", "--db", str(tmp_path / "missing.db")]) == 2
