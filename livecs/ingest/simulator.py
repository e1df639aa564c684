"""A seeded, realistic synthetic live-commerce broadcast: comments and room events, for demos, tests,
benchmarks and operator drills.

The picture is an apparel shop's evening show (Douyin/Taobao style). A **rundown** of products goes on air in
turn, each with a link number, price, sizes and colours; every product segment follows the same arc::

    intro ─ 扣1 prompt → kou1_burst ─ pitch ─ coupon announcement → coupon_burst (orders!) ─ tail

Comments mostly reference the product on air ("2号有S码吗", "165/110斤穿什么码", "券在哪领"). Over the whole
show a **shipping-delay complaint wave** (logistics questions escalating to 骗子/12315) and a **spam-bot
raid** (a handful of bot accounts flooding 加V/威信/QQ/links with disguises) are overlaid in their windows.
Intents come in natural proportions (chit-chat ≈ half, then product and price questions, buy signals, the
service intents, a few % complaints and spam); within an intent a few question *families* take most of the
volume (many users asking "有S码吗" in small variations) and the rest is a long tail, partly unique lines.
Viewers are a stable pool with Zipf-ish activity, nicknames (a few deliberately nasty ones with ``<script>``
and emoji, to exercise the console's escaping), ids and member tiers.

Everything is drawn from ``random.Random(seed)``: the same seed (and parameters) gives the same records,
ids and offsets; every call to :meth:`BroadcastSimulator.timeline` or
:meth:`~BroadcastSimulator.generate_comments` starts the same broadcast afresh. Arrivals are a Poisson process
whose rate is modulated by the phases and normalised so the long-run average is ``rate`` comments/s
(events come on top). The ground truth rides in ``Comment.extras``: ``sim_intent`` (a taxonomy intent),
``sim_phase`` (where in the show) and ``sim_q`` (the question family, for clustering checks).

Generation is cheap (phrase variants are pre-built per product): well above 50,000 comments/s on one core.

:class:`SimulatorSource` plays a broadcast into an :class:`~livecs.ingest.base.IngestSink` at real pace, N×
or as fast as possible; :func:`write_jsonl` writes one in the JSONL wire format of
:mod:`livecs.ingest.validate` for replays.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from livecs.ingest.base import IngestSink, Source
from livecs.ingest.pacing import PacedSubmitter, Pacer
from livecs.models import Comment, EventKind, LiveEvent, MemberTier
from livecs.vocabulary import QUESTION_INTENTS

__all__ = [
    "DEFAULT_RUNDOWN",
    "INTENTS",
    "PHASES",
    "BroadcastSimulator",
    "PlannedPhase",
    "Product",
    "SimulatorConfig",
    "SimulatorSource",
    "record_to_wire",
    "write_jsonl",
]

INTENTS: tuple[str, ...] = (
    "product",
    "price_promo",
    "order",
    "logistics",
    "payment",
    "after_sales",
    "complaint",
    "buy_signal",
    "chitchat",
    "spam",
)

#: phases of one product segment, in order
SEGMENT_PHASES: tuple[str, ...] = ("intro", "kou1_burst", "pitch", "coupon_burst", "tail")
#: every value ``extras["sim_phase"]`` can take
PHASES: tuple[str, ...] = (*SEGMENT_PHASES, "complaint_wave", "spam_raid")


# ─────────────────────────────────────────────── rundown ───────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Product:
    """One product of the rundown, as the streamer presents it."""

    link: int  # 链接号 in the shopping bag
    name: str  # full listing name
    short: str  # what viewers call it (卫衣, 羽绒服…)
    price: float  # live price after the coupon
    original_price: float
    sizes: tuple[str, ...]
    colors: tuple[str, ...]
    coupon: int  # yuan off announced in the coupon phase
    questions: tuple[str, ...] = ()  # product-specific questions viewers ask

    @property
    def sku_prefix(self) -> str:
        return f"L{self.link}"


DEFAULT_RUNDOWN: tuple[Product, ...] = (
    Product(
        1, "加绒连帽卫衣 宽松百搭", "卫衣", 89, 199, ("S", "M", "L", "XL", "2XL"),
        ("灰色", "黑色", "杏色", "雾霾蓝"), 20,
        ("加绒厚不厚", "卫衣会起球吗", "帽子能拆吗", "是纯棉的吗", "洗了会缩水吗", "里面绒会掉吗",
         "oversize的吗", "袖子长不长"),
    ),
    Product(
        2, "90白鸭绒短款羽绒服", "羽绒服", 299, 699, ("S", "M", "L", "XL"), ("黑色", "奶白", "燕麦色"), 50,
        ("充绒量多少", "含绒量多少", "会钻绒吗", "东北能穿吗", "零下十度够不够", "是鸭绒还是鹅绒",
         "帽子毛领能拆吗", "有吊牌吗", "是国标的吗"),
    ),
    Product(
        3, "高腰直筒牛仔裤 显瘦", "牛仔裤", 79, 159, ("25", "26", "27", "28", "29", "30", "31", "32"),
        ("浅蓝", "深蓝", "黑色"), 10,
        ("有弹力吗", "裤长多少", "显腿粗吗", "小个子会拖地吗", "会掉色吗", "腰围多少", "梨形身材能穿吗",
         "是九分的吗"),
    ),
    Product(
        4, "羊毛混纺阔腿裤 垂感", "阔腿裤", 119, 259, ("S", "M", "L", "XL"), ("黑色", "灰色", "咖色"), 20,
        ("羊毛含量多少", "扎不扎腿", "会起球吗", "有内衬吗", "垂感好吗", "秋天穿热不热"),
    ),
    Product(
        5, "圆领打底针织衫", "针织衫", 59, 129, ("S", "M", "L"), ("白色", "黑色", "酒红", "焦糖色"), 10,
        ("透不透", "领口会变形吗", "扎人吗", "是修身的吗", "白色透吗", "能单穿吗"),
    ),
    Product(
        6, "双面羊绒大衣 长款", "大衣", 599, 1599, ("S", "M", "L"), ("驼色", "黑色", "灰色"), 100,
        ("羊绒含量多少", "是双面呢吗", "有多长", "小个子穿着合适吗", "会掉毛吗", "干洗还是水洗", "重不重"),
    ),
    Product(
        7, "加厚保暖中筒袜 5双装", "袜子", 19.9, 59, ("均码",), ("混色", "黑色", "肤色"), 5,
        ("是棉的吗", "男生能穿吗", "会掉毛吗", "一包几双", "脚大能穿吗"),
    ),
    Product(
        8, "珊瑚绒睡衣套装 加厚", "睡衣", 99, 239, ("M", "L", "XL", "2XL"), ("粉色", "浅灰", "藏青"), 20,
        ("会掉毛吗", "起静电吗", "裤脚是收口的吗", "孕妇能穿吗", "男款有吗", "洗了掉色吗"),
    ),
)  # fmt: skip


# ─────────────────────────────────────────────── tunables ──────────────────────────────────────────────


class SimulatorConfig(BaseModel):
    """Tunables of the broadcast; the defaults give a busy, believable room."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # segment layout (a product's time on air is horizon / len(rundown), clamped)
    min_segment_s: float = Field(20.0, gt=0)
    max_segment_s: float = Field(240.0, gt=0)
    kou1_at: float = Field(0.25, ge=0, lt=1, description="fraction of the segment where 扣1 is called")
    kou1_frac: float = Field(0.12, gt=0, description="burst length as a fraction of the segment")
    kou1_min_s: float = 3.0
    kou1_max_s: float = 20.0
    coupon_at: float = Field(0.55, ge=0, lt=1, description="fraction of the segment where the coupon drops")
    coupon_frac: float = Field(0.2, gt=0)
    coupon_min_s: float = 4.0
    coupon_max_s: float = 40.0
    tail_frac: float = Field(0.2, gt=0, description="after the coupon burst: buy signals still coming in")

    # comment-rate multipliers per phase (before normalising the average to ``rate``)
    phase_rate: dict[str, float] = Field(
        default_factory=lambda: {
            "intro": 1.0,
            "kou1_burst": 3.5,
            "pitch": 1.0,
            "coupon_burst": 2.8,
            "tail": 1.3,
        }
    )

    # overlays, as fractions of the planned duration; rates relative to the base rate
    complaint_wave_at: float = 0.55
    complaint_wave_frac: float = 0.2
    complaint_wave_min_s: float = 5.0
    complaint_wave_max_s: float = 600.0
    complaint_wave_rate: float = 0.4
    complaint_wave_users: int = Field(60, ge=1, description="customers waiting for their parcel (per 30/s)")
    spam_raid_at: float = 0.30
    spam_raid_frac: float = 0.05
    spam_raid_min_s: float = 3.0
    spam_raid_max_s: float = 60.0
    spam_raid_rate: float = 1.0
    spam_bots: int = Field(6, ge=1)

    # intent mix per segment phase (weights, normalised)
    intent_mix: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "intro": {"chitchat": 46, "product": 26, "price_promo": 9, "buy_signal": 3, "logistics": 5,
                      "order": 3, "payment": 1.5, "after_sales": 3, "complaint": 2, "spam": 1.5},
            "kou1_burst": {"chitchat": 80, "product": 8, "price_promo": 4, "buy_signal": 4, "logistics": 1,
                           "order": 0.5, "after_sales": 0.5, "complaint": 0.5, "spam": 0.5},
            "pitch": {"chitchat": 45, "product": 22, "price_promo": 13, "buy_signal": 5, "logistics": 5,
                      "order": 3, "payment": 1.5, "after_sales": 3, "complaint": 2, "spam": 1.5},
            "coupon_burst": {"chitchat": 32, "product": 8, "price_promo": 26, "buy_signal": 22,
                             "logistics": 2, "order": 3, "payment": 4, "after_sales": 0.5, "complaint": 0.5,
                             "spam": 1},
            "tail": {"chitchat": 44, "product": 16, "price_promo": 9, "buy_signal": 10, "logistics": 6,
                     "order": 4, "payment": 2, "after_sales": 4, "complaint": 2.5, "spam": 1.5},
        }
    )  # fmt: skip
    # question families boosted in a phase (family key -> weight multiplier)
    family_boost: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "kou1_burst": {"chitchat.kou1": 40.0, "buy_signal.want": 3.0},
            "coupon_burst": {"price_promo.coupon_where": 4.0, "price_promo.coupon_fail": 3.0,
                             "price_promo.after_coupon": 3.0, "buy_signal.bought": 3.0,
                             "payment.fail": 2.0, "chitchat.missed": 4.0},
            "tail": {"buy_signal.bought": 2.0, "logistics.when": 1.5},
        }
    )  # fmt: skip

    # room events: share of arrivals per comment, and their mix per phase
    event_ratio: dict[str, float] = Field(
        default_factory=lambda: {"intro": 0.08, "kou1_burst": 0.06, "pitch": 0.08, "coupon_burst": 0.2,
                                 "tail": 0.15}
    )  # fmt: skip
    event_mix: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "intro": {"like": 55.0, "gift": 15.0, "follow": 22.0, "order_paid": 8.0},
            "kou1_burst": {"like": 60.0, "gift": 10.0, "follow": 20.0, "order_paid": 10.0},
            "pitch": {"like": 50.0, "gift": 15.0, "follow": 20.0, "order_paid": 15.0},
            "coupon_burst": {"like": 12.0, "gift": 5.0, "follow": 8.0, "order_paid": 75.0},
            "tail": {"like": 30.0, "gift": 10.0, "follow": 15.0, "order_paid": 45.0},
        }
    )
    order_after_buy_signal: float = Field(
        0.5, ge=0, le=1, description="P(a 拍了 comment is followed by its order)"
    )
    ask_again_prob: float = Field(0.04, ge=0, le=1, description="P(the same viewer asks a question again)")
    ask_again_after_s: float = Field(20.0, gt=0, description="minimum wait before asking again")

    # the room's audience: a ``viewers`` event (online count, cumulative watched) every ``online_every_s``
    online_every_s: float = Field(10.0, ge=0, description="seconds between viewer counts (0 = none)")
    online_per_user: float = Field(
        4.0, gt=0, description="people online at full audience per viewer of the commenting pool"
    )
    online_ramp_frac: float = Field(0.15, ge=0, le=1, description="audience builds up over this share…")
    online_ramp_max_s: float = Field(300.0, ge=0, description="…of the show, at most this long")
    online_start_share: float = Field(0.35, gt=0, le=1, description="audience at the start, of the full one")
    online_phase_boost: dict[str, float] = Field(
        default_factory=lambda: {
            "intro": 0.0,
            "kou1_burst": 0.12,
            "pitch": 0.05,
            "coupon_burst": 0.22,
            "tail": 0.08,
        },
        description="extra audience while a phase is on (a 扣1 call or a coupon draws people in)",
    )
    online_follow: float = Field(
        0.5, gt=0, le=1, description="how fast the count follows its target per tick"
    )
    online_noise: float = Field(0.02, ge=0, description="relative jitter of each count")
    online_stay_s: float = Field(240.0, gt=0, description="mean stay: people leave and others come in")

    # viewers
    users_per_rate: float = Field(60.0, gt=0, description="pool size = rate × this, clamped")
    min_users: int = 200
    max_users: int = 30_000
    zipf_exponent: float = 1.0
    zipf_offset: float = 25.0
    nasty_nickname_users: int = Field(6, ge=0, description="active viewers with <script>-like nicknames")

    # small decorations (prefix 主播/宝宝…, suffix ？？/emoji) on top of the phrase variants
    prefix_prob: float = 0.1
    suffix_prob: float = 0.3


DEFAULT_CONFIG = SimulatorConfig()


# ─────────────────────────────────────────────── phrase banks ──────────────────────────────────────────
# Each family: (key, weight, variants). Earlier variants are the more common spellings (picked with a skew).
# Static placeholders filled per product: {n} short name, {link}, {price}, {orig}, {coupon}, {cheap}, {next}.
# Dynamic ones drawn per comment: {size} {sizel} {color} (of the product on air), {h} {w} height/weight,
# {d} days, {oid} order tail, {vx} {qq} {url} contacts, {hi} {wow} chit-chat fragments.

_Family = tuple[str, float, tuple[str, ...]]

_BANK: dict[str, tuple[_Family, ...]] = {
    "product": (
        ("has_size", 12, ("有{size}码吗", "{size}码有吗", "有没有{size}码", "{size}码还有吗", "{sizel}码有吗",
                          "有{size}吗", "{size}还有没", "{size}码没了？", "有{sizel}马吗", "{size}码有货吗",
                          "{link}号有{size}码吗", "{n}有{size}码吗", "{size}码呢", "还有{size}码么")),
        ("size_for_body", 9, ("{h}/{w}斤穿什么码", "{h} {w}斤拍啥码", "身高{h}体重{w}斤 选哪个码",
                              "{w}斤穿什么码", "{h}cm{w}斤 {size}码可以吗", "{w}斤能穿{size}吗",
                              "{h}的个子{w}斤穿多大", "我{w}斤 {size}会不会小", "{h}/{w} 什么码",
                              "{w}斤的宝子拍几码", "{h} {w} 拍{size}还是大一码", "我{h} {w}斤 求推荐尺码")),
        ("has_color", 5, ("{color}还有吗", "有{color}吗", "{color}有货吗", "{color}的还有没有",
                          "{color}没了吗", "想要{color} 还有吗", "{color}有{size}吗",
                          "{link}号{color}还有吗")),
        ("which_link", 5, ("几号链接", "几号链接啊", "{n}是几号", "这个是几号链接", "主播身上这件几号",
                           "几号连接", "链接在哪", "{n}几号链接呀", "在几号", "身上穿的是几号")),
        ("stock", 3, ("还有货吗", "还有库存吗", "{size}码什么时候补货", "没货了？", "怎么显示无货",
                      "还有吗", "能补货吗", "{color}什么时候补")),
        ("spec", 5, ()),  # filled from Product.questions
        ("fit", 3, ("偏大还是偏小", "{n}偏大还是偏小", "码数标准吗", "是宽松的还是修身的", "正码吗",
                    "要拍大一码吗", "肩宽的能穿吗", "小个子穿着合适吗", "胯宽能穿吗", "胖mm能穿吗")),
        ("streamer_size", 2, ("主播有多高多重", "主播穿的是几码呀", "主播身上是{size}吗", "主播多高 穿的啥码",
                              "模特穿的几码", "主播多少斤")),
        ("show_me", 2, ("再看下{color}", "{color}上身看看", "能试下{color}吗", "转一圈看看背面", "看下细节",
                        "能拉近看看吗", "再展示一下{link}号", "看看面料", "试下{size}码看看")),
        ("bare_link", 1.5, ("{link}号", "{link}号链接", "{link}号有吗", "{link}号呢")),
        ("quality", 1.5, ("是正品吗", "有吊牌吗", "质量怎么样", "会不会有味道", "{n}质量好吗",
                          "和实体店一样吗")),
    ),
    "price_promo": (
        ("how_much", 8, ("多少钱", "{n}多少钱", "{link}号多少钱", "价格多少", "jg多少", "啥价", "多钱",
                         "这个怎么卖", "{n}什么价", "多少米", "{size}码多少钱", "价格呢", "jg",
                         "{link}号jg")),
        ("coupon_have", 6, ("有券吗", "有没有券", "有优惠券吗", "有yhq吗", "还有券吗", "券呢", "有没有优惠",
                            "今天有yhq吗", "新人券有吗", "券没了？")),
        ("coupon_where", 5, ("怎么领券", "券在哪领", "yhq在哪", "优惠卷在哪领", "领券入口在哪", "点哪里领券",
                             "怎么领yhq", "{coupon}元券在哪", "券在哪里啊", "在哪领券")),
        ("coupon_fail", 3, ("领不到券", "券领了用不了", "券用不了", "领了券怎么没减", "显示券已抢光",
                            "券怎么用不上", "优惠券不能用啊", "下单没减{coupon}")),
        ("after_coupon", 3, ("券后多少钱", "到手多少", "到手价多少", "是{price}吗", "到手{price}吗",
                             "原价{orig}?", "用券后{price}对吗", "最后多少钱")),
        ("stack", 2, ("满减能叠加吗", "券能和满减一起用吗", "两张券能一起用吗", "{coupon}元券能叠加吗",
                      "跨店满减能用吗")),
        ("multi", 2, ("买两件有优惠吗", "两件打折吗", "拍两件能便宜吗", "买三件送啥", "两件包邮吗 便宜点")),
        ("cheaper", 3, ("还会降价吗", "能便宜点吗", "主播再便宜点", "价格能再低点吗", "还能再降吗",
                        "比昨天贵了", "太贵了吧", "有点贵", "{price}有点贵啊", "拼夕夕才{cheap}",
                        "别家才卖{cheap}", "双十一会更便宜吗")),
        ("gift", 2, ("送赠品吗", "有赠品吗", "赠品是什么", "送袜子吗", "有小礼物吗", "买了送啥")),
        ("member", 1, ("会员有折扣吗", "粉丝价多少", "粉丝团有专属券吗", "新人券在哪", "粉丝券怎么领")),
    ),
    "order": (
        ("how_to", 4, ("怎么下单", "怎么拍", "在哪下单", "怎么买啊", "点哪里买", "拍不了", "找不到链接",
                       "链接点不进去", "规格选不了")),
        ("change", 3, ("拍错了能改吗", "拍错码了怎么改", "颜色拍错了", "能改地址吗", "地址写错了",
                       "电话填错了", "收货地址能改吗", "拍错码了 想换{size} 还没发货能改吗")),
        ("cancel", 2, ("能取消订单吗", "怎么取消订单", "拍多了 取消一件", "不想要了能取消吗", "拍重复了")),
        ("merge", 1, ("能合并付款吗", "两单能一起发吗", "几件能合并吗", "和昨天的单一起发行吗")),
        ("hold", 2, ("限购几件", "能拍几件", "帮我留一件{size}", "给我留一件{color}", "能先拍后付吗",
                     "留一件{color}{size} 等下拍")),
        ("status", 1, ("订单显示待发货", "订单怎么查不到", "我的订单尾号{oid} 帮看下",
                       "订单显示已取消 我没取消啊")),
    ),
    "logistics": (
        ("when", 8, ("这单什么时候发货", "几天发货", "多久发货", "啥时候发", "fh时间", "什么时候fh",
                     "今天能发吗", "多久能到", "拍完了什么时候发", "几天到", "发货快吗", "48小时发吗",
                     "明天能发吗")),
        ("courier", 4, ("发什么快递", "发顺丰吗", "发啥快递", "能发顺丰吗", "中通还是圆通", "是京东发货吗")),
        ("free_ship", 4, ("包邮吗", "包不包邮", "新疆包邮吗", "西藏发吗", "偏远地区发吗", "运费多少",
                          "港澳能发吗", "海南包邮吗", "内蒙包邮不")),
        ("slow", 3, ("三天了还没发货吗", "物流一直没动", "怎么还没发货", "拍了{d}天了还没发",
                     "单号查不到物流", "物流好几天没更新了", "还没发货 急用", "催一下发货 订单尾号{oid}")),
        ("where_from", 1, ("从哪里发货", "哪里发货", "广州发吗", "哪个仓发")),
    ),
    "payment": (
        ("huabei", 4, ("能用花呗吗", "可以花呗分期吗", "支持分期吗", "分期免息吗", "能用信用卡吗",
                       "可以用微信付吗", "花呗能用吗", "hb可以吗")),
        ("fail", 4, ("付款失败", "付不了款", "支付不了怎么回事", "一直付款失败", "付款页面卡住了",
                     "扣了两次钱", "付款了显示未支付", "付款失败了", "支付一直转圈")),
        ("other", 1, ("能货到付款吗", "付款能开发票吗", "可以找人代付吗", "定金什么时候付", "尾款怎么付")),
    ),
    "after_sales": (
        ("returns", 5, ("七天无理由吗", "能退吗", "不合适能退吗", "支持七天无理由退换吗", "怎么退货",
                        "退货运费谁出", "有运费险吗", "退换包运费吗", "7天无理由吗")),
        ("exchange", 3, ("码数不合适能换吗", "能换码吗", "换货怎么弄", "收到大了能换小一码吗", "能换颜色吗")),
        ("defect", 2, ("收到的{n}起球了", "拉链坏了能换吗", "衣服有线头", "收到有色差", "洗了一次就掉色",
                       "少发了一件", "发错颜色了 我要的{color}", "收到的有污渍 能换吗")),
        ("refund", 2, ("退款什么时候到", "退货寄回去了钱还没退", "退款几天到账", "退货单号填哪里")),
        ("warranty", 1, ("羽绒服钻绒能售后吗", "保修吗", "洗坏了能修吗")),
    ),
    "complaint": (
        ("ignored", 3, ("主播怎么不理人", "问了好几遍了没人回", "客服呢 怎么没人理", "只回别人的 看不到我吗",
                        "客服回复太慢了", "问八遍了 没人理", "客服只会说亲亲稍等")),
        ("accuse", 3, ("骗子", "假货吧", "黑心商家", "质量这么差还卖", "坑人", "又被割韭菜了",
                       "货不对板 骗人", "上次买的穿一次就破了 垃圾", "图片和实物差太多 骗子",
                       "主播睁眼说瞎话")),
        ("threat", 2, ("再不处理我就投诉了", "差评", "举报了", "12315见", "我要投诉", "不退款就投诉",
                       "已经给差评了")),
    ),
    "buy_signal": (
        ("bought", 10, ("拍了", "已拍", "拍了拍了", "已拍已拍", "已下单", "买了", "下单了", "拍了{n}",
                        "拍了{size}码", "{link}号已拍", "已拍{n}", "已拍 {color}", "拍了两件", "付了",
                        "已付款", "抢到了", "抢到了！！", "拍了一件{color}")),
        ("want", 6, ("要了", "要要要", "冲", "冲冲冲", "上车", "想要", "我要", "我要{color}", "要{size}码",
                     "等上链接", "蹲链接", "蹲", "安排", "必须拿下", "买买买", "已加购")),
        ("many", 1, ("买了三件", "拍了两件 给我妈也买一件", "回购了", "又拍了一件", "全家一人一件")),
    ),
    "chitchat": (
        ("greet", 8, ("来了", "来了来了", "主播晚上好", "晚上好", "我来啦", "又来了", "打卡", "打卡打卡",
                      "报到", "新来的", "第一次来", "刚来 卖到几号了", "晚上好呀家人们", "hello",
                      "来啦宝宝们", "冒泡")),
        ("praise", 8, ("主播好美", "太好看了吧", "绝了", "好好看", "{n}好好看", "这个颜色绝了", "主播好瘦",
                       "主播皮肤真好", "显瘦", "{color}好看", "爱了爱了", "yyds", "真不错", "种草了",
                       "好喜欢", "主播声音好好听", "这套绝绝子", "主播穿啥都好看")),
        ("kou1", 3, ("1", "1", "11", "111", "1111", "11111", "扣1", "111111", "1111111111", "扣1扣1", "1️⃣",
                     "一", "扣了", "1111111")),
        ("react", 5, ("哈哈哈", "哈哈哈哈哈", "hhh", "笑死", "666", "6666", "牛", "好家伙", "啊啊啊啊",
                      "🤣🤣🤣", "[捂脸]", "[赞][赞]", "？？？", "卡了", "声音有点小", "有点卡", "绝绝子")),
        ("banter", 5, ("主播喝口水", "主播辛苦了", "背景音乐叫啥", "看看不买", "就看看", "纯路过",
                       "主播是哪里人", "下一个上什么", "等{next}", "什么时候上{next}", "催更{next}",
                       "主播今天好开心", "小助理也好看", "主播说话好好笑", "今天好冷啊")),
        ("combo", 4, ("{hi} {wow}", "{wow}{wow}", "{hi}{hi}", "{wow} {hi}")),
        ("review", 2, ("上次买的{n}收到了 很好穿", "买过 质量不错", "回购第三次了", "上次的卫衣很舒服 推荐",
                       "收到了 比图片好看", "穿了一冬天没起球")),
        ("emoji", 3, ("❤️❤️❤️", "👍👍", "🌹", "😍😍😍", "🔥🔥🔥", "[比心]", "[玫瑰][玫瑰]", "💯", "👏👏👏")),
        ("missed", 1, ("没抢到", "手慢了", "没抢到 还会上吗", "秒没了", "我网太卡了", "好快 一下就没了")),
    ),
    "spam": (
        ("insult", 2, ("你们都是托", "托太多了吧", "楼上有病吧", "看直播的都是傻子", "刷屏的闭嘴",
                       "一群托在这演")),
        ("flood", 2, ("asdfghjkl", "哒哒哒哒哒哒哒哒哒哒哒", "。。。。。。。。。。。。",
                      "啊啊啊啊啊啊啊啊啊啊啊啊啊啊啊", "dddddddddddddd", "6666666666666666666666")),
        ("ad", 3, ("全网最低价看我主页", "某宝搜 优选汇 同款便宜一半", "兼职日结 有意私我", "加V领福利 {vx}",
                   "宝妈在家也能赚钱 了解私我", "q{qq} 低价出同款", "看我主页 有惊喜", "{url} 全场一折")),
    ),
}  # fmt: skip

# the shipping-delay wave: escalates from the first list to the second as the window goes on
_WAVE_LOGISTICS: tuple[str, ...] = (
    "这单什么时候发货啊", "拍了{d}天了还没发", "我的单还没发货", "怎么还不发货", "物流一直不动",
    "发货了吗 等着穿呢", "订单一直待发货", "今天能发吗 都{d}天了", "单号尾号{oid} 啥时候发",
    "说好48小时发货的 还没发吗", "怎么还没物流信息", "急用 能不能快点发",
)  # fmt: skip
_WAVE_COMPLAINTS: tuple[str, ...] = (
    "三天了还不发货", "{d}天了还不发货 骗子", "拍了一周了还不发 骗子吧", "不发货是吧 投诉",
    "再不发货我就打12315了", "说好48小时发货呢 骗子", "不发货还一直卖 什么意思", "客服不回 也不发货 真行",
    "已经投诉了", "退款！！不等了", "黑店 还不发货", "等了{d}天 物流都没有 骗子", "到底发不发货 给个准话",
    "骗子店铺 大家别买", "天天说发货 一件没发", "12315已经打了", "还在这卖 先把我的发了",
    "三天了还不发货 骗子",
)  # fmt: skip

# a raid bot's lines; {contact} is the bot's own handle, written with a disguise
_RAID_LINES: tuple[str, ...] = (
    "加V{contact}领福利", "威信{contact} 低价同款", "➕薇❤ {contact}", "VX：{contact} 一件代发",
    "看我主页 有惊喜", "点我头像 进群领券", "同款便宜一半 {url}", "全场1折 {url}", "dd我 {contact}",
    "私我 内部价", "加我 带你赚钱 日入300", "q q {qq} 内部券", "扣扣{qq} 低价", "wei xin {contact} 同款货源",
    "主页有链接 便宜一半", "{contact} 加我领红包", "+v {contact} 进群", "关注我 私信发你链接",
)  # fmt: skip
_BOT_NICKNAMES: tuple[str, ...] = (
    "福利姐姐💋",
    "优惠君",
    "小雅同城",
    "领券助手",
    "一元秒杀",
    "日结兼职",
    "甜心🍬妹妹",
    "省钱小能手",
    "内部券发放",
    "用户9527001",
)

_HI_FRAGMENTS: tuple[str, ...] = (
    "来了", "晚上好", "打卡", "主播好", "宝宝们好", "我来啦", "嗨嗨", "又见面了", "下班来看", "刚下班",
    "躺床上看", "带娃看直播", "午夜场报到", "🙋",
)  # fmt: skip
_WOW_FRAGMENTS: tuple[str, ...] = (
    "主播好美", "好看", "绝了", "爱了", "❤️", "哈哈哈", "太可了", "冲", "666", "👍", "好喜欢", "yyds", "🌹",
    "真好看", "[比心]", "好温柔", "好飒",
)  # fmt: skip
_DAYS: tuple[str, ...] = ("3", "三", "4", "四", "5", "五", "2", "两", "6", "七")
_URLS: tuple[str, ...] = (
    "www.xx-mall.cc",
    "t.cn/A6hK2x",
    "http://dwz.cn/8Yq",
    "tb.cn.vip/x9",
    "ｗｗｗ.ｙｈ88.ｃｃ",
)

_PREFIXES: tuple[str, ...] = ("主播", "主播主播", "宝宝", "姐姐", "小姐姐", "请问", "问下", "家人们", "助理")
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "question": (
        "？",
        "?",
        "??",
        "？？？",
        "呀",
        "呢",
        "啊",
        "~",
        "😭",
        "🥺",
        "[疑问]",
        "[捂脸]",
        " 急",
        "！",
    ),
    "complaint": ("！", "!!!", "！！！", "😡", "[发怒]", "？？", " 无语", " 服了", "😤"),
    "buy_signal": ("!", "！！", "🔥", "[比心]", "😍", "~", " 哈哈", "✌️"),
    "chitchat": ("😂", "❤️", "👍", "[比心]", "[玫瑰]", "~", "!", " 哈哈", "🌹🌹", "💕"),
}
_ASK_AGAIN: tuple[str, ...] = (
    "？？",
    "？？？",
    " 有人吗",
    " 怎么不回",
    " 再问一遍",
    " 急",
    " 问了好几遍了",
    "??",
)

# nicknames
_NICK_CORES: tuple[str, ...] = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "猫", "兔子", "橘子", "桃子", "柚子", "奶茶",
    "咖啡", "星星", "月亮", "云朵", "小鱼", "芒果", "可乐", "糖糖", "豆豆", "果果", "Lily", "Coco", "狐狸",
    "团子",
)  # fmt: skip
_NICK_PRE: tuple[str, ...] = ("小", "大", "阿", "老", "", "", "")
_NICK_END: tuple[str, ...] = (
    "", "", "酱", "君", "妹妹", "哥", "姐", "宝", "呀", "🍑", "🌸", "✨", "_", "123", "2023", "_88", "🐱",
    "💕", "66",
)  # fmt: skip
_NICK_ADJ: tuple[str, ...] = (
    "爱吃草莓的",
    "不想上班的",
    "减肥中的",
    "快乐的",
    "会飞的",
    "熬夜的",
    "暴躁的",
    "佛系",
)
_NICK_NOUN: tuple[str, ...] = ("小兔", "猪猪", "仙女", "打工人", "宝妈", "大叔", "鱼", "喵", "少女", "老阿姨")
#: nicknames that must reach the console as text, never markup (and emoji/odd characters)
NASTY_NICKNAMES: tuple[str, ...] = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert('xss')>",
    '"><svg onload=alert(1)>小可爱',
    "小甜甜</span><b>粗体</b>",
    "'; DROP TABLE comments;--",
    "😈<iframe src=javascript:alert(1)>😈",
    "{{constructor.constructor('alert(1)')()}}",
    "&lt;b&gt;不是粗体&lt;/b&gt;",
    "🙃‮反着写的名字",
    "javascript:alert(document.cookie)",
)

_GIFTS: tuple[tuple[str, int, float], ...] = (  # name, value in 抖币, weight
    ("小心心", 1, 40), ("玫瑰", 1, 25), ("棒棒糖", 9, 10), ("小星星", 10, 8), ("爱的纸鹤", 99, 5),
    ("墨镜", 199, 3), ("鲜花束", 520, 2), ("跑车", 1200, 0.6), ("嘉年华", 30000, 0.1),
)  # fmt: skip

_TIER_WEIGHTS_ACTIVE = (40.0, 35.0, 13.0, 8.0, 4.0)  # NONE…SVIP for the 50 most active viewers
_TIER_WEIGHTS = (76.0, 19.0, 3.5, 1.2, 0.3)
_FAN_LEVEL_RANGE = {0: (0, 0), 1: (1, 15), 2: (5, 25), 3: (12, 35), 4: (20, 50)}


# ─────────────────────────────────────────────── building blocks ───────────────────────────────────────


@dataclass(frozen=True, slots=True)
class PlannedPhase:
    """A stretch of the show: a segment phase of one product, or an overlay window (wave, raid)."""

    start: float  # offset seconds
    end: float
    phase: str
    link: int = 0  # product on air (0 for overlay windows)
    product: str = ""


@dataclass(slots=True)
class _Viewer:
    user_id: str
    nickname: str
    tier: MemberTier
    fan_level: int


_SlotFn = Callable[[random.Random], str]
# a phrase variant: a finished string, or a template plus the dynamic slots it needs
_Variant = str | tuple[str, tuple[tuple[str, _SlotFn], ...]]


def _cumulative(weights: Sequence[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += max(0.0, w)
        out.append(total)
    return out


def _contact_handle(rng: random.Random) -> str:
    letters = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz") for _ in range(rng.randint(3, 6)))
    return letters + str(rng.randint(100, 99999))


def _qq_number(rng: random.Random) -> str:
    qq = str(rng.randint(10**8, 10**10 - 1))
    style = rng.random()
    if style < 0.2:
        return " ".join(qq)  # spaced out to dodge filters
    if style < 0.5:
        return qq.translate(str.maketrans("0123456789", "０１２３４５６７８９"))  # full-width
    return qq


def _disguise(handle: str, rng: random.Random) -> str:
    style = rng.random()
    if style < 0.15:
        return " ".join(handle)
    if style < 0.4:
        return handle.upper()
    if style < 0.55:
        return "⭐".join((handle[:3], handle[3:]))
    return handle


_GLOBAL_SLOTS: dict[str, _SlotFn] = {
    "h": lambda r: str(r.randint(150, 180)),
    "w": lambda r: str(r.randrange(84, 176, 2)),
    "d": lambda r: _DAYS[int(r.random() * len(_DAYS))],
    "oid": lambda r: f"{r.randrange(10000):04d}",
    "vx": _contact_handle,
    "qq": _qq_number,
    "url": lambda r: _URLS[int(r.random() * len(_URLS))],
    "hi": lambda r: _HI_FRAGMENTS[int(r.random() * len(_HI_FRAGMENTS))],
    "wow": lambda r: _WOW_FRAGMENTS[int(r.random() * len(_WOW_FRAGMENTS))],
}


def _pick_from(options: Sequence[str]) -> _SlotFn:
    n = len(options)
    return lambda r: options[int(r.random() * n)]


def _compile_variant(template: str, static: dict[str, str], product_slots: dict[str, _SlotFn]) -> _Variant:
    for key, value in static.items():
        template = template.replace("{" + key + "}", value)
    if "{" not in template:
        return template
    slots: list[tuple[str, _SlotFn]] = []
    for key, fn in (*product_slots.items(), *_GLOBAL_SLOTS.items()):
        if "{" + key + "}" in template:
            slots.append((key, fn))
    return (template, tuple(slots))


def _render(variant: _Variant, rng: random.Random) -> str:
    if isinstance(variant, str):
        return variant
    template, slots = variant
    return template.format_map({key: fn(rng) for key, fn in slots})


@dataclass(slots=True)
class _FamilyTable:
    """Question families of one intent for one product in one phase: pick one, then a variant."""

    cum: list[float]
    keys: list[str]
    variants: list[tuple[_Variant, ...]]

    def pick(self, rng: random.Random) -> tuple[str, str]:
        i = bisect_right(self.cum, rng.random() * self.cum[-1])
        variants = self.variants[i]
        r = rng.random()
        return self.keys[i], _render(variants[int(r * r * len(variants))], rng)


def _fmt_price(price: float) -> str:
    return f"{price:g}"


def _product_families(
    product: Product, next_product: Product
) -> dict[str, list[tuple[str, float, tuple[Any, ...]]]]:
    """The phrase banks compiled for one product: intent -> [(family key, weight, variants)]."""
    static = {
        "n": product.short,
        "link": str(product.link),
        "price": _fmt_price(product.price),
        "orig": _fmt_price(product.original_price),
        "coupon": str(product.coupon),
        "cheap": _fmt_price(round(product.price * 0.6)),
        "next": next_product.short,
    }
    sizes = product.sizes
    product_slots: dict[str, _SlotFn] = {
        "size": _pick_from(sizes),
        "sizel": _pick_from([s.lower() for s in sizes]),
        "color": _pick_from(product.colors),
    }
    out: dict[str, list[tuple[str, float, tuple[Any, ...]]]] = {}
    for intent, families in _BANK.items():
        compiled: list[tuple[str, float, tuple[Any, ...]]] = []
        for key, weight, templates in families:
            full_key = f"{intent}.{key}"
            if key == "spec":
                templates = product.questions
            if any(size.endswith("码") for size in sizes):  # 均码: never "均码码"
                templates = tuple(
                    t.replace("{size}码", "{size}").replace("{sizel}码", "{sizel}") for t in templates
                )

            if not templates:
                continue
            if key == "has_size":
                if len(sizes) < 2:
                    continue
                # one family per size; the smallest and the largest are asked about most
                size_weights = [
                    3.0 if i == 0 else 2.0 if i == len(sizes) - 1 else 1.0 for i in range(len(sizes))
                ]
                total = sum(size_weights)
                for size, sw in zip(sizes, size_weights, strict=True):
                    size_static = {**static, "size": size, "sizel": size.lower()}
                    variants = tuple(_compile_variant(t, size_static, product_slots) for t in templates)
                    compiled.append((f"{full_key}:{size}", weight * sw / total, variants))
                continue
            if key == "has_color":
                color_weights = [2.0 if i == 0 else 1.0 for i in range(len(product.colors))]
                total = sum(color_weights)
                for color, cw in zip(product.colors, color_weights, strict=True):
                    color_static = {**static, "color": color}
                    variants = tuple(_compile_variant(t, color_static, product_slots) for t in templates)
                    compiled.append((f"{full_key}:{color}", weight * cw / total, variants))
                continue
            variants = tuple(_compile_variant(t, static, product_slots) for t in templates)
            compiled.append((full_key, weight, variants))
        out[intent] = compiled
    return out


class _PhaseMix:
    """Comments and events of one segment phase for one product."""

    __slots__ = (
        "event_cum",
        "event_kinds",
        "event_share",
        "intent_cum",
        "intents",
        "phase",
        "product",
        "question_share",
        "tables",
    )

    def __init__(
        self,
        phase: str,
        product: Product,
        families: dict[str, list[tuple[str, float, tuple[Any, ...]]]],
        cfg: SimulatorConfig,
    ) -> None:
        self.phase = phase
        self.product = product
        mix = cfg.intent_mix[phase]
        self.intents = [i for i in INTENTS if mix.get(i, 0) > 0]
        self.intent_cum = _cumulative([mix[i] for i in self.intents])
        self.question_share = sum(mix[i] for i in self.intents if i in QUESTION_INTENTS) / self.intent_cum[-1]
        boost = cfg.family_boost.get(phase, {})
        self.tables: list[_FamilyTable] = []
        for intent in self.intents:
            fams = families[intent]
            weights = [w * boost.get(key.split(":")[0], 1.0) for key, w, _ in fams]
            self.tables.append(
                _FamilyTable(_cumulative(weights), [k for k, _, _ in fams], [v for _, _, v in fams])
            )
        ratio = cfg.event_ratio.get(phase, 0.0)
        self.event_share = ratio / (1.0 + ratio)
        emix = cfg.event_mix.get(phase, {"like": 1.0})
        self.event_kinds = [EventKind(k) for k in emix]
        self.event_cum = _cumulative(list(emix.values()))


@dataclass(slots=True)
class _Interval:
    """A stretch with constant rates: a segment phase, maybe overlaid by the wave and/or the raid."""

    start: float
    end: float
    mix: _PhaseMix
    comment_rate: float  # relative comment rate of the phase
    arrival_rate: float  # relative arrival rate (phase comments + events + overlays)
    wave_rate: float  # relative comment rate of the complaint wave overlay (0 = none)
    raid_rate: float


# ─────────────────────────────────────────────── the simulator ─────────────────────────────────────────


class BroadcastSimulator:
    """A seeded synthetic broadcast. Pure and synchronous: the same arguments give the same records.

    ``rate`` is the long-run average of comments per second (events come on top); ``start_ts`` is the epoch
    of offset 0 (the wall clock at construction when ``None`` — ids, texts and offsets never depend on it).
    """

    def __init__(
        self,
        seed: int = 7,
        room: str = "demo",
        rate: float = 30.0,
        start_ts: float | None = None,
        platform: str = "sim",
        rundown: Sequence[Product] = DEFAULT_RUNDOWN,
        config: SimulatorConfig | None = None,
    ) -> None:
        if not rate > 0 or math.isinf(rate):
            raise ValueError(f"rate must be a positive number of comments per second, got {rate!r}")
        if not rundown:
            raise ValueError("the rundown needs at least one product")
        self.seed = seed
        self.room = room
        self.rate = float(rate)
        self.start_ts = time.time() if start_ts is None else float(start_ts)
        self.platform = platform
        self.rundown: tuple[Product, ...] = tuple(rundown)
        self.config = config or DEFAULT_CONFIG
        self._id_prefix = f"sim-{room}-{seed}-"
        cfg = self.config
        # phrase banks, compiled once per product and phase
        self._mixes: list[dict[str, _PhaseMix]] = []
        for i, product in enumerate(self.rundown):
            families = _product_families(product, self.rundown[(i + 1) % len(self.rundown)])
            self._mixes.append({phase: _PhaseMix(phase, product, families, cfg) for phase in SEGMENT_PHASES})
        self._build_viewers()

    # ── viewers ──
    def _build_viewers(self) -> None:
        cfg = self.config
        rng = random.Random(f"viewers/{self.seed}")
        n_users = int(min(cfg.max_users, max(cfg.min_users, self.rate * cfg.users_per_rate)))
        seen_ids: set[str] = set()
        viewers: list[_Viewer] = []
        for rank in range(n_users):
            uid = str(rng.randrange(10**10, 10**11))
            while uid in seen_ids:
                uid = str(rng.randrange(10**10, 10**11))
            seen_ids.add(uid)
            tier_weights = _TIER_WEIGHTS_ACTIVE if rank < 50 else _TIER_WEIGHTS
            tier = MemberTier(rng.choices(range(5), weights=tier_weights)[0])
            lo, hi = _FAN_LEVEL_RANGE[int(tier)]
            viewers.append(_Viewer(uid, self._nickname(rng), tier, rng.randint(lo, hi)))
        # a few nasty nicknames among reasonably active viewers, so every run shows them
        nasty_ranks = rng.sample(
            range(3, min(n_users, 120)), min(cfg.nasty_nickname_users, len(NASTY_NICKNAMES))
        )
        for name, rank in zip(NASTY_NICKNAMES, nasty_ranks, strict=False):
            viewers[rank].nickname = name
        self._viewers = viewers
        self._viewer_cum = _cumulative(
            [1.0 / (rank + cfg.zipf_offset) ** cfg.zipf_exponent for rank in range(n_users)]
        )
        # customers whose parcels are late (they make the complaint wave)
        n_wave = max(5, min(n_users // 3, int(cfg.complaint_wave_users * max(1.0, self.rate / 30.0) ** 0.5)))
        self._wave_viewers = rng.sample(viewers[10:], min(n_wave, n_users - 10))
        # raid bots: their own accounts and contact handles
        bot_names = rng.sample(_BOT_NICKNAMES, min(cfg.spam_bots, len(_BOT_NICKNAMES)))
        while len(bot_names) < cfg.spam_bots:
            bot_names.append(f"用户{rng.randrange(10**9, 10**10)}")
        self._bots: list[tuple[_Viewer, str, str]] = []
        for name in bot_names:
            uid = str(rng.randrange(10**10, 10**11))
            self._bots.append((_Viewer(uid, name, MemberTier.NONE, 0), _contact_handle(rng), _qq_number(rng)))

    @staticmethod
    def _nickname(rng: random.Random) -> str:
        style = rng.random()
        if style < 0.28:
            return f"用户{rng.randrange(10**9, 10**10)}"  # the platform's default name
        if style < 0.75:
            return rng.choice(_NICK_PRE) + rng.choice(_NICK_CORES) + rng.choice(_NICK_END)
        if style < 0.92:
            return rng.choice(_NICK_ADJ) + rng.choice(_NICK_NOUN)
        return rng.choice(_NICK_CORES) + rng.choice(("の小窝", "-", "·")) + rng.choice(_NICK_CORES) + "😊"

    # ── the plan ──
    def _segment_length(self, horizon: float) -> float:
        cfg = self.config
        return min(cfg.max_segment_s, max(cfg.min_segment_s, horizon / len(self.rundown)))

    def _windows(self, horizon: float) -> tuple[tuple[float, float], tuple[float, float]]:
        cfg = self.config

        def window(at: float, frac: float, lo: float, hi: float) -> tuple[float, float]:
            length = min(hi, max(lo, frac * horizon))
            start = min(at * horizon, max(0.0, horizon - length))
            return start, start + length

        wave = window(
            cfg.complaint_wave_at, cfg.complaint_wave_frac, cfg.complaint_wave_min_s, cfg.complaint_wave_max_s
        )
        raid = window(cfg.spam_raid_at, cfg.spam_raid_frac, cfg.spam_raid_min_s, cfg.spam_raid_max_s)
        return wave, raid

    def _segment_phases(self, seg: float) -> list[tuple[str, float, float]]:
        """Phase boundaries inside one segment, as (phase, start, end) offsets from the segment start."""
        cfg = self.config
        kou1_len = min(cfg.kou1_max_s, max(cfg.kou1_min_s, cfg.kou1_frac * seg))
        coupon_len = min(cfg.coupon_max_s, max(cfg.coupon_min_s, cfg.coupon_frac * seg))
        kou1_at = cfg.kou1_at * seg
        coupon_at = max(kou1_at + kou1_len, cfg.coupon_at * seg)
        tail_end = min(seg, coupon_at + coupon_len + cfg.tail_frac * seg)
        marks = [
            ("intro", 0.0, kou1_at),
            ("kou1_burst", kou1_at, kou1_at + kou1_len),
            ("pitch", kou1_at + kou1_len, coupon_at),
            ("coupon_burst", coupon_at, min(seg, coupon_at + coupon_len)),
            ("tail", min(seg, coupon_at + coupon_len), tail_end),
            ("intro", tail_end, seg),  # the streamer talks on until the next product
        ]
        return [(p, a, b) for p, a, b in marks if b - a > 1e-9]

    def plan(self, duration_s: float) -> list[PlannedPhase]:
        """What happens when in a broadcast of ``duration_s``: segment phases in order, then the overlays."""
        seg = self._segment_length(duration_s)
        phases: list[PlannedPhase] = []
        t0 = 0.0
        i = 0
        while t0 < duration_s:
            product = self.rundown[i % len(self.rundown)]
            for phase, a, b in self._segment_phases(seg):
                if t0 + a >= duration_s:
                    break
                end = min(float(duration_s), t0 + b)
                phases.append(PlannedPhase(t0 + a, end, phase, product.link, product.short))
            t0 += seg
            i += 1
        (wa, wb), (ra, rb) = self._windows(duration_s)
        phases.append(PlannedPhase(wa, wb, "complaint_wave"))
        phases.append(PlannedPhase(ra, rb, "spam_raid"))
        return phases

    def _intervals(self, horizon: float) -> Iterator[_Interval]:
        """Constant-rate stretches, without end: the planned show, then the rundown again (no overlays)."""
        cfg = self.config
        seg = self._segment_length(horizon)
        layout = self._segment_phases(seg)
        (wa, wb), (ra, rb) = self._windows(horizon)
        cuts = sorted({wa, wb, ra, rb})
        i = 0
        while True:
            t0 = i * seg
            mixes = self._mixes[i % len(self.rundown)]
            for phase, a, b in layout:
                mix = mixes[phase]
                comment_rate = cfg.phase_rate[phase]
                start, end = t0 + a, t0 + b
                points = [start, *(c for c in cuts if start < c < end), end]
                for s, e in itertools.pairwise(points):
                    mid = 0.5 * (s + e)
                    wave = cfg.complaint_wave_rate if wa <= mid < wb else 0.0
                    raid = cfg.spam_raid_rate if ra <= mid < rb else 0.0
                    arrival = comment_rate / (1.0 - mix.event_share) + wave + raid
                    yield _Interval(s, e, mix, comment_rate, arrival, wave, raid)
            i += 1

    def _rate_scale(self, horizon: float) -> float:
        """Factor that makes the average comment rate over ``horizon`` equal to ``rate``."""
        total = 0.0
        for iv in self._intervals(horizon):
            if iv.start >= horizon:
                break
            span = min(iv.end, horizon) - iv.start
            asked_again = iv.comment_rate * iv.mix.question_share * self.config.ask_again_prob
            total += (iv.comment_rate + asked_again + iv.wave_rate + iv.raid_rate) * span

        return horizon / total if total > 0 else 1.0

    # ── generation ──
    def timeline(self, duration_s: float) -> Iterator[tuple[float, Comment | LiveEvent]]:
        """Comments and events of a ``duration_s`` broadcast as (offset seconds, record), in time order."""
        if duration_s <= 0:
            return
        for offset, record in self._stream(duration_s):
            if offset >= duration_s:
                return
            yield offset, record

    def generate_comments(self, n: int) -> list[Comment]:
        """The first ``n`` comments (no events) of a broadcast planned for about ``n / rate`` seconds."""
        if n <= 0:
            return []
        out: list[Comment] = []
        append = out.append
        for _, record in self._stream(max(1.0, n / self.rate)):
            if record.__class__ is Comment:
                append(record)
                if len(out) >= n:
                    break
        return out

    def _stream(self, horizon: float) -> Iterator[tuple[float, Comment | LiveEvent]]:
        """Comments and events merged with the audience counts (drawn from their own random stream, so the
        comments are the same with or without them)."""
        if self.config.online_every_s <= 0:
            yield from self._records(horizon)
            return
        yield from heapq.merge(self._records(horizon), self._audience(horizon), key=lambda x: x[0])

    def _audience(self, horizon: float) -> Iterator[tuple[float, LiveEvent]]:
        """``viewers`` events: the online count (``viewers``) and the cumulative audience (``watched``).

        The audience builds up over the first minutes, swells while a 扣1 call or a coupon is on, jitters a
        little, and turns over (people leave after ``online_stay_s`` on average and others come in), so
        ``watched`` grows faster than the online count. Without end, like the comments."""
        cfg = self.config
        rng = random.Random(f"online/{self.seed}")
        full = len(self._viewers) * cfg.online_per_user
        ramp = min(cfg.online_ramp_max_s, cfg.online_ramp_frac * horizon)
        every = cfg.online_every_s
        intervals = self._intervals(horizon)
        iv = next(intervals)
        online = full * cfg.online_start_share
        watched = online
        k = 0
        while True:
            t = k * every
            while iv.end <= t:
                iv = next(intervals)
            build = 1.0 if ramp <= 0 else min(1.0, t / ramp)
            share = cfg.online_start_share + (1.0 - cfg.online_start_share) * build
            target = full * share * (1.0 + cfg.online_phase_boost.get(iv.mix.phase, 0.0))
            if k:
                before = online
                online += cfg.online_follow * (target - online)
                online *= 1.0 + rng.gauss(0.0, cfg.online_noise)
                online = max(1.0, online)
                watched += max(0.0, online - before) + before * every / cfg.online_stay_s
            count, total = round(online), round(watched)
            yield (
                t,
                LiveEvent(
                    event_id=f"{self._id_prefix}v{k}",
                    platform=self.platform,
                    room=self.room,
                    kind=EventKind.VIEWERS,
                    ts=self.start_ts + t,
                    data={"viewers": count, "watched": max(total, count)},
                ),
            )
            k += 1

    def _records(self, horizon: float) -> Iterator[tuple[float, Comment | LiveEvent]]:
        cfg = self.config
        rng = random.Random(self.seed)
        rand = rng.random
        expo = rng.expovariate
        scale = self.rate * self._rate_scale(horizon)
        viewers, viewer_cum = self._viewers, self._viewer_cum
        viewer_total = viewer_cum[-1]
        wave_viewers, bots = self._wave_viewers, self._bots
        n_wave, n_bots = len(wave_viewers), len(bots)
        prefix_prob, suffix_prob = cfg.prefix_prob, cfg.suffix_prob
        order_prob = cfg.order_after_buy_signal
        id_prefix, room, platform, start_ts = self._id_prefix, self.room, self.platform, self.start_ts
        wave_start, wave_end = self._windows(horizon)[0]
        wave_span = max(1e-9, wave_end - wave_start)
        suffixes_q, n_suffix_q = _SUFFIXES["question"], len(_SUFFIXES["question"])
        n_prefix = len(_PREFIXES)
        wave_logistics = tuple(_compile_variant(t, {}, {}) for t in _WAVE_LOGISTICS)
        wave_complaints = tuple(_compile_variant(t, {}, {}) for t in _WAVE_COMPLAINTS)
        # records due later: orders following a 拍了, questions asked again
        pending: list[tuple[float, int, Comment | LiveEvent]] = []
        pending_seq = itertools.count()
        repeat_prob, repeat_delay = cfg.ask_again_prob, cfg.ask_again_after_s
        n_comments = 0

        def push(at: float, record: Comment | LiveEvent) -> None:
            heapq.heappush(pending, (at, next(pending_seq), record))

        def comment(t: float, viewer: _Viewer, text: str, intent: str, phase: str, qkey: str) -> Comment:
            nonlocal n_comments
            n_comments += 1
            return Comment(
                comment_id=f"{id_prefix}{n_comments}",
                platform=platform,
                room=room,
                user_id=viewer.user_id,
                nickname=viewer.nickname,
                text=text,
                ts=start_ts + t,
                member_tier=viewer.tier,
                fan_level=viewer.fan_level,
                extras={"sim_intent": intent, "sim_phase": phase, "sim_q": qkey},
            )

        n_events = 0

        def event(kind: EventKind, t: float, viewer: _Viewer, data: dict[str, Any]) -> LiveEvent:
            nonlocal n_events
            n_events += 1
            return LiveEvent(
                event_id=f"{id_prefix}e{n_events}",
                platform=platform,
                room=room,
                kind=kind,
                ts=start_ts + t,
                user_id=viewer.user_id,
                nickname=viewer.nickname,
                member_tier=viewer.tier,
                data=data,
            )

        def order(t: float, viewer: _Viewer, product: Product) -> LiveEvent:
            r = rand()
            quantity = 1 if r < 0.8 else 2 if r < 0.95 else 3
            size = product.sizes[int(rand() * len(product.sizes))]
            color = product.colors[int(rand() * len(product.colors))]
            return event(
                EventKind.ORDER_PAID,
                t,
                viewer,
                {
                    "order_id": str(rng.randrange(10**18, 10**19)),
                    "link": product.link,
                    "sku": f"{product.sku_prefix}-{color}-{size}",
                    "quantity": quantity,
                    "amount": round(product.price * quantity, 2),
                },
            )

        for iv in self._intervals(horizon):
            mix = iv.mix
            lam = scale * iv.arrival_rate
            phase_arrivals = iv.comment_rate / (1.0 - mix.event_share)
            wave_cut = phase_arrivals + iv.wave_rate  # arrivals below this are the wave's
            t = iv.start
            while True:
                t += expo(lam)
                if t >= iv.end:
                    break
                while pending and pending[0][0] <= t:
                    yield pending[0][0], heapq.heappop(pending)[2]
                pick = rand() * iv.arrival_rate
                if pick >= phase_arrivals:
                    # an overlay: the complaint wave or the raid
                    if pick < wave_cut:
                        viewer = wave_viewers[int(rand() * n_wave)]
                        progress = (t - wave_start) / wave_span
                        if rand() < 0.15 + 0.7 * progress:
                            intent, lines = "complaint", wave_complaints
                        else:
                            intent, lines = "logistics", wave_logistics
                        text = _render(lines[int(rand() * len(lines))], rng)
                        if rand() < suffix_prob:
                            suffixes = _SUFFIXES["complaint"] if intent == "complaint" else suffixes_q
                            text += suffixes[int(rand() * len(suffixes))]
                        phase, qkey = "complaint_wave", f"{intent}.wave"
                    else:
                        viewer, handle, qq = bots[int(rand() * n_bots)]
                        line = _RAID_LINES[int(rand() * len(_RAID_LINES))]
                        text = line.format(
                            contact=_disguise(handle, rng), qq=qq, url=_URLS[int(rand() * len(_URLS))]
                        )
                        intent, phase, qkey = "spam", "spam_raid", "spam.raid"
                elif rand() < mix.event_share:
                    # a room event
                    kind = mix.event_kinds[bisect_right(mix.event_cum, rand() * mix.event_cum[-1])]
                    viewer = viewers[bisect_right(viewer_cum, rand() * viewer_total)]
                    if kind is EventKind.ORDER_PAID:
                        yield t, order(t, viewer, mix.product)
                    elif kind is EventKind.LIKE:
                        yield t, event(kind, t, viewer, {"count": 1 + int(expo(0.08))})
                    elif kind is EventKind.GIFT:
                        name, value, _ = rng.choices(_GIFTS, weights=[g[2] for g in _GIFTS])[0]
                        count = 1 if rand() < 0.7 else rng.choice((2, 5, 10, 66, 99))
                        yield (
                            t,
                            event(
                                kind, t, viewer, {"gift_name": name, "count": count, "value": value * count}
                            ),
                        )
                    else:
                        yield t, event(kind, t, viewer, {})
                    continue
                else:
                    # a comment of the phase mix
                    viewer = viewers[bisect_right(viewer_cum, rand() * viewer_total)]
                    k = bisect_right(mix.intent_cum, rand() * mix.intent_cum[-1])
                    intent = mix.intents[k]
                    qkey, text = mix.tables[k].pick(rng)
                    phase = mix.phase
                    if intent in QUESTION_INTENTS:
                        if rand() < prefix_prob:
                            text = _PREFIXES[int(rand() * n_prefix)] + text
                        if rand() < suffix_prob and text[-1] not in "？?":
                            suffix = suffixes_q[int(rand() * n_suffix_q)]
                            if suffix[0] != text[-1]:
                                text += suffix
                        if rand() < repeat_prob:
                            # nobody answered: the same viewer asks again, a little louder
                            again_at = t + repeat_delay + expo(1.0 / repeat_delay)
                            again = text + _ASK_AGAIN[int(rand() * len(_ASK_AGAIN))]
                            push(again_at, comment(again_at, viewer, again, intent, phase, qkey))
                    elif intent != "spam" and qkey != "chitchat.kou1" and rand() < suffix_prob:
                        suffixes = _SUFFIXES[intent]
                        suffix = suffixes[int(rand() * len(suffixes))]
                        if suffix[0] != text[-1]:
                            text += suffix
                    if intent == "buy_signal" and qkey == "buy_signal.bought" and rand() < order_prob:
                        paid_at = t + 0.5 + expo(0.4)
                        push(paid_at, order(paid_at, viewer, mix.product))
                yield t, comment(t, viewer, text, intent, phase, qkey)


# ─────────────────────────────────────────────── wire format, file, source ─────────────────────────────


def record_to_wire(record: Comment | LiveEvent) -> dict[str, Any]:
    """A record as the JSON object a relay sends (see :mod:`livecs.ingest.validate`)."""
    if isinstance(record, Comment):
        return {
            "type": "comment",
            "id": record.comment_id,
            "platform": record.platform,
            "room": record.room,
            "user_id": record.user_id,
            "nickname": record.nickname,
            "member_tier": int(record.member_tier),
            "fan_level": record.fan_level,
            "text": record.text,
            "ts": round(record.ts, 3),
            "extras": record.extras,
        }
    return {
        "type": record.kind.value,
        "id": record.event_id,
        "platform": record.platform,
        "room": record.room,
        "user_id": record.user_id,
        "nickname": record.nickname,
        "member_tier": int(record.member_tier),
        "ts": round(record.ts, 3),
        **record.data,
    }


def write_jsonl(
    path: str | Path,
    duration_s: float,
    seed: int = 7,
    rate: float = 30.0,
    *,
    room: str = "demo",
    start_ts: float | None = None,
    platform: str = "sim",
    events: bool = True,
) -> int:
    """Write a simulated broadcast as JSON Lines in the wire format; returns the number of lines."""
    sim = BroadcastSimulator(seed=seed, room=room, rate=rate, start_ts=start_ts, platform=platform)
    n = 0
    with open(path, "wb") as fh:
        for _, record in sim.timeline(duration_s):
            if not events and not isinstance(record, Comment):
                continue
            fh.write(orjson.dumps(record_to_wire(record)))
            fh.write(b"\n")
            n += 1
    return n


class SimulatorSource(Source):
    """Plays a simulated broadcast into a sink: real pace (``speed=1``), N× (``speed=N``) or as fast as
    possible (``speed=None``).

    When paced, records due in the same ``tick_s`` are sent as one batch and stamped with the wall clock
    (``ts`` = start + offset / speed), so a demo's ages and lags are real; unpaced, ``ts`` is the simulated
    time.
    """

    name = "simulator"

    def __init__(
        self,
        duration_s: float,
        *,
        seed: int = 7,
        room: str = "demo",
        rate: float = 30.0,
        speed: float | None = 1.0,
        platform: str = "sim",
        tick_s: float = 0.015,
        max_batch: int = 1000,
        simulator: BroadcastSimulator | None = None,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive or None (as fast as possible), got {speed!r}")
        self.duration_s = float(duration_s)
        self.speed = speed
        self.tick_s = tick_s
        self.max_batch = max(1, max_batch)
        self.simulator = simulator or BroadcastSimulator(seed=seed, room=room, rate=rate, platform=platform)
        self.sent = 0

    async def run(self, sink: IngestSink) -> None:
        sim = self.simulator
        sink.source_status(self.name, "connected", f"seed={sim.seed} rate={sim.rate:g}/s room={sim.room}")
        try:
            if self.speed is None:
                await self._run_unpaced(sink)
            else:
                await self._run_paced(sink, self.speed)
        except asyncio.CancelledError:
            sink.source_status(self.name, "finished", f"cancelled after {self.sent} records")
            raise
        sink.source_status(self.name, "finished", f"{self.sent} records")

    async def _submit(self, sink: IngestSink, batch: list[Comment | LiveEvent]) -> None:
        await sink.submit_records(batch, source=self.name)
        self.sent += len(batch)

    async def _run_unpaced(self, sink: IngestSink) -> None:
        batch: list[Comment | LiveEvent] = []
        for _, record in self.simulator.timeline(self.duration_s):
            batch.append(record)
            if len(batch) >= self.max_batch:
                await self._submit(sink, batch)
                batch = []
                await asyncio.sleep(0)  # let the pipeline run even if the sink never blocks
        if batch:
            await self._submit(sink, batch)

    async def _run_paced(self, sink: IngestSink, speed: float) -> None:
        pacer = Pacer[Comment | LiveEvent](speed, max_batch=self.max_batch, window_s=self.tick_s)
        submitter = PacedSubmitter(pacer, partial(self._submit, sink))
        wall_start = time.time()
        for offset, record in self.simulator.timeline(self.duration_s):
            due = offset / speed  # offsets start at 0: no origin to take
            record.ts = wall_start + due
            await submitter.put_due([record], due)
        await submitter.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m livecs.ingest.simulator OUT.jsonl --duration 600 --rate 30``: write a broadcast."""
    import argparse

    parser = argparse.ArgumentParser(description="Write a simulated live broadcast as JSONL (wire format).")
    parser.add_argument("path", type=Path)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of broadcast (default 600)")
    parser.add_argument("--rate", type=float, default=30.0, help="average comments per second (default 30)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--room", default="demo")
    parser.add_argument("--start-ts", type=float, default=None, help="epoch of offset 0 (default: now)")
    parser.add_argument("--comments-only", action="store_true", help="leave out gifts, likes, orders…")
    args = parser.parse_args(argv)
    n = write_jsonl(
        args.path,
        args.duration,
        seed=args.seed,
        rate=args.rate,
        room=args.room,
        start_ts=args.start_ts,
        events=not args.comments_only,
    )
    print(f"wrote {n} records to {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
