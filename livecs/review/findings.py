"""Findings worth acting on, computed from the aggregates ("尺码问题占 18%：详情页补充尺码表").

Each rule looks at one aspect (frequent question themes, bursts of complaints, SLA breaches, negative
spikes, load peaks, spam, best-selling product, frequent questions with no script) and speaks only when its
threshold in :class:`~livecs.review.settings.ReviewSettings` is met. Pure: aggregates in, sentences out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from livecs.review.charts import bin_minutes
from livecs.review.mask import Masker
from livecs.review.queries import ReviewData
from livecs.review.settings import SECONDS_PER_MINUTE, ReviewSettings
from livecs.review.stock import STATUS_LOW, STATUS_OVER, STATUS_SOLD_OUT
from livecs.vocabulary import PRIORITY_ZH

PERCENT = 100.0
PEAK_OVER_AVERAGE = 3.0  # a minute this many times the average is a load peak worth staffing for
LABEL_CHARS = 20
LOW_USE_LISTED = 3  # barely used coupon rules named in the finding


@dataclass(frozen=True)
class Finding:
    level: str  # "warn" (fix something) | "info" (good to know)
    text: str
    action: str


def clock(minute: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(minute * SECONDS_PER_MINUTE, tz).strftime("%H:%M")


def _pct(part: float, whole: float) -> str:
    return f"{PERCENT * part / whole:.0f}%" if whole else "0%"


def _best_window(counts: dict[int, int], width: int) -> tuple[int, int, int]:
    """(first minute, last minute, count) of the ``width``-minute window holding the most."""
    if not counts:
        return 0, 0, 0
    minutes = sorted(counts)
    best = (minutes[0], minutes[0], 0)
    j = 0
    running = 0
    for i, m in enumerate(minutes):  # two pointers over the sorted minutes
        running += counts[m]
        while minutes[j] <= m - width:
            running -= counts[minutes[j]]
            j += 1
        if running > best[2]:
            best = (minutes[j], m, running)
        del i
    return best


def theme_findings(data: ReviewData, s: ReviewSettings) -> list[Finding]:
    out = []
    questions = data.summary.questions
    advice = {t.name: t.advice for t in s.themes}
    for name, n in sorted(data.theme_counts.items(), key=lambda kv: -kv[1]):
        if questions and n >= s.theme_min_count and n / questions >= s.theme_min_share:
            out.append(
                Finding("warn", f"{name}占 {_pct(n, questions)}（{n:,}/{questions:,} 条咨询）", advice[name])
            )
    return out


def burst_findings(data: ReviewData, s: ReviewSettings, tz: tzinfo) -> list[Finding]:
    out = []
    for name, counts in data.complaint_theme_minute.items():
        total = sum(counts.values())
        if total < s.burst_min_count:
            continue
        first, last, n = _best_window(counts, s.burst_window_min)
        span = (max(counts) - min(counts) + 1) if counts else 0
        if n >= s.burst_min_count and n / total >= s.burst_min_share and span > s.burst_window_min:
            what = "投诉与负面反馈" if name == "全部" else f"{name}投诉"
            out.append(
                Finding(
                    "warn",
                    f"{what}集中在 {clock(first, tz)}–{clock(last + 1, tz)}（{n:,} "
                    f"条，占该类 {_pct(n, total)}）",
                    "回看该时段的讲解与后台（库存、链接、发货），准备统一回复口径",
                )
            )
    return out


def sla_findings(data: ReviewData, s: ReviewSettings) -> list[Finding]:
    """One finding naming every priority whose breached share passes the threshold (one remedy)."""
    parts = []
    for r in data.responses:
        if r.items and r.breached / r.items >= s.sla_breach_finding_share:
            sla = s.sla_s.get(r.priority)
            median = f"，中位响应 {r.p50_s:.0f} 秒" if r.p50_s is not None else ""
            limit = f"超过 {sla:.0f} 秒时限" if sla else "超时"
            parts.append(
                f"{PRIORITY_ZH.get(r.priority, r.priority)}：{r.breached:,}/{r.items:,} 条{limit}或未处理"
                f"（{_pct(r.breached, r.items)}{median}）"
            )
    if not parts:
        return []
    return [Finding("warn", "；".join(parts), "高峰时段增加值班客服，或为该类问题准备一键回复话术")]


def dedupe(findings: list[Finding]) -> list[Finding]:
    """No finding twice, no remedy twice: a repeated text is dropped, a remedy already given is not
    repeated (the later finding keeps its text, with no action)."""
    out: list[Finding] = []
    texts: set[str] = set()
    actions: set[str] = set()
    for f in findings:
        if f.text in texts:
            continue
        texts.add(f.text)
        action = f.action if f.action not in actions else ""
        if action:
            actions.add(action)
        out.append(Finding(f.level, f.text, action))
    return out


def negative_findings(data: ReviewData, s: ReviewSettings, tz: tzinfo) -> list[Finding]:
    neg = data.negative_minute
    if not neg:
        return []
    total_neg = sum(v[0] for v in neg.values())
    total = sum(v[1] for v in neg.values())
    if not total or not total_neg:
        return []
    avg = total_neg / total
    width = bin_minutes(list(neg), s.max_chart_bins)
    start = min(neg)
    bins: dict[int, list[int]] = {}
    for m, (n, t) in neg.items():
        acc = bins.setdefault((m - start) // width, [0, 0])
        acc[0] += n
        acc[1] += t
    best: tuple[int, float] | None = None
    for b, (n, t) in bins.items():
        if t >= s.negative_spike_min_comments and n / t >= s.negative_spike_ratio * avg:
            if best is None or n / t > best[1]:
                best = (b, n / t)
    if best is None:
        return []
    m0 = start + best[0] * width
    return [
        Finding(
            "warn",
            f"负面情绪在 {clock(m0, tz)}–{clock(m0 + width, tz)} 升至 {PERCENT * best[1]:.0f}%"
            f"（整场平均 {PERCENT * avg:.0f}%）",
            "复盘该时段的讲解、价格与库存变化，必要时准备补偿券",
        )
    ]


def load_findings(data: ReviewData, tz: tzinfo) -> list[Finding]:
    pm = data.per_minute
    if not pm or data.summary.peak_minute is None:
        return []
    avg = sum(pm.values()) / len(pm)
    peak = data.summary.peak_per_minute
    if peak < PEAK_OVER_AVERAGE * avg:
        return []
    return [
        Finding(
            "info",
            f"评论峰值 {peak:,} 条/分钟出现在"
            f" {clock(data.summary.peak_minute, tz)}（平均 {avg:,.0f} 条/分钟）",
            "在该环节前安排更多客服，并预先置顶高频问题的回复",
        )
    ]


def spam_findings(data: ReviewData, s: ReviewSettings) -> list[Finding]:
    sm = data.summary
    if not sm.triaged or sm.spam / sm.triaged < s.spam_finding_share:
        return []
    handled = sum(data.moderation_totals.values())
    return [
        Finding(
            "warn",
            f"违规/引流评论占 {_pct(sm.spam, sm.triaged)}（{sm.spam:,} 条），审核操作 {handled:,} 次",
            "开启关键词屏蔽（加V、私信、链接），对重复发送者禁言",
        )
    ]


def product_findings(data: ReviewData) -> list[Finding]:
    per_product: dict[str, int] = {}
    for m, n in data.buy_minute.items():
        p = data.product_minute.get(m)
        if p:
            per_product[p] = per_product.get(p, 0) + n
    source = per_product or data.buy_by_product
    total = sum(source.values())
    if not source or not total or len(source) < 2:
        return []
    best, n = max(source.items(), key=lambda kv: kv[1])
    text = (  # from the merchant's on-air periods, else (none recorded) from the paid orders' links
        f"「{best}」在播时下单信号最多（{n:,} 次，占 {_pct(n, total)}）"
        if per_product
        else f"「{best}」付款订单最多（{n:,} 笔，占 {_pct(n, total)}）"
    )
    return [
        Finding(
            "info",
            text,
            "考虑返场或加大该商品的库存与讲解时长",
        )
    ]


def script_findings(data: ReviewData, masker: Masker) -> list[Finding]:
    missing = [c for c in data.clusters if not c.script_id]
    if not missing or not data.summary.suggestions:
        return []
    c = missing[0]
    label = masker.text(c.label)[:LABEL_CHARS]
    return [
        Finding(
            "warn",
            f"高频问题「{label}」（{c.count:,} 条）没有匹配到话"
            f"术，另有 {len(missing) - 1} 个高频问题簇同样缺话术"
            if len(missing) > 1
            else f"高频问题「{label}」（{c.count:,} 条）没有匹配到话术",
            "在话术库中补充对应话术",
        )
    ]


def coupon_findings(data: ReviewData, s: ReviewSettings) -> list[Finding]:
    """A rule that ran out (issued ≥ stock) or was over-issued; enabled rules barely used (one finding)."""
    cs = data.coupon_stock
    if cs is None or not cs.known:
        return []
    out = []
    for r in cs.rows:
        label = f"「{r.name or r.rule_id}」"
        if r.status == STATUS_OVER:
            out.append(
                Finding(
                    "warn",
                    f"券{label}超发：本场发出 {r.usage()}，超出库存 {r.issued - (r.stock or 0):,} 张",
                    "核对发券限额与库存扣减，必要时与平台对账",
                )
            )
        elif r.status == STATUS_SOLD_OUT:
            out.append(
                Finding(
                    "warn",
                    f"券{label}已发完：{r.usage()}",
                    "下场加大该券库存或分时段放券，发完后及时在公屏和口播告知",
                )
            )
    low = [r for r in cs.rows if r.status == STATUS_LOW]
    if low:
        named = "、".join(f"{r.name or r.rule_id} {r.usage()}" for r in low[:LOW_USE_LISTED])
        more = f" 等 {len(low)} 个券规则" if len(low) > LOW_USE_LISTED else ""
        out.append(
            Finding(
                "info",
                f"券几乎未用（低于库存 {100 * s.coupon_low_use_share:.0f}%）：{named}{more}",
                "口播领券路径并置顶券链接，或下调这些券的库存、停用不需要的券",
            )
        )
    return out


def compute_findings(data: ReviewData, s: ReviewSettings, tz: tzinfo, masker: Masker) -> list[Finding]:
    out: list[Finding] = []
    out += theme_findings(data, s)
    out += burst_findings(data, s, tz)
    out += sla_findings(data, s)
    out += negative_findings(data, s, tz)
    out += spam_findings(data, s)
    out += script_findings(data, masker)
    out += load_findings(data, tz)
    out += product_findings(data)
    out += coupon_findings(data, s)
    return dedupe(out)
