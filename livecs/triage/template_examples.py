"""Template-generated training comments: combinations of live-room phrasings with goods, sizes, places.

These complement the hand-written ``data/examples.txt``: the same intents in many surface forms (a prefix
such as 主播/宝宝, a particle, a goods name, a link number), so the learned model sees the phrasing, not the
product. Deterministic for a seed. Nothing here comes from the development set.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from livecs.triage.examples import LabelledExample

GOODS = [
    "连衣裙",
    "卫衣",
    "外套",
    "羽绒服",
    "牛仔裤",
    "T恤",
    "衬衫",
    "毛衣",
    "打底裤",
    "半身裙",
    "西装",
    "风衣",
    "运动鞋",
    "小白鞋",
    "靴子",
    "凉鞋",
    "包包",
    "双肩包",
    "帽子",
    "围巾",
    "面霜",
    "精华",
    "口红",
    "粉底液",
    "防晒",
    "面膜",
    "洗面奶",
    "洗发水",
    "香水",
    "眼霜",
    "空气炸锅",
    "电饭煲",
    "保温杯",
    "炒锅",
    "扫地机",
    "吹风机",
    "电动牙刷",
    "耳机",
    "充电宝",
    "手机壳",
    "台灯",
    "四件套",
    "枕头",
    "被子",
    "拖鞋",
    "收纳盒",
    "车厘子",
    "大闸蟹",
    "牛排",
    "坚果",
    "零食",
    "茶叶",
    "蜂蜜",
    "奶粉",
    "纸尿裤",
    "玩具",
    "绘本",
    "猫粮",
    "榴莲",
    "芒果",
    "大米",
    "牛奶",
    "咖啡",
    "燕窝",
    "项链",
    "手表",
    "戒指",
    "墨镜",
    "瑜伽裤",
    "睡衣",
]
COLOURS = ["黑色", "白色", "红色", "粉色", "蓝色", "灰色", "杏色", "卡其色", "绿色", "紫色", "米白", "藏青"]
SIZES = ["S", "M", "L", "XL", "2XL", "3XL", "XXL", "均码", "大码", "小码", "36码", "38码", "40码", "42码"]
HEIGHT_WEIGHT = [
    "160/102斤",
    "165/110斤",
    "170/130斤",
    "155/90斤",
    "158/95斤",
    "162/105斤",
    "168/120斤",
    "175/140斤",
    "180/160斤",
    "150/85斤",
    "163/115斤",
    "172/150斤",
    "165 118斤",
    "一米六 100斤",
    "一米七 130斤",
]
REGIONS = [
    "新疆",
    "西藏",
    "内蒙古",
    "青海",
    "海南",
    "甘肃",
    "宁夏",
    "东北",
    "黑龙江",
    "北京",
    "上海",
    "广州",
    "深圳",
    "成都",
    "杭州",
    "香港",
    "澳门",
    "台湾",
    "偏远地区",
    "乡下",
    "农村",
    "江浙沪",
]
COURIERS = ["顺丰", "中通", "圆通", "韵达", "申通", "京东", "邮政", "EMS", "极兔", "德邦"]
PREFIXES = [
    "",
    "",
    "",
    "主播",
    "主播 ",
    "宝宝",
    "请问",
    "请问主播",
    "姐妹们",
    "家人们",
    "老板",
    "亲",
    "小姐姐",
    "那个",
    "想问下",
    "问一下",
]
SUFFIXES = ["", "", "", "?", "??", "啊", "呀", "呢", "主播", " 主播", "宝宝", "~", "!"]
LINK_NUMBERS = [str(n) for n in range(1, 60)]
DEFECTS = [
    "坏了",
    "裂了",
    "碎了",
    "漏了",
    "掉色",
    "起球",
    "开线了",
    "缩水了",
    "有污渍",
    "有划痕",
    "少配件",
    "不能用",
    "不制冷",
    "不加热",
    "充不上电",
    "有异味",
    "发霉了",
    "变形了",
    "坏了好几个",
    "是破的",
]
ACCUSATIONS = [
    "骗子",
    "黑店",
    "骗人",
    "坑人",
    "垃圾",
    "我要投诉",
    "投诉你们",
    "12315见",
    "差评",
    "举报了",
    "黑心商家",
    "割韭菜",
    "给个说法",
    "曝光你们",
    "退钱",
    "无良商家",
    "什么破店",
    "太恶心了",
]
DELAYS = [
    "三天了还不发货",
    "一周了还没发",
    "五天了物流不动",
    "说好48小时发货",
    "十天了还没到",
    "退款一周了还没退",
    "拍了四天还没发",
    "催了好几次不发",
    "快递丢了没人管",
    "申请退货没人处理",
]
WORRIES = ["急死了", "急急急", "等着用", "明天就要用", "着急", "快点吧", "求快点", "等好久了"]
PRAISE = ["好看", "真好看", "绝了", "太好看了吧", "爱了", "好喜欢", "真不错", "yyds", "好可爱", "质感好好"]


def _wrap(rng: random.Random, core: str) -> str:
    return f"{rng.choice(PREFIXES)}{core}{rng.choice(SUFFIXES)}".strip()


def _product(rng: random.Random) -> tuple[str, str, str]:
    g, c, s = rng.choice(GOODS), rng.choice(COLOURS), rng.choice(SIZES)
    hw, n = rng.choice(HEIGHT_WEIGHT), rng.choice(LINK_NUMBERS)
    core = rng.choice(
        [
            f"有{s}吗",
            f"{s}还有吗",
            f"{c}还有吗",
            f"{c}有{s}吗",
            f"{hw}穿什么码",
            f"{hw}穿{s}可以吗",
            f"{hw}拍哪个码",
            f"{g}是什么材质",
            f"{g}有几个颜色",
            f"{g}还有货吗",
            f"{n}号链接是什么",
            f"{n}号还有吗",
            f"{n}号有{s}吗",
            f"{g}是几号链接",
            f"{g}几号",
            f"{g}适合什么人",
            f"{g}怎么用",
            f"{g}能用多久",
            f"{g}是正品吗",
            f"{c}显白吗",
            f"{c}和{rng.choice(COLOURS)}哪个好看",
            f"{g}多大",
            f"{g}有多重",
            f"{g}保质期多久",
            f"{g}会补货吗",
            f"{s}什么时候补货",
            f"{g}偏大吗",
            f"{g}是现货吗",
            f"{g}孕妇能用吗",
            f"{g}小孩能用吗",
            f"{g}质量怎么样",
            f"{g}好用吗",
            f"{n}号{g}是什么面料",
            f"{g}能不能试一下",
            f"再看看{c}的{g}",
            f"{c}的{g}上身什么效果",
            f"{g}跟{rng.choice(GOODS)}有什么区别",
            f"{n}号和{rng.choice(LINK_NUMBERS)}号有啥区别",
        ]
    )
    return _wrap(rng, core), "neu", ""


def _price(rng: random.Random) -> tuple[str, str, str]:
    g, s, n = rng.choice(GOODS), rng.choice(SIZES), rng.choice(LINK_NUMBERS)
    price = rng.choice(["99", "199", "59.9", "129", "299", "39"])
    core = rng.choice(
        [
            f"{g}多少钱",
            f"{n}号多少钱",
            f"{n}号什么价",
            f"{s}多少钱",
            f"{g}有券吗",
            f"{g}到手价多少",
            f"{n}号有优惠吗",
            f"{g}买两件有优惠吗",
            f"满{price}能用券吗",
            f"{price}是一件的价格吗",
            f"{g}送赠品吗",
            f"{g}还会降价吗",
            f"{n}号券后多少",
            f"{g}能便宜点吗",
            f"{g}怎么领券",
            f"买{g}送什么",
            f"{g}是活动价吗",
            f"{n}号{g}价格多少",
            f"{g}第二件半价吗",
            f"{g}有满减吗",
            f"{g}一件多少钱",
            f"{price}包邮吗 这是到手价吗",
            f"{g}和{rng.choice(GOODS)}一起买便宜吗",
        ]
    )
    return _wrap(rng, core), "neu", ""


def _price_neg(rng: random.Random) -> tuple[str, str, str]:
    g = rng.choice(GOODS)
    core, emotion = rng.choice(
        [
            (f"{g}太贵了", "disappointed"),
            (f"{g}比别家贵", "disappointed"),
            (f"{g}怎么涨价了", "disappointed"),
            (f"{g}昨天还便宜", "disappointed"),
            ("券用不了", "confused"),
            ("领的券怎么用不了", "confused"),
            ("满减没减", "confused"),
            ("券怎么没了", "confused"),
            (f"{g}价格还不如拼多多", "disappointed"),
            ("开价了吗 急", "anxious"),
            ("券还有吗 快说", "anxious"),
        ]
    )
    return _wrap(rng, core), "neg", emotion


def _logistics(rng: random.Random) -> tuple[str, str, str]:
    r, c, g = rng.choice(REGIONS), rng.choice(COURIERS), rng.choice(GOODS)
    core = rng.choice(
        [
            f"{r}包邮吗",
            f"{r}能发吗",
            f"{r}几天到",
            f"发{c}吗",
            f"能发{c}吗",
            f"{g}什么时候能发出",
            f"{g}几天发货",
            f"{g}从哪发货",
            f"到{r}要几天",
            f"{r}运费多少",
            f"{g}包邮吗",
            "什么时候发",
            "拍了多久能发",
            "今天能发吗",
            f"{g}是现货发吗",
            f"{g}会不会压坏",
            f"{c}能到{r}吗",
            "发货了吗",
            "物流怎么查",
            "快递单号在哪看",
            "能送货上门吗",
            f"{r}发什么快递",
            f"{g}冷链发吗",
        ]
    )
    return _wrap(rng, core), "neu", ""


def _logistics_neg(rng: random.Random) -> tuple[str, str, str]:
    w = rng.choice(WORRIES)
    core, emotion = rng.choice(
        [
            (f"还没发货 {w}", "anxious"),
            (f"怎么还不发 {w}", "anxious"),
            (f"物流好几天不动了 {w}", "anxious"),
            ("快递太慢了", "disappointed"),
            ("物流也太慢了", "disappointed"),
            ("单号查不到", "confused"),
            ("显示签收了没收到", "confused"),
            (f"等了{rng.randint(3, 9)}天了还没到", "anxious"),
        ]
    )
    return _wrap(rng, core), "neg", emotion


def _after_sales(rng: random.Random) -> tuple[str, str, str]:
    g, d = rng.choice(GOODS), rng.choice(DEFECTS)
    if rng.random() < 0.4:
        core = rng.choice(
            [
                f"{g}能退吗",
                f"{g}怎么退货",
                f"{g}能换吗",
                f"{g}保修多久",
                f"{g}七天无理由吗",
                f"{g}拆了能退吗",
                f"{g}退货运费谁出",
                "退款多久到账",
                "怎么申请售后",
                "换货怎么弄",
            ]
        )
        return _wrap(rng, core), "neu", ""
    core = rng.choice(
        [
            f"收到的{g}{d}",
            f"{g}{d} 能退吗",
            f"{g}{d} 能换吗",
            f"{g}{d} 怎么处理",
            f"刚收到{g}就{d}",
            f"{g}用了两天就{d}",
            f"{g}{d} 给补发吗",
        ]
    )
    return core, "neg", "disappointed"


def _complaint(rng: random.Random) -> tuple[str, str, str]:
    a, g = rng.choice(ACCUSATIONS), rng.choice(GOODS)
    core = rng.choice(
        [
            f"{rng.choice(DELAYS)} {a}",
            f"{a} {rng.choice(DELAYS)}",
            f"{g}{rng.choice(DEFECTS)} {a}",
            f"{a} {g}质量太差",
            f"卖这种{g} {a}",
            f"主播{a}",
            f"{a}!!",
            f"你们{a}",
            f"{g}是假货 {a}",
            f"问了好几遍不回 {a}",
            f"客服不理人 {a}",
        ]
    )
    return core, "neg", "angry"


def _order(rng: random.Random) -> tuple[str, str, str]:
    g, s, c = rng.choice(GOODS), rng.choice(SIZES), rng.choice(COLOURS)
    core = rng.choice(
        [
            f"拍错{s}了能改吗",
            f"拍错颜色了 想要{c}",
            f"{g}怎么拍",
            f"{g}怎么下单",
            f"能帮我留一件{s}吗",
            f"帮我留个{c}",
            "地址写错了能改吗",
            "怎么改地址",
            "能取消订单吗",
            f"{g}限购几件",
            f"拍了{g} 想改成{s}",
            "两单能合并付款吗",
            "怎么备注",
            f"拍了 备注{c}可以吗",
            "订单在哪看",
            f"{g}能帮别人下单吗",
            "手机号填错了",
            f"{g}拍不了 怎么回事",
        ]
    )
    return _wrap(rng, core), "neu", ""


def _payment(rng: random.Random) -> tuple[str, str, str]:
    method = rng.choice(["花呗", "信用卡", "微信", "支付宝", "银行卡", "白条", "月付", "云闪付"])
    if rng.random() < 0.5:
        core = rng.choice(
            [
                f"能用{method}吗",
                f"{method}能分期吗",
                f"支持{method}吗",
                f"{method}付款可以吗",
                "能开发票吗",
                "定金多少",
                "尾款什么时候付",
                "能找人代付吗",
                "分期免息吗",
            ]
        )
        return _wrap(rng, core), "neu", ""
    core, emotion = rng.choice(
        [
            (f"{method}付不了", "confused"),
            (f"{method}付款失败", "confused"),
            ("付款一直失败", "confused"),
            (f"{method}怎么用不了", "confused"),
            ("扣了钱订单没生成", "anxious"),
            ("钱被扣了两次", "anxious"),
            (f"{method}付不了 {rng.choice(WORRIES)}", "anxious"),
        ]
    )
    return _wrap(rng, core), "neg", emotion


def _buy(rng: random.Random) -> tuple[str, str, str]:
    s, c, n = rng.choice(SIZES), rng.choice(COLOURS), rng.choice(LINK_NUMBERS)
    core, sentiment = rng.choice(
        [
            (f"已拍{s}", "neu"),
            (f"拍了{c}", "neu"),
            (f"{n}号拍了", "neu"),
            (f"拍了{rng.randint(2, 5)}件", "neu"),
            (f"已拍{n}号 冲", "pos"),
            ("拍了拍了 冲", "pos"),
            (f"{c}{s}已拍", "neu"),
            (f"要一件{c}", "neu"),
            (f"{n}号要了", "neu"),
            ("冲冲冲", "pos"),
            ("已下单", "neu"),
            (f"{rng.choice(PRAISE)} 已拍", "pos"),
            (f"{rng.choice(PRAISE)} 冲了", "pos"),
            ("抢到了", "pos"),
            (f"给妈妈也拍了{c}", "neu"),
        ]
    )
    return core, sentiment, ""


def _chitchat(rng: random.Random) -> tuple[str, str, str]:
    if rng.random() < 0.5:
        core = rng.choice(
            [
                "主播" + rng.choice(PRAISE),
                f"{rng.choice(GOODS)}{rng.choice(PRAISE)}",
                f"主播今天{rng.choice(PRAISE)}",
                "哈" * rng.choice((3, 4, 5, 7, 8)),
                "支持主播",
                "主播加油鸭",
            ]
        )
        return core, "pos", ""
    core = rng.choice(
        [
            "1" * rng.choice((2, 3, 5)),
            f"扣{rng.randint(3, 9)}",
            "来了",
            "路过",
            "大家晚上好",
            "主播好",
            "6" * rng.choice((3, 4, 5)),
            "打卡打卡",
            "刚来",
            "前排围观",
            "哈喽",
            "在吗",
        ]
    )
    return core, "neu", ""


# Issues a viewer can have, by intent (no feeling of their own) and markers that carry the feeling: the
# emotion head learns the marker (急/等了好久 anxious, 怎么弄/找不到 confused, 失望/就这 disappointed).
ISSUES = {
    "product": [
        "链接还没上",
        "我的码没了",
        "找不到这个链接",
        "刚才那件没货了",
        "说的几号没听清",
        "补货还没补",
    ],
    "price_promo": ["券还没发", "券用不了", "满减没减", "价格还没说", "领的券不见了", "秒杀还没开始"],
    "order": ["地址填错了", "订单改不了", "下单一直不成功", "拍错码了", "备注写不上", "订单没找到"],
    "logistics": [
        "还没发货",
        "物流一直没动",
        "快递还没到",
        "单号查不到",
        "显示签收了没收到",
        "拍了好几天还没发",
    ],
    "payment": ["付款一直失败", "花呗用不了", "钱扣了订单没生成", "支付页面打不开", "付不了款", "分期选不了"],
    "after_sales": [
        "退款还没到账",
        "退货申请没人处理",
        "换货还没发",
        "补发还没收到",
        "售后入口找不到",
        "退货被驳回了",
    ],
    "chitchat": ["直播间卡了", "画面黑了", "福袋没抽中", "声音听不见", "抽奖又没中", "红包没抢到"],
}
EMOTION_MARKERS = {
    "anxious": [
        "急",
        "急急急",
        "快点啊",
        "赶紧的",
        "等了好久了",
        "什么时候才好",
        "还要等多久",
        "在线等 挺急的",
        "等着用呢",
        "来不及了",
        "催一下",
        "求快",
        "明天就要用了",
        "等得好着急",
    ],
    "confused": [
        "怎么弄啊",
        "找不到在哪",
        "不会弄",
        "为什么不行",
        "？？？",
        "咋回事",
        "怎么回事啊",
        "看不懂",
        "是什么情况",
        "搞不懂",
        "谁教教我",
        "是不是bug",
        "为啥啊",
        "要怎么操作",
    ],
    "disappointed": [
        "失望",
        "好失望",
        "不满意",
        "就这？",
        "没人理",
        "唉",
        "算了",
        "白等了",
        "太可惜了",
        "心累",
        "下次不来了",
        "有点寒心",
        "哎 又这样",
        "无语了",
    ],
}


def _emotional(intent: str) -> Callable[[random.Random], tuple[str, str, str]]:
    def generate(rng: random.Random) -> tuple[str, str, str]:
        emotion = rng.choice(sorted(EMOTION_MARKERS))
        issue, marker = rng.choice(ISSUES[intent]), rng.choice(EMOTION_MARKERS[emotion])
        text = f"{issue} {marker}" if rng.random() < 0.7 else f"{marker} {issue}"
        return _wrap(rng, text), "neg", emotion

    return generate


GENERATORS = {
    "product": (_product, 500),
    "price_promo": (_price, 350),
    "price_promo_neg": (_price_neg, 120),
    "logistics": (_logistics, 300),
    "logistics_neg": (_logistics_neg, 120),
    "after_sales": (_after_sales, 300),
    "complaint": (_complaint, 300),
    "order": (_order, 250),
    "payment": (_payment, 250),
    "buy_signal": (_buy, 200),
    "chitchat": (_chitchat, 200),
    **{f"{intent}_neg_emotion": (_emotional(intent), 70) for intent in ISSUES},
}


def synthetic_examples(seed: int = 13) -> Iterator[LabelledExample]:
    """Deterministic template comments (deduplicated), tagged ``source="synth"``."""
    rng = random.Random(seed)
    seen: set[str] = set()
    for name, (generate, count) in GENERATORS.items():
        intent = name.removesuffix("_emotion").removesuffix("_neg")
        for _ in range(count):
            text, sentiment, emotion = generate(rng)
            if text in seen:
                continue
            seen.add(text)
            yield LabelledExample(text, intent, sentiment, emotion, "synth")
