"""One call from a recorded session to a review folder: :func:`build_review`.

Used by ``python run.py review`` and by the console's download button. It opens the record read-side
(TEMP tables only, nothing written to the live database), aggregates in SQL, renders the charts and
``report.html``, and streams the exports. ``mask=False`` leaves personal data in every output and says so
in the report; the caller decides who may ask for that (CLI flag, console admin token).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from livecs.review import charts, figures
from livecs.review.compare import AUTO, headline, prepare_comparison
from livecs.review.exports import Exporter
from livecs.review.findings import Finding, compute_findings
from livecs.review.html_report import Charts, HtmlReport, fmt_duration
from livecs.review.mask import Masker
from livecs.review.queries import ReviewData, ReviewError, ReviewReader, open_db, resolve_session
from livecs.review.settings import SECONDS_PER_MINUTE, ReviewSettings
from livecs.review.stock import CouponStock, coupon_stock, load_library_coupons

if TYPE_CHECKING:
    from livecs.scripts.settings import ScriptsSettings

FORMATS = ("html", "csv", "xlsx", "jsonl")
REPORT_NAME = "report.html"
Progress = Callable[[str, int, int], None]


@dataclass
class ReviewResult:
    """What a review wrote."""

    session_id: str
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    xlsx_truncated: dict[str, int] = field(default_factory=dict)
    detail_sheets: list[str] = field(default_factory=list)  # the XLSX's 客服-… and 商品-… sheets
    findings: list[Finding] = field(default_factory=list)
    masked: bool = True
    seconds: float = 0.0
    coupon_stock: CouponStock | None = None

    @property
    def report(self) -> Path | None:
        return next((p for p in self.files if p.name == REPORT_NAME), None)


def parse_formats(value: str | Sequence[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    fmts = [f.strip().lower() for f in items if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise ReviewError(f"unknown format(s): {', '.join(bad)} (choose from {', '.join(FORMATS)})")
    return list(dict.fromkeys(fmts)) or list(FORMATS)


def _bucket_labels(bounds: Sequence[float]) -> list[str]:
    def fmt(s: float) -> str:
        return f"{s:g}秒" if s < SECONDS_PER_MINUTE else f"{s / SECONDS_PER_MINUTE:g}分"

    labels = [f"<{fmt(bounds[0])}"]
    labels += [f"{fmt(a)}–{fmt(b)}" for a, b in itertools.pairwise(bounds)]
    labels.append(f"≥{fmt(bounds[-1])}")
    return labels


def render_charts(data: ReviewData, masker: Masker, settings: ReviewSettings, tz: ZoneInfo) -> Charts:
    mb = settings.max_chart_bins
    online = data.business.online_minute if data.business is not None else {}
    return Charts(
        volume=charts.volume_chart(
            data.per_minute,
            data.buy_minute,
            {m: masker.text(p) for m, p in data.product_minute.items()},
            tz,
            mb,
        ),
        intent=charts.intent_chart(data.intent_minute, tz, mb),
        negative=charts.negative_chart(data.negative_minute, tz, mb),
        response=charts.response_chart(
            [(r.priority, r.buckets) for r in data.responses], _bucket_labels(settings.response_buckets_s)
        ),
        clusters=charts.clusters_chart(
            [masker.text(c.label) for c in data.clusters],
            [c.count for c in data.clusters],
            [c.intent for c in data.clusters],
        ),
        online=charts.online_chart(online, tz, mb) if online else "",
    )


def summary_rows(data: ReviewData, masked: bool) -> list[tuple[str, object]]:
    sm = data.summary
    cs = data.coupon_stock
    span = (sm.last_ts - sm.first_ts) if sm.first_ts is not None and sm.last_ts is not None else 0.0
    return [
        ("场次", data.meta.session_id),
        ("直播间", data.meta.room),
        ("时长", fmt_duration(span)),
        ("评论数", sm.comments),
        ("独立观众", sm.unique_viewers),
        ("峰值（条/分钟）", sm.peak_per_minute),
        ("峰值（条/秒）", sm.peak_per_second),
        ("下单信号（评论）", sm.buy_signal_comments),
        ("已付款订单", sm.orders_paid),
        ("发券", sm.coupons_issued),
        ("发券占库存", cs.total_text() if cs else "库存未知"),
        ("券库存来源", cs.library.describe() if cs else "库存未知"),
        ("投诉", sm.complaints),
        ("个人信息", "已脱敏" if masked else "未脱敏（--no-mask）"),
    ]


def build_review(
    db_path: str | Path,
    session_id: str,
    out_dir: str | Path,
    formats: str | Sequence[str] = FORMATS,
    mask: bool = True,
    progress: Progress | None = None,
    settings: ReviewSettings | None = None,
    masker: Masker | None = None,
    library_db: str | Path | None = None,
    library_shop: str = "default",
    compare: str | None = AUTO,
    scripts: ScriptsSettings | None = None,
) -> ReviewResult:
    """Review ``session_id`` (or ``"latest"``) of the record at ``db_path`` into ``out_dir``.

    ``progress(stage, done, total)`` is called as work advances. ``library_db`` is the merchant library
    registry (``scripts.library_db``): the coupons issued are set against the stock of ``library_shop``'s
    version active now, read-only; without it (or without an active version) the report says 库存未知.
    ``compare``: ``"auto"`` (default) sets the headline figures against the same room's previous broadcast,
    a session id against that one, ``None`` not at all. ``scripts``: the configured scripts settings, whose
    ad-law terms file the 质检 table checks sent replies against (None: the shipped terms).
    Raises :class:`ReviewError` when the database or session is missing or a format is unknown.
    """
    started = time.perf_counter()
    settings = settings or ReviewSettings.model_validate({})
    fmts = parse_formats(formats)
    tz = ZoneInfo(settings.timezone)
    masker = masker or Masker(enabled=mask)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = open_db(db_path, settings)
    try:
        meta = resolve_session(conn, session_id)
        finish_comparison = prepare_comparison(conn, meta, compare, settings)  # before our TEMP tables
        reader = ReviewReader(conn, meta, settings, scripts)
        steps = 4
        if progress:
            progress("汇总（SQL）", 0, steps)
        reader.prepare()
        if progress:
            progress("汇总（SQL）", 1, steps)
        data = reader.collect()
        data.business = figures.business(conn, meta.session_id, data.on_air)
        data.operators = figures.operators(conn, meta.session_id)
        if finish_comparison is not None:
            data.comparison = finish_comparison(headline(reader, data.business))
        data.coupon_stock = coupon_stock(
            data.coupon_totals,
            load_library_coupons(library_db, library_shop, at=meta.ended_at or data.summary.last_ts),
            settings.coupon_low_use_share,
        )
        if progress:
            progress("汇总（SQL）", steps, steps)
        findings = compute_findings(data, settings, tz, masker)
        result = ReviewResult(
            meta.session_id, out, findings=findings, masked=masker.enabled, coupon_stock=data.coupon_stock
        )
        if "html" in fmts:
            if progress:
                progress("图表与报告", 0, 1)
            page = HtmlReport(
                data, findings, render_charts(data, masker, settings, tz), masker, settings, tz, time.time()
            ).render()
            path = out / REPORT_NAME
            path.write_text(page, encoding="utf-8")
            result.files.append(path)
            if progress:
                progress("图表与报告", 1, 1)
        exporter = Exporter(
            reader, masker, settings, tz, reader.end_ts, data.coupon_stock, data.business, data.operators
        )
        exp = exporter.write(out, fmts, summary_rows(data, masker.enabled), progress)
        result.files += exp.files
        result.rows = exp.rows
        result.xlsx_truncated = exp.xlsx_truncated
        result.detail_sheets = exp.detail_sheets
    finally:
        conn.close()
    result.seconds = time.perf_counter() - started
    return result
