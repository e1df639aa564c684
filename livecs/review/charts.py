"""The report's charts: matplotlib figures rendered to SVG and cleaned for inline use in an offline page.

Text stays text (``svg.fonttype: none``), so the reader's browser draws Chinese labels with its own fonts
(the report's CSS lists the usual CJK families); matplotlib only measures the labels, with whatever font it
has. :func:`svg_inline` strips the XML prolog, the DTD reference and the namespace URLs (an inline ``<svg>``
in HTML needs none), so the page holds no external reference. Input data is already aggregated and small.
"""

from __future__ import annotations

import functools
import io
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, TypeVar

import matplotlib

matplotlib.use("svg")

import matplotlib.dates as mdates
from matplotlib.figure import Figure

from livecs.review.settings import SECONDS_PER_MINUTE
from livecs.vocabulary import INTENT_ZH, PRIORITY_ZH

CJK_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
    "DejaVu Sans",
]
RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": CJK_FONTS,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
FIG_WIDE = (10.0, 3.4)
FIG_SQUARE = (10.0, 4.2)
DPI = 100
INTENT_COLOURS = {
    "product": "#4e79a7",
    "price_promo": "#f28e2b",
    "order": "#76b7b2",
    "logistics": "#59a14f",
    "payment": "#edc948",
    "after_sales": "#b07aa1",
    "complaint": "#e15759",
    "buy_signal": "#ff9da7",
    "chitchat": "#bab0ac",
    "spam": "#9c755f",
}
OTHER_COLOUR = "#d3d3d3"
PRIORITY_COLOURS = {"P0": "#e15759", "P1": "#f28e2b", "mod": "#9c755f", "P2": "#4e79a7", "P3": "#bab0ac"}
SPAN_COLOURS = ("#f6f1e1", "#e3eef8")
VOLUME_COLOUR = "#4e79a7"
BUY_COLOUR = "#e15759"
NEG_COLOUR = "#e15759"
LABEL_MAX_CHARS = 18
PERCENT = 100.0
_PROLOG_RE = re.compile(r"^.*?(?=<svg\b)", re.S)
_NS_RE = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SIZE_RE = re.compile(r'(<svg\b[^>]*?)\s+width="[^"]*"\s+height="[^"]*"')


def svg_inline(svg: str, chart_id: str) -> str:
    """matplotlib's SVG document → an ``<svg>`` element for an HTML page, with no URL inside."""
    svg = _PROLOG_RE.sub("", svg, count=1)
    svg = _NS_RE.sub("", svg)
    svg = svg.replace("xlink:href=", "href=")
    svg = _SIZE_RE.sub(r"\1", svg, count=1)
    return svg.replace("<svg ", f'<svg id="{chart_id}" role="img" ', 1)


def _render(fig: Figure, chart_id: str) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph missing from font": the browser draws the text
        fig.savefig(
            buf,
            format="svg",
            bbox_inches="tight",
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    return svg_inline(buf.getvalue(), chart_id)


def _figure(size: tuple[float, float], salt: str) -> Figure:
    del salt  # ids are salted per chart by :func:`_styled`
    return Figure(figsize=size, dpi=DPI)


_F = TypeVar("_F", bound=Callable[..., str])


def _styled(fn: _F) -> _F:
    """Run a chart function under the report's rcParams (process-global state restored afterwards);
    ``svg.hashsalt`` differs per chart so element ids never collide on one page."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        rc: Any = {**RC, "svg.hashsalt": f"livecs-{fn.__name__}"}
        with matplotlib.rc_context(rc):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def bin_minutes(minutes: Sequence[int], max_bins: int) -> int:
    """Minutes per bin so that the span fits in ``max_bins`` bins."""
    if not minutes:
        return 1
    span = max(minutes) - min(minutes) + 1
    return max(1, math.ceil(span / max_bins))


def _rebin(data: Mapping[int, float], width: int, start: int, end: int) -> list[float]:
    out = [0.0] * ((end - start) // width + 1)
    for m, v in data.items():
        out[(m - start) // width] += v
    return out


def _num(t: datetime) -> float:
    """A datetime as matplotlib's date number (what its date axis plots)."""
    return float(mdates.date2num(t))  # type: ignore[no-untyped-call]


def _times(start: int, n: int, width: int, tz: tzinfo) -> list[float]:
    return [_num(datetime.fromtimestamp((start + i * width) * SECONDS_PER_MINUTE, tz)) for i in range(n)]


def _time_axis(ax: Any, tz: tzinfo) -> None:
    """A date axis ticked at whole minutes as soon as the span holds two (the data is per minute) and labelled
    at its ticks' precision (``%H:%M``; ``%H:%M:%S`` only for second ticks). A fixed ``%H:%M`` under
    matplotlib's default ticks (at least five) printed a short broadcast's half-minute ticks as
    "15:56 15:56 15:57 15:57"."""
    ax.xaxis_date(tz)
    locator = mdates.AutoDateLocator(tz=tz, minticks=2)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.AutoDateFormatter(locator, tz=tz, defaultfmt="%H:%M")  # type: ignore[no-untyped-call]
    formatter.scaled.update(
        {
            1.0: "%m-%d",
            1 / mdates.HOURS_PER_DAY: "%H:%M",
            1 / mdates.MINUTES_PER_DAY: "%H:%M",
            1 / mdates.SEC_PER_DAY: "%H:%M:%S",
        }
    )
    ax.xaxis.set_major_formatter(formatter)


@_styled
def volume_chart(
    per_minute: Mapping[int, int],
    buys: Mapping[int, int],
    products: Mapping[int, str],
    tz: tzinfo,
    max_bins: int,
) -> str:
    """Comments per minute (area), buy signals per minute (line), product on air (shaded spans)."""
    fig = _figure(FIG_WIDE, "volume")
    ax = fig.add_subplot()
    if per_minute:
        start, end = min(per_minute), max(per_minute)
        times = _times(start, end - start + 1, 1, tz)
        counts = [per_minute.get(start + i, 0) for i in range(end - start + 1)]
        runs: list[tuple[int, int, str]] = []
        for m in range(start, end + 1):
            p = products.get(m)
            if p is None:
                continue
            if runs and runs[-1][2] == p and runs[-1][1] >= m - 1:
                runs[-1] = (runs[-1][0], m, p)
            else:
                runs.append((m, m, p))
        top = max(counts) if counts else 1
        for i, (a, b, p) in enumerate(runs):
            t0 = _num(datetime.fromtimestamp(a * SECONDS_PER_MINUTE, tz))
            t1 = _num(datetime.fromtimestamp((b + 1) * SECONDS_PER_MINUTE, tz))
            ax.axvspan(t0, t1, color=SPAN_COLOURS[i % len(SPAN_COLOURS)], zorder=0)
            ax.text(t0, top * 1.02, str(p)[:LABEL_MAX_CHARS], fontsize=8, va="bottom", clip_on=False)
        ax.fill_between(times, counts, step="post", color=VOLUME_COLOUR, alpha=0.55, label="评论/分钟")
        if buys:
            ax.plot(
                times,
                [buys.get(start + i, 0) for i in range(end - start + 1)],
                color=BUY_COLOUR,
                drawstyle="steps-post",
                linewidth=1.2,
                label="下单信号/分钟",
            )
        _time_axis(ax, tz)
        ax.legend(loc="upper right", fontsize=8)
    ax.set_ylabel("条/分钟")
    ax.set_title("每分钟评论量（底色为在播商品）" if products else "每分钟评论量", loc="left")
    return _render(fig, "chart-volume")


@_styled
def intent_chart(intent_minute: Mapping[int, Mapping[str, int]], tz: tzinfo, max_bins: int) -> str:
    """Intent mix over time as a stacked area (share of triaged comments per bin)."""
    fig = _figure(FIG_WIDE, "intent")
    ax = fig.add_subplot()
    if intent_minute:
        width = bin_minutes(list(intent_minute), max_bins)
        start, end = min(intent_minute), max(intent_minute)
        intents = [i for i in INTENT_ZH if any(i in d for d in intent_minute.values())]
        intents += sorted({i for d in intent_minute.values() for i in d} - set(intents))
        series = [
            _rebin({m: d.get(i, 0) for m, d in intent_minute.items()}, width, start, end) for i in intents
        ]
        totals = [sum(col) or 1.0 for col in zip(*series, strict=True)]
        shares = [[PERCENT * v / t for v, t in zip(s, totals, strict=True)] for s in series]
        times = _times(start, len(totals), width, tz)
        ax.stackplot(
            times,
            shares,
            labels=[INTENT_ZH.get(i, i) for i in intents],
            colors=[INTENT_COLOURS.get(i, OTHER_COLOUR) for i in intents],
            alpha=0.9,
        )
        ax.set_ylim(0, PERCENT)
        _time_axis(ax, tz)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    ax.set_ylabel("占比 %")
    ax.set_title("意图构成随时间变化", loc="left")
    return _render(fig, "chart-intent")


@_styled
def negative_chart(negative_minute: Mapping[int, tuple[int, int]], tz: tzinfo, max_bins: int) -> str:
    fig = _figure(FIG_WIDE, "negative")
    ax = fig.add_subplot()
    if negative_minute:
        width = bin_minutes(list(negative_minute), max_bins)
        start, end = min(negative_minute), max(negative_minute)
        neg = _rebin({m: v[0] for m, v in negative_minute.items()}, width, start, end)
        tot = _rebin({m: v[1] for m, v in negative_minute.items()}, width, start, end)
        share = [PERCENT * n / t if t else 0.0 for n, t in zip(neg, tot, strict=True)]
        times = _times(start, len(share), width, tz)
        ax.plot(times, share, color=NEG_COLOUR, linewidth=1.5, marker="o", markersize=2.5, label="负面占比")
        overall = PERCENT * sum(neg) / (sum(tot) or 1)
        ax.axhline(overall, color="#555555", linestyle="--", linewidth=1, label=f"整场平均 {overall:.1f}%")
        ax.set_ylim(bottom=0)
        _time_axis(ax, tz)
        ax.legend(loc="upper right", fontsize=8)
    ax.set_ylabel("负面 %")
    ax.set_title("负面情绪占比随时间变化", loc="left")
    return _render(fig, "chart-negative")


@_styled
def online_chart(online_minute: Mapping[int, int], tz: tzinfo, max_bins: int) -> str:
    """The viewer curve: people online per minute (the platform's ``viewers`` counts; merged minutes show
    their mean), with the peak and the average of the minutes."""
    fig = _figure(FIG_WIDE, "online")
    ax = fig.add_subplot()
    if online_minute:
        width = bin_minutes(list(online_minute), max_bins)
        start, end = min(online_minute), max(online_minute)
        sums = _rebin({m: float(v) for m, v in online_minute.items()}, width, start, end)
        counts = _rebin(dict.fromkeys(online_minute, 1.0), width, start, end)
        points = [(i, s / n) for i, (s, n) in enumerate(zip(sums, counts, strict=True)) if n]
        times = _times(start, len(sums), width, tz)
        ax.plot(
            [times[i] for i, _ in points],
            [v for _, v in points],
            color=VOLUME_COLOUR,
            linewidth=1.5,
            marker="o",
            markersize=2.5,
            label="在线人数",
        )
        peak = max(online_minute.values())
        avg = sum(online_minute.values()) / len(online_minute)
        ax.axhline(peak, color=BUY_COLOUR, linestyle=":", linewidth=1, label=f"峰值 {peak:,}")
        ax.axhline(avg, color="#555555", linestyle="--", linewidth=1, label=f"平均 {avg:,.0f}")
        ax.set_ylim(bottom=0)
        _time_axis(ax, tz)
        ax.legend(loc="lower right", fontsize=8)
    ax.set_ylabel("在线人数")
    ax.set_title("在线人数随时间变化", loc="left")
    return _render(fig, "chart-online")


@_styled
def response_chart(responses: Sequence[tuple[str, list[int]]], bucket_labels: Sequence[str]) -> str:
    """Response-time distribution per priority: grouped bars of the share of answered items per bin."""
    fig = _figure(FIG_WIDE, "response")
    ax = fig.add_subplot()
    shown = [(p, b) for p, b in responses if sum(b)]
    n = len(shown)
    if n:
        width = 0.8 / n
        xs = list(range(len(bucket_labels)))
        for j, (prio, buckets) in enumerate(shown):
            total = sum(buckets)
            ax.bar(
                [x - 0.4 + width * (j + 0.5) for x in xs],
                [PERCENT * b / total for b in buckets],
                width=width,
                color=PRIORITY_COLOURS.get(prio, OTHER_COLOUR),
                label=f"{PRIORITY_ZH.get(prio, prio)}（{total}）",
            )
        ax.set_xticks(xs, list(bucket_labels))
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "没有操作记录", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("已响应条目 %")
    ax.set_title("首次响应时间分布（按优先级）", loc="left")
    return _render(fig, "chart-response")


@_styled
def clusters_chart(labels: Sequence[str], counts: Sequence[int], intents: Sequence[str]) -> str:
    fig = _figure(FIG_SQUARE, "clusters")
    ax = fig.add_subplot()
    if counts:
        ys = list(range(len(counts)))[::-1]
        short = [lab if len(lab) <= LABEL_MAX_CHARS else lab[: LABEL_MAX_CHARS - 1] + "…" for lab in labels]
        ax.barh(ys, counts, color=[INTENT_COLOURS.get(i, OTHER_COLOUR) for i in intents])
        ax.set_yticks(ys, short)
        for y, c in zip(ys, counts, strict=True):
            ax.text(c, y, f" {c}", va="center", fontsize=8)
        ax.grid(axis="y", visible=False)
    else:
        ax.text(0.5, 0.5, "没有问题类评论", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("评论数")
    ax.set_title("高频问题（按问题簇）", loc="left")
    return _render(fig, "chart-clusters")


@_styled
def trend_chart(labels: Sequence[str], comments: Sequence[float], gmv: Sequence[float]) -> str:
    """Comments (bars) and GMV (line, right axis) per period of ``run.py trend``."""
    fig = _figure(FIG_WIDE, "trend")
    ax = fig.add_subplot()
    x = list(range(len(labels)))
    ax.bar(x, comments, color=VOLUME_COLOUR, label="评论数")
    ax.set_xticks(x, list(labels), rotation=30, ha="right")
    ax.set_ylabel("评论数")
    ax2 = ax.twinx()
    ax2.plot(x, gmv, color=BUY_COLOUR, marker="o", label="成交额")
    ax2.set_ylabel("成交额（元）")
    ax.set_title("评论数与成交额")
    return _render(fig, "chart-trend")
