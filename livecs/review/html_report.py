"""``report.html``: one self-contained Chinese page (inline CSS and SVG, no script, no URL of any kind).

Every value that came from a viewer or an operator is HTML-escaped and was masked before it got here (the
caller passes a :class:`~livecs.review.mask.Masker`); numbers are formatted with thousands separators. The
page opens offline in any browser and prints well.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from livecs.review.findings import Finding
from livecs.review.mask import Masker
from livecs.review.queries import ActionRow, ItemRow, ReviewData
from livecs.review.settings import ReviewSettings
from livecs.review.stock import STATUS_LOW, STATUS_OK, STATUS_OVER, STATUS_SOLD_OUT, STOCK_UNKNOWN
from livecs.vocabulary import ACTION_ZH, INTENT_ZH, OUTCOME_ZH, PRIORITY_ZH, TICKET_STATUS_ZH

TEXT_CHARS = 60
STATUS_CLASS = {STATUS_SOLD_OUT: "bad", STATUS_OVER: "bad", STATUS_LOW: "low", STATUS_OK: "good"}
SECONDS_PER_HOUR = 3600
SECONDS_PER_MINUTE = 60

CSS = """
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --warn:#cf222e; --ok:#1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--fg); background: #fff;
  font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
  "WenQuanYi Micro Hei", "Hiragino Sans GB", sans-serif; font-size: 14px; line-height: 1.55; }
svg text { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
  "WenQuanYi Micro Hei", "DejaVu Sans", sans-serif !important; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); }
.banner { margin: 12px 0; padding: 10px 14px; border-radius: 6px; }
.banner.masked { background: #ddf4ff; border: 1px solid #54aeff; }
.banner.unmasked { background: #ffebe9; border: 2px solid var(--warn); color: var(--warn); font-weight: 700; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; }
.card { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .v { font-size: 22px; font-weight: 700; }
.card .k { color: var(--muted); font-size: 12px; }
ul.findings { padding-left: 0; list-style: none; }
ul.findings li { margin: 6px 0; padding: 8px 12px; border-left: 4px solid var(--line);
  background: var(--bg); }
ul.findings li.warn { border-left-color: var(--warn); }
ul.findings li.info { border-left-color: #0969da; }
ul.findings .act { color: var(--muted); }
figure { margin: 12px 0 20px; }
figure svg { width: 100%; height: auto; max-width: 1000px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: var(--muted); font-size: 12px; }
span.bad { color: var(--warn); font-weight: 700; }
span.low { color: var(--muted); }
span.good { color: var(--ok); }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
"""


@dataclass(frozen=True)
class Charts:
    volume: str
    intent: str
    negative: str
    response: str
    clusters: str
    online: str = ""  # the viewer curve (none without viewers events)


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt_int(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def fmt_pct(x: float | None) -> str:
    return "–" if x is None else f"{100.0 * x:.1f}%"


def fmt_money(x: float | None) -> str:
    return "–" if x is None else f"¥{x:,.2f}"


def fmt_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, SECONDS_PER_HOUR)
    m, s = divmod(rest, SECONDS_PER_MINUTE)
    return f"{h} 小时 {m} 分" if h else f"{m} 分 {s} 秒"


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "–"
    return f"{s:.0f} 秒" if s < SECONDS_PER_MINUTE else f"{s / SECONDS_PER_MINUTE:.1f} 分"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r)
        )
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="note">（无）</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _status(status: str) -> str:
    cls = STATUS_CLASS.get(status)
    return f'<span class="{cls}">{esc(status)}</span>' if cls else esc(status)


class HtmlReport:
    def __init__(
        self,
        data: ReviewData,
        findings: Sequence[Finding],
        charts: Charts,
        masker: Masker,
        settings: ReviewSettings,
        tz: tzinfo,
        generated_at: float,
    ) -> None:
        self.d = data
        self.findings = findings
        self.charts = charts
        self.m = masker
        self.s = settings
        self.tz = tz
        self.generated_at = generated_at

    def _time(self, ts: float | None, fmt: str = "%H:%M:%S") -> str:
        return "–" if ts is None else datetime.fromtimestamp(ts, self.tz).strftime(fmt)

    def _text(self, text: str) -> str:
        t = self.m.text(text)
        return esc(t if len(t) <= TEXT_CHARS else t[: TEXT_CHARS - 1] + "…")

    def _user(self, user_id: str, nickname: str) -> str:
        return f"{esc(self.m.nickname(nickname))}<br><span class='note'>{esc(self.m.user(user_id))}</span>"

    def render(self) -> str:
        d = self.d
        parts = [
            "<!DOCTYPE html>",
            '<html lang="zh-CN"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>直播复盘 · {esc(d.meta.room)} · {esc(self._time(self._start(), '%Y-%m-%d'))}</title>",
            f"<style>{CSS}</style></head><body>",
            self._header(),
            self._summary(),
            self._findings(),
            self._comparison(),
            "<h2>图表</h2>",
            f"<figure>{self.charts.volume}</figure>",
            f"<figure>{self.charts.intent}</figure>",
            f"<figure>{self.charts.negative}</figure>",
            f"<figure>{self.charts.response}</figure>",
            self._response_table(),
            f"<figure>{self.charts.clusters}</figure>",
            self._clusters(),
            self._breached(),
            self._complaints(),
            self._coupons(),
            self._moderation(),
            self._quality(),
            self._business(),
            self._people(),
            self._resolution(),
            self._tickets(),
            self._footer(),
            "</body></html>",
        ]
        return "\n".join(parts)

    def _start(self) -> float:
        return self.d.summary.first_ts if self.d.summary.first_ts is not None else self.d.meta.started_at

    def _header(self) -> str:
        d = self.d
        if self.m.enabled:
            banner = (
                '<div class="banner masked">个人信息已'
                "脱敏：手机号、身份证号、地址、订单号、邮箱、QQ/微信号已替换，"
                "用户 ID 为本报告内一致的化名，昵称仅保留首尾字。</div>"
            )
        else:
            banner = (
                '<div class="banner unmasked"'
                ' id="no-mask-banner">未脱敏：本报告及其导出文件包含观众的个人信息'
                "（以 --no-mask 生成），请勿外传，用后删除。</div>"
            )
        return (
            "<h1>直播复盘报告</h1><div class='meta'>直播间"
            f" {esc(d.meta.room)} · 场次 {esc(d.meta.session_id)}"
            f" · 来源 {esc(d.meta.source)} · 生成于"
            f" {esc(self._time(self.generated_at, '%Y-%m-%d %H:%M'))}</div>"
            f"{banner}"
        )

    def _summary(self) -> str:
        sm = self.d.summary
        b = self.d.business
        start = self._start()
        end = sm.last_ts if sm.last_ts is not None else (self.d.meta.ended_at or start)
        cards = [
            ("时段", f"{self._time(start, '%m-%d %H:%M')}–{self._time(end, '%H:%M')}", "summary-window"),
            ("时长", fmt_duration(end - start), "summary-duration"),
            ("评论数", fmt_int(sm.comments), "summary-comments"),
            ("独立观众", fmt_int(sm.unique_viewers), "summary-viewers"),
            ("峰值（条/分钟）", fmt_int(sm.peak_per_minute), "summary-peak-minute"),
            ("峰值（条/秒）", fmt_int(sm.peak_per_second), "summary-peak-second"),
            ("下单信号", fmt_int(sm.buy_signal_comments + sm.orders_paid), "summary-buys"),
            ("其中已付款订单", fmt_int(sm.orders_paid), "summary-orders"),
            ("发券", fmt_int(sm.coupons_issued), "summary-coupons"),
            (
                "发券占库存",
                self.d.coupon_stock.summary_value() if self.d.coupon_stock else STOCK_UNKNOWN,
                "summary-coupon-stock",
            ),
            ("投诉", fmt_int(sm.complaints), "summary-complaints"),
            ("违规/引流", fmt_int(sm.spam), "summary-spam"),
            ("客服操作", fmt_int(sm.actions), "summary-actions"),
            ("观看人数", fmt_int(b.viewers if b else None), "summary-audience"),
            ("峰值在线", fmt_int(b.peak_online if b else None), "summary-peak-online"),
            ("互动率", fmt_pct(b.interaction_rate if b else None), "summary-interaction"),
            ("转化率", fmt_pct(b.conversion_rate if b else None), "summary-conversion"),
            ("成交额（GMV）", fmt_money(b.gmv if b else None), "summary-gmv"),
            ("新增关注", fmt_int(b.follows if b else None), "summary-follows"),
            ("问题解决率", self._rate(self.d.marks.get("resolve")), "summary-resolution"),
            ("满意度", self._satisfaction_total(), "summary-satisfaction"),
            ("工单", fmt_int(len(self.d.tickets)), "summary-tickets"),
        ]
        html_cards = "".join(
            f'<div class="card" id="{cid}"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
            for k, v, cid in cards
        )
        mix = sorted(self.d.intent_counts.items(), key=lambda kv: -kv[1])
        total = sum(n for _, n in mix) or 1
        mix_rows = [
            (esc(INTENT_ZH.get(i, i)), esc(i), fmt_int(n), f"{100.0 * n / total:.1f}%") for i, n in mix
        ]
        untriaged = sm.comments - sm.triaged
        note = f"<p class='note'>{fmt_int(untriaged)} 条评论没有分诊结果。</p>" if untriaged > 0 else ""
        return (
            f"<h2>概览</h2><div class='cards'>{html_cards}</div><h2>意图分布</h2>"
            f"{_table(['意图', '代码', '条数', '占比'], mix_rows, numeric=(2, 3))}{note}"
        )

    def _findings(self) -> str:
        if not self.findings:
            return "<h2>值得跟进的发现</h2><p class='note'>没有超过阈值的问题。</p>"
        items = "".join(
            f'<li class="{esc(f.level)}">{esc(f.text)}'
            + (f'：<span class="act">{esc(f.action)}</span>' if f.action else "")
            + "</li>"
            for f in self.findings
        )
        return f'<h2>值得跟进的发现</h2><ul class="findings" id="findings">{items}</ul>'

    def _response_table(self) -> str:
        rows = [
            (
                esc(PRIORITY_ZH.get(r.priority, r.priority)),
                fmt_int(r.items),
                fmt_int(r.answered),
                esc(fmt_seconds(r.p50_s)),
                esc(fmt_seconds(r.p90_s)),
                fmt_int(r.breached),
                esc(fmt_seconds(self.s.sla_s.get(r.priority))),
            )
            for r in self.d.responses
        ]
        return _table(
            ["优先级", "需处理", "已响应", "中位响应", "P90 响应", "超时/未处理", "时限"],
            rows,
            numeric=(1, 2, 3, 4, 5),
        ).replace("<table>", '<table id="response-table">', 1)

    def _clusters(self) -> str:
        rows = [
            (
                str(i + 1),
                self._text(c.label),
                esc(INTENT_ZH.get(c.intent, c.intent)),
                fmt_int(c.count),
                esc(c.script_id or "（无）"),
                f"{fmt_int(c.answered)}/{fmt_int(c.items)}",
            )
            for i, c in enumerate(self.d.clusters)
        ]
        return "<h2>高频问题簇</h2>" + _table(
            ["#", "代表评论", "意图", "条数", "使用话术", "已响应/需处理"], rows, numeric=(0, 3)
        ).replace("<table>", '<table id="clusters-table">', 1)

    def _items(self, items: Sequence[ItemRow], with_deadline: bool) -> str:
        rows = []
        for it in items:
            resp = "未处理" if it.first_ts is None else fmt_seconds(it.first_ts - it.ts)
            row = [
                esc(self._time(it.ts)),
                self._user(it.user_id, it.nickname),
                self._text(it.text),
                esc(PRIORITY_ZH.get(it.priority, it.priority)),
                esc(resp),
                esc(self._handling(it.handling)),
            ]
            if with_deadline:
                row.insert(4, esc(self._time(it.deadline)))
            rows.append(row)
        headers = ["时间", "观众", "评论", "优先级", "首次响应", "处理"]
        if with_deadline:
            headers.insert(4, "时限")
        return _table(headers, rows)

    @staticmethod
    def _handling(handling: str) -> str:
        if not handling:
            return "（无操作）"
        out = handling
        for k, zh in ACTION_ZH.items():
            out = out.replace(f"{k}(", f"{zh}(")
        return out

    def _breached(self) -> str:
        d = self.d
        note = (
            f"<p class='note' id='breached-count'>共 {fmt_int(d.breached_total)} 条超时或未处理"
            f"（其中 {fmt_int(d.unanswered_total)} 条到时限仍"
            f"没有任何操作），下表列出前 {self.s.table_rows} 条。</p>"
        )
        return "<h2>未处理或超时的评论</h2>" + note + self._items(d.breached_items, with_deadline=True)

    def _complaints(self) -> str:
        d = self.d
        note = (
            f"<p class='note' id='complaints-count'>共 {fmt_int(d.summary.complaints)} 条投诉，"
            f"已响应 {fmt_int(d.complaints_answered)} 条。</p>"
        )
        return "<h2>投诉及处理</h2>" + note + self._items(d.complaints, with_deadline=False)

    def _actions(self, rows: Sequence[ActionRow], with_rule: bool) -> str:
        out = []
        for a in rows:
            r = [
                esc(self._time(a.ts)),
                esc(a.operator),
                esc(ACTION_ZH.get(a.kind, a.kind)),
                esc(self.m.user(a.user_id)),
            ]
            if with_rule:
                r.append(esc(a.coupon_rule_id))
            r.append(self._text(a.text))
            out.append(r)
        headers = ["时间", "操作员", "操作", "观众"] + (["券规则"] if with_rule else []) + ["备注/内容"]
        return _table(headers, out)

    def _coupons(self) -> str:
        cs = self.d.coupon_stock
        if cs is None:  # aggregates without the stock step (callers of HtmlReport other than build_review)
            rows = [
                (esc(k), "", fmt_int(v), esc(STOCK_UNKNOWN), esc(STOCK_UNKNOWN), "–", esc(STOCK_UNKNOWN))
                for k, v in self.d.coupon_totals.items()
            ]
            total = f"已发券 {fmt_int(self.d.summary.coupons_issued)} 张，{STOCK_UNKNOWN}"
            source = ""
        else:
            rows = [
                (
                    esc(r.name or r.rule_id)
                    + (f"<br><span class='note'>{esc(r.rule_id)}</span>" if r.name else ""),
                    esc(r.type or "–"),
                    fmt_int(r.issued),
                    esc(STOCK_UNKNOWN if r.stock is None else fmt_int(r.stock)),
                    esc(r.usage()),
                    fmt_int(r.per_user_limit),
                    _status(r.status),
                )
                for r in cs.rows
            ]
            total = cs.total_text()
            source = f"库存来自{cs.library.describe()}。" if cs.known else ""
        note = (
            f"<p id='coupon-stock-total'><b>{esc(total)}</b></p>"
            f"<p class='note'>{esc(source)}库存为每个直播间可发的总张数；"
            "本场发放 = 客服发出的券（手动发券与批准建议券）。</p>"
        )
        table = _table(
            ["券规则", "类型", "本场发放", "库存", "已用/库存", "每人限领", "状态"], rows, numeric=(2, 3, 5)
        ).replace("<table>", '<table id="coupon-totals">', 1)
        return "<h2>发券与库存</h2>" + note + table + self._actions(self.d.coupons, with_rule=True)

    def _moderation(self) -> str:
        totals = "，".join(
            f"{ACTION_ZH.get(k, k)} {fmt_int(v)} 次" for k, v in self.d.moderation_totals.items()
        )
        spam = fmt_int(self.d.summary.spam)
        note = f"<p class='note'>{esc(totals or '没有审核操作')}；违规/引流评论 {spam} 条。</p>"
        return "<h2>审核操作</h2>" + note + self._actions(self.d.moderation, with_rule=False)

    def _quality(self) -> str:
        """质检: edited replies (before → after), forced sends and replies carrying an error-level term."""
        t = self.d.quality_totals
        kinds = {"edit": "改写", "forced": "强制发送", "term": "含违禁用语"}
        note = (
            f"<p class='note' id='quality-totals'>改写建议 {fmt_int(t.get('edit', 0))} 次，强制发送 "
            f"{fmt_int(t.get('forced', 0))} 次，其他含违禁用语的回复 {fmt_int(t.get('term', 0))} 条。</p>"
        )
        rows = [
            [
                esc(self._time(q.ts)),
                esc(q.operator),
                esc(kinds.get(q.kind, q.kind)),
                self._text(q.before) if q.before else "–",
                self._text(q.after),
                esc(q.terms or "–"),
            ]
            for q in self.d.quality
        ]
        table = _table(["时间", "操作员", "类型", "原建议", "发出/改后", "违禁用语"], rows)
        return "<h2>质检</h2>" + note + table.replace("<table>", '<table id="quality">', 1)

    @staticmethod
    def _rate(r: dict[str, Any] | None) -> str:
        if not r or not r.get("marked"):
            return "–"
        return f"{100.0 * r['good'] / r['marked']:.0f}%（{r['good']:,}/{r['marked']:,}）"

    def _satisfaction_total(self) -> str:
        sat = self.d.marks.get("satisfaction") or {"good": 0, "marked": 0}
        good, n = sat["good"] + self.d.survey[0], sat["marked"] + self.d.survey[1]
        return self._rate({"good": good, "marked": n})

    def _resolution(self) -> str:
        res = self.d.marks.get("resolve") or {"good": 0, "marked": 0, "by_intent": {}, "by_operator": {}}
        sat = self.d.marks.get("satisfaction") or {"good": 0, "marked": 0}
        closed = [t for t in self.d.tickets if t.outcome]
        t_good = sum(1 for t in closed if t.outcome == "resolved")
        note = (
            f"<p class='note' id='resolution-total'>问题解决率 {esc(self._rate(res))}"
            "（客服在卡片上标记的已解决 ÷ 已标记，同一卡片以最后一次标记为准）；"
            f"工单解决率 {esc(self._rate({'good': t_good, 'marked': len(closed)}))}（已结案工单）；"
            f"满意度：客服标记 {esc(self._rate(sat))}，"
            f"问卷 {esc(self._rate({'good': self.d.survey[0], 'marked': self.d.survey[1]}))}。</p>"
        )

        def rows(table: dict[str, Any], label: Any) -> list[tuple[str, ...]]:
            return [
                (esc(label(k)), fmt_int(v["good"]), fmt_int(v["marked"] - v["good"]), esc(self._rate(v)))
                for k, v in table.items()
            ]

        by_intent = _table(
            ["意图", "已解决", "未解决", "解决率"],
            rows(res.get("by_intent", {}), lambda k: INTENT_ZH.get(k, k or "（未知）")),
            numeric=(1, 2),
        ).replace("<table>", '<table id="resolution-by-intent">', 1)
        by_op = _table(
            ["客服", "已解决", "未解决", "解决率"], rows(res.get("by_operator", {}), str), numeric=(1, 2)
        ).replace("<table>", '<table id="resolution-by-operator">', 1)
        return "<h2>问题解决与满意度</h2>" + note + "<h3>按意图</h3>" + by_intent + "<h3>按客服</h3>" + by_op

    def _comparison(self) -> str:
        from livecs.review.compare import fmt_change, fmt_value

        c = self.d.comparison
        if c is None:
            return ""
        rows = [
            (
                esc(m.label),
                esc(fmt_value(m, mine)),
                esc(fmt_value(m, theirs)),
                esc(fmt_change(m, mine, theirs)),
            )
            for m, mine, theirs in c.rows
        ]
        when = self._time(c.previous.started_at, "%Y-%m-%d %H:%M")
        table = _table(["指标", "本场", "对比场次", "变化"], rows, numeric=(1, 2, 3)).replace(
            "<table>", '<table id="compare-table">', 1
        )
        return (
            f"<h2>与上一场对比</h2><p class='note' id='compare-note'>对比场次 {esc(c.previous.session_id)}"
            f"（{esc(when)} 开播，直播间 {esc(c.previous.room)}）。</p>{table}"
        )

    def _business(self) -> str:
        b = self.d.business
        if b is None:
            return ""
        avg = "–" if b.avg_online is None else f"{b.avg_online:,.0f}"
        audience = "平台累计观看" if b.watched else "峰值在线"
        note = (
            f"<p class='note' id='business-note'>已付款订单 {fmt_int(b.orders)} 笔，"
            f"买家 {fmt_int(b.buyers)} 人，GMV {esc(fmt_money(b.gmv))}；"
            f"在线人数 峰值 {fmt_int(b.peak_online)}、平均 {esc(avg)}；"
            f"观看人数 {fmt_int(b.viewers)}（{audience}）；"
            f"互动率 = 评论人数 {fmt_int(b.commenters)} ÷ 观看人数 = {esc(fmt_pct(b.interaction_rate))}；"
            f"转化率 = 买家 ÷ 观看人数 = {esc(fmt_pct(b.conversion_rate))}；"
            f"新增关注 {fmt_int(b.follows)}。</p>"
        )
        rows = [
            (
                esc(p.label),
                esc(fmt_duration(p.on_air_s) if p.on_air_s else "–"),
                fmt_int(p.orders),
                esc(fmt_money(p.gmv)),
                fmt_int(p.orders_on_air),
                esc("–" if p.orders_per_min_on_air is None else f"{p.orders_per_min_on_air:.2f}"),
            )
            for p in b.products
        ]
        table = _table(
            ["商品", "在播时长", "订单", "GMV", "在播时订单", "在播每分钟订单"], rows, numeric=(2, 3, 4, 5)
        ).replace("<table>", '<table id="products-table">', 1)
        curve = f"<figure>{self.charts.online}</figure>" if self.charts.online and b.online_minute else ""
        return "<h2>生意数据</h2>" + note + curve + table

    def _people(self) -> str:
        rows = [
            (
                esc(o.operator),
                fmt_int(o.handled),
                fmt_int(o.first_responses),
                esc(fmt_seconds(o.p50_s)),
                esc(fmt_seconds(o.p90_s)),
                fmt_int(o.sla_breaches),
                fmt_int(o.replies),
                fmt_int(o.edited),
                fmt_int(o.dismissed),
                fmt_int(o.escalated),
                fmt_int(o.tickets_resolved),
                fmt_int(o.coupons),
                esc(self._rate({"good": o.resolved_marks, "marked": o.marked})),
            )
            for o in self.d.operators
        ]
        table = _table(
            [
                "客服",
                "处理条目",
                "首次响应",
                "中位响应",
                "P90 响应",
                "超时",
                "回复",
                "改写回复",
                "忽略",
                "转工单",
                "工单解决",
                "发券",
                "问题解决率",
            ],
            rows,
            numeric=tuple(range(1, 12)),
        ).replace("<table>", '<table id="operators-table">', 1)
        note = (
            "<p class='note'>首次响应 = 该客服的操作是评论的第一个响应；超时 = 其中晚于时限的；"
            "回复与发券按操作计（重试不重复计）。</p>"
        )
        return "<h2>客服表现</h2>" + note + table

    def _tickets(self) -> str:
        tickets = self.d.tickets
        by_status = {s: sum(1 for t in tickets if t.status == s) for s in TICKET_STATUS_ZH}
        resolved = sum(1 for t in tickets if t.outcome == "resolved")
        unresolved = sum(1 for t in tickets if t.outcome == "unresolved")
        overdue = sum(1 for t in tickets if t.overdue)
        late = sum(1 for t in tickets if t.first_response_late)
        note = (
            f"<p class='note' id='tickets-count'>共 {fmt_int(len(tickets))} 个工单："
            + "，".join(f"{zh} {fmt_int(by_status[s])}" for s, zh in TICKET_STATUS_ZH.items())
            + f"；结案 已解决 {fmt_int(resolved)}、未解决 {fmt_int(unresolved)}；"
            f"首次响应超时 {fmt_int(late)}，当前超期 {fmt_int(overdue)}。</p>"
        )
        rows = [
            (
                esc(t.ticket_id),
                esc(TICKET_STATUS_ZH.get(t.status, t.status))
                + (" <span class='bad'>超期</span>" if t.overdue else ""),
                esc(PRIORITY_ZH.get(t.priority, t.priority)),
                self._user(t.user_id, t.nickname),
                self._text(t.text),
                self._text(t.note),
                esc(t.owner or "未分配"),
                esc(self._time(t.created_at, "%m-%d %H:%M")),
                esc("–" if t.first_response_at is None else fmt_seconds(t.first_response_at - t.created_at)),
                esc(OUTCOME_ZH.get(t.outcome, "–"))
                + (f"：{self._text(t.resolution)}" if t.resolution else ""),
            )
            for t in tickets[: self.s.table_rows]
        ]
        table = _table(
            [
                "工单号",
                "状态",
                "优先级",
                "观众",
                "评论",
                "升级备注",
                "负责人",
                "创建",
                "首次响应",
                "处理结果",
            ],
            rows,
        ).replace("<table>", '<table id="tickets-table">', 1)
        return "<h2>工单</h2>" + note + table

    def _footer(self) -> str:
        limits = "、".join(f"{PRIORITY_ZH.get(p, p)} {fmt_seconds(s)}" for p, s in self.s.sla_s.items())
        return (
            "<footer>由 livecs 复盘生成。时间为 "
            f"{esc(str(self.tz))} 时区。首次响应 = 该评"
            "论（或其建议回复、所在问题簇；审核类为对该观众的禁言/拉黑/删除）"
            f"上的第一个客服操作时间 − 评论时间；时限按优先级（{esc(limits)}；分诊给出的时限优先）。</footer>"
        )
