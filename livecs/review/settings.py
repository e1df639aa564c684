"""Every number the post-stream review uses: SLAs, table sizes, chart bins, finding thresholds, export limits.

:class:`ReviewSettings` is a typed, validated settings object (pydantic, like :mod:`livecs.config`); callers
pass one to :func:`livecs.review.build.build_review` to override any value. The SLA defaults follow the
priority table of the design (P0 30 s, P1 60 s, P2 3 min, mod 60 s); a triage row's own ``sla_deadline`` wins
when it has one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: Excel's hard limit of rows in one sheet (header included).
XLSX_MAX_SHEET_ROWS = 1_048_576
SECONDS_PER_MINUTE = 60
#: how an issue_coupon action without a coupon_rule_id is listed
NO_RULE = "(未指定)"


class Theme(BaseModel):
    """A topic found by keywords in question/complaint text, with the advice shown when it is frequent."""

    model_config = ConfigDict(extra="forbid")

    name: str
    keywords: list[str]
    advice: str


def _default_themes() -> list[Theme]:
    return [
        Theme(
            name="尺码问题",
            keywords=["尺码", "码数", "什么码", "几码", "穿多大", "身高", "体重", "斤"],
            advice="详情页补充尺码表，主播口播身高体重对照",
        ),
        Theme(
            name="发货物流",
            keywords=["发货", "物流", "快递", "几天到", "包邮", "到货"],
            advice="在公屏置顶发货时效与快递公司",
        ),
        Theme(
            name="优惠券",
            keywords=["券", "优惠", "满减", "折扣", "便宜"],
            advice="口播领券路径并在购物车置顶券链接",
        ),
        Theme(
            name="退换售后",
            keywords=["退货", "退款", "换货", "七天无理由", "运费险", "售后"],
            advice="在商品页写清退换规则，客服准备统一话术",
        ),
        Theme(
            name="质量问题",
            keywords=["质量", "起球", "掉色", "坏了", "破了", "假货", "异味"],
            advice="排查批次质量并准备补偿方案",
        ),
        Theme(
            name="支付问题",
            keywords=["付款", "支付", "花呗", "分期", "扣款", "付不了"],
            advice="检查支付链路，公屏说明花呗/分期支持情况",
        ),
    ]


class ReviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = Field("Asia/Shanghai", description="clock times in the report")
    sla_s: dict[str, float] = Field(
        default_factory=lambda: {"P0": 30.0, "P1": 60.0, "P2": 180.0, "mod": 60.0},
        description="seconds to first action per priority when a triage row has no sla_deadline",
    )
    top_clusters: int = Field(10, ge=1, description="question clusters in the chart and table")
    table_rows: int = Field(50, ge=1, description="rows shown in each detail table of the HTML")
    response_buckets_s: list[float] = Field(
        default_factory=lambda: [10.0, 30.0, 60.0, 180.0, 600.0],
        description="upper bounds of the response-time histogram bins (a last bin holds the rest)",
    )
    max_chart_bins: int = Field(120, ge=10, description="time bins of a chart at most (minutes are merged)")
    chunk_rows: int = Field(5_000, ge=100, description="rows fetched from a cursor at once")
    xlsx_max_sheets_per_table: int = Field(
        4, ge=1, description="a table longer than this many full sheets is cut, with a note"
    )
    xlsx_max_detail_sheets: int = Field(
        50, ge=0, description="per-operator and per-product sheets of the XLSX at most (each kind)"
    )
    progress_interval_s: float = Field(0.25, gt=0, description="terminal progress redraw interval")
    # findings
    theme_min_share: float = Field(
        0.10, ge=0, le=1, description="a theme this share of questions is a finding"
    )
    theme_min_count: int = Field(5, ge=1)
    burst_window_min: int = Field(15, ge=1, description="window in which complaints are said to concentrate")
    burst_min_share: float = Field(
        0.4, ge=0, le=1, description="share of a topic's complaints in that window"
    )
    burst_min_count: int = Field(5, ge=1)
    negative_spike_ratio: float = Field(2.0, gt=1, description="negative share this many times the average")
    negative_spike_min_comments: int = Field(30, ge=1, description="comments in a bin for a spike to count")
    sla_breach_finding_share: float = Field(0.2, ge=0, le=1, description="breached share that is a finding")
    spam_finding_share: float = Field(0.05, ge=0, le=1)
    coupon_low_use_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="an enabled coupon rule issued below this share of its stock is barely used",
    )
    themes: list[Theme] = Field(default_factory=_default_themes)
