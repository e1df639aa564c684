"""``python run.py trend --room R --days N``: a room's broadcasts over time, per day or per week.

Each broadcast of the room that started in the N days up to ``--until`` (default: today, Asia/Shanghai) gets
its headline figures (:func:`livecs.review.compare.headline`, the same queries as its report); a period sums
the counts (broadcasts, comments, orders, GMV, follows, coupons, complaints) and averages the rates over
its broadcasts (互动率, 转化率, 超时或未处理占比, 首次响应中位数, 问题解决率). The table goes to the terminal;
with ``--out DIR`` also ``trend.csv`` (Chinese headers, UTF-8 with BOM) and ``trend.html`` (the table and a
chart of comments and GMV per period; inline SVG, no script).
"""

from __future__ import annotations

import argparse
import csv
import html
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from livecs.review import charts, figures
from livecs.review.commands import add_record_options, record_path
from livecs.review.compare import headline
from livecs.review.queries import ReviewError, ReviewReader, open_db, resolve_session
from livecs.review.settings import ReviewSettings

SUMS = ("comments", "orders", "gmv", "follows", "coupons", "complaints")
MEANS = ("interaction_rate", "conversion_rate", "breached_share", "median_response_s", "resolution_rate")
COLUMNS = [
    ("period", "时段"),
    ("broadcasts", "场次"),
    ("comments", "评论数"),
    ("orders", "已付款订单"),
    ("gmv", "成交额"),
    ("follows", "新增关注"),
    ("coupons", "发券"),
    ("complaints", "投诉"),
    ("interaction_rate", "互动率（均值）"),
    ("conversion_rate", "转化率（均值）"),
    ("breached_share", "超时或未处理占比（均值）"),
    ("median_response_s", "首次响应中位数秒（均值）"),
    ("resolution_rate", "问题解决率（均值）"),
]
PCT_KEYS = {"interaction_rate", "conversion_rate", "breached_share", "resolution_rate"}
EXIT_ERROR = 2
DAYS_PER_WEEK = 7


@dataclass
class Period:
    label: str
    sessions: list[str] = field(default_factory=list)
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SUMS, 0.0))
    means: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in MEANS})

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = {"period": self.label, "broadcasts": len(self.sessions)}
        out.update(self.sums)
        for k, vals in self.means.items():
            out[k] = sum(vals) / len(vals) if vals else None
        return out


def period_of(day: date, by: str) -> str:
    if by == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return day.isoformat()


def trend(
    db: str | Path,
    room: str,
    days: int,
    *,
    until: date | None = None,
    by: str = "day",
    settings: ReviewSettings | None = None,
) -> list[Period]:
    settings = settings or ReviewSettings.model_validate({})
    tz = ZoneInfo(settings.timezone)
    until = until or datetime.now(tz).date()
    start = datetime.combine(until - timedelta(days=days - 1), datetime.min.time(), tz).timestamp()
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), tz).timestamp()
    conn = open_db(db, settings)
    periods: dict[str, Period] = {}
    try:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT session_id FROM sessions WHERE room=? AND started_at>=? AND started_at<? "
                "ORDER BY started_at",
                (room, start, end),
            )
        ]
        for sid in ids:
            meta = resolve_session(conn, sid)
            r = ReviewReader(conn, meta, settings)
            r.prepare()
            h = headline(r, figures.business(conn, sid, r.on_air_periods()))
            label = period_of(datetime.fromtimestamp(meta.started_at, tz).date(), by)
            p = periods.setdefault(label, Period(label))
            p.sessions.append(sid)
            for k in SUMS:
                p.sums[k] += float(h.get(k) or 0)
            for k in MEANS:
                v = h.get(k)
                if v is not None:
                    p.means[k].append(float(v))
    finally:
        conn.close()
    return [periods[k] for k in sorted(periods)]


def fmt(key: str, v: Any) -> str:
    if v is None:
        return "–"
    if key in PCT_KEYS:
        return f"{100 * v:.1f}%"
    if key == "gmv":
        return f"¥{v:,.2f}"
    if key == "median_response_s":
        return f"{v:.0f}"
    if isinstance(v, float):
        return f"{v:,.0f}"
    return str(v)


def _chart(periods: list[Period]) -> str:
    return charts.trend_chart(
        [p.label for p in periods], [p.sums["comments"] for p in periods], [p.sums["gmv"] for p in periods]
    )


def write_outputs(periods: list[Period], out: Path, room: str, by: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows = [p.row() for p in periods]
    csv_path = out / "trend.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([zh for _, zh in COLUMNS])
        for r in rows:
            w.writerow(["" if r.get(k) is None else r.get(k) for k, _ in COLUMNS])
    head = "".join(f"<th>{html.escape(zh)}</th>" for _, zh in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(k, r.get(k)))}</td>" for k, _ in COLUMNS) + "</tr>"
        for r in rows
    )
    unit = "周" if by == "week" else "日"
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>直播趋势 · {html.escape(room)}</title>"
        "<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "svg{max-width:1000px;width:100%}</style>"
        f"</head><body><h1>直播趋势（按{unit}）· 直播间 {html.escape(room)}</h1>"
        f"<figure>{_chart(periods) if periods else ''}</figure>"
        f'<table id="trend-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>'
    )
    html_path = out / "trend.html"
    html_path.write_text(page, encoding="utf-8")
    return [csv_path, html_path]


def register(sub: Any) -> None:
    p = sub.add_parser("trend", help="a room's broadcasts over time: daily or weekly headline figures")
    p.add_argument("--room", required=True)
    p.add_argument("--days", type=int, default=30, help="days up to --until (default 30)")
    p.add_argument("--until", type=date.fromisoformat, help="last day YYYY-MM-DD (default: today)")
    p.add_argument("--by", choices=("day", "week"), default="day")
    p.add_argument("--out", metavar="DIR", help="also write trend.csv and trend.html here")
    add_record_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    db = record_path(args)
    if args.days < 1:
        print("trend: --days must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    try:
        periods = trend(db, args.room, args.days, until=args.until, by=args.by)
    except ReviewError as exc:
        print(f"trend: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print("\t".join(zh for _, zh in COLUMNS))
    for p in periods:
        r = p.row()
        print("\t".join(fmt(k, r.get(k)) for k, _ in COLUMNS))
    if not periods:
        print(f"(no broadcast of room {args.room!r} in those {args.days} days)")
    if args.out:
        for path in write_outputs(periods, Path(args.out), args.room, args.by):
            print(f"  {path}")
    return 0
