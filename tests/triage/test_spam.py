"""Spam rules (luring and disguises, links, ads, insults at viewers, gibberish) and flood windows."""

from __future__ import annotations

from typing import Any

import pytest

from livecs.triage.analyze import load_analyzer_parts
from livecs.triage.lexicon import load_lexicon_data
from livecs.triage.settings import FloodSettings, TriageSettings
from livecs.triage.spam import FloodTracker


@pytest.fixture(scope="module")
def parts(base_config: TriageSettings) -> Any:
    return load_analyzer_parts(load_lexicon_data(), base_config)


def reason(parts: Any, raw: str) -> str:
    normalizer, lexicon, rules = parts
    norm = normalizer.normalize(raw)
    return rules.reason(norm, lexicon.scan(norm.text))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("加V领福利", "lure"),
        ("加威信 送小样", "lure"),
        ("薇信 meimei520", "lure"),
        ("威❤：love_shop_777 有内部价", "lure"),
        ("v❤ abcde", "lure"),
        ("vx：shop8888", "lure"),
        ("Q 2847190536 低价出同款", "lure"),
        ("扣扣 2 8 4 7 1 9 0 5 3 6", "lure"),
        ("联系我 138-1234-5678", "lure"),
        ("q群 778899001", "lure"),
        ("看我主页 同款半价", "lure"),
        ("点我头像领福利", "lure"),
        ("全场一折 www.xxmall.cc", "link"),
        ("http://t.cn/abc", "link"),
        ("兼职刷单 日结300", "ad"),
        ("楼上是托吧 傻子", "insult"),
        ("你们这些托 真恶心", "insult"),
        ("看直播的都是傻子", "insult"),
        ("sb", "insult"),
        ("asdfghjkl", "gibberish"),
        ("qwertyuiop", "gibberish"),
        ("哒" * 20, "gibberish"),
        ("。" * 20, "gibberish"),
        ("fdsafdsafdsa", "gibberish"),  # reversed keyboard runs, one keyboard row
        ("阿斯顿发送到发斯蒂芬", "gibberish"),  # what a pinyin keyboard makes of a key-mash
        ("ㄅㄆㄇㄈㄉ", "gibberish"),
        ("哒哒@#&哒*&^", "gibberish"),
        ("在家就能月入过万", "ad"),  # one strong ad phrase is enough
        ("陪聊 一小时50", "ad"),
        ("同行路过 我家直播间才59", "lure"),
        ("买这玩意的智商堪忧", "insult"),
        ("楼上会不会说人话", "insult"),
        ("加薇 有惊喜", "lure"),
        ("加💚信 送面膜", "lure"),
        ("企鹅 二二三 四四五 六六七", "lure"),  # a number spelled out in Chinese numerals
        ("Q 三九七二一五", "lure"),
        ("我这有原单 私", "lure"),
        ("想要的联系我", "lure"),  # offered: still a lure
        ("客服不行 加我微信 便宜给你", "lure"),
        ("想要原单的加微信 干嘛在这买", "lure"),  # 干嘛 after more words: still an invitation
        ("来我家看看 同款便宜", "lure"),
        ("噼里啪啦%%%&&&", "gibberish"),
        ("锟斤拷锟斤拷烫烫烫", "gibberish"),
    ],
)
def test_spam_disguises(parts: Any, raw: str, expected: str) -> None:
    assert reason(parts, raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "有S码吗",
        "哈哈哈哈哈哈哈哈哈哈哈哈哈哈",  # laughter is not gibberish
        "1111111111111",
        "订单号 2024051812345678 还没发货",  # an order number is not a contact
        "主播sb 卖这么贵",  # an insult with a grievance at the shop: complaint, not spam
        "主播只回托的问题",
        "骗子 还不发货",
        "微波炉几升的",
        "quality怎么样",
        "宝妈能用吗",
        "？？？",
        "[捂脸][捂脸][爱心][爱心]",  # emote tags are not key-mash brackets
        "S/M/L/XL/XXL 都有吗",
        "165/100 170/120 两个人穿什么码",  # two height/weight pairs are not a phone number
        "@主播 #新款# 有吗",
        "我家也用这个牌子",
        "旧手机能上门回收吗",
        "销量都是刷单的吧",  # an accusation at the shop (complaint), not an ad
        "这个味道好恶心",
        "能加卫衣一起发吗",
        "扣一扣一扣一扣一",
        "加一件 一二三四五六",
        "一百二十斤穿什么码 身高一六五",
        "有团购群吗",
        "I live you so much bsby",  # "sb" inside a latin word is not an insult
        "\\阿杰/\\阿杰/\\阿杰/\\阿杰/\\阿杰/",  # cheering arms repeated, not key-mash
        "洗面奶……………………………………",  # a trailing ellipsis after a product name (was gibberish)
        "等一下————————————",
        "客服又联系我说仅退款 是什么意思",  # a contact reported, not offered
        "中奖了有人私信我 是真的吗",
        "下单前说得好好的 发货了又让我加微信",  # told to add a contact: reported, not offered
        "加vx干嘛呀 不加",  # asking why, not inviting
        "福袋快来我家[比心]",  # a wish for the prize
        "粉丝群在哪里加群呀",  # asking how to join the shop's group, not inviting
        "收纳箱尺寸是600*400*350mm吗",  # a size, not a contact number
        "kfkfkfkfkf",  # 客服 called over and over, not a key-mash
    ],
)
def test_not_spam(parts: Any, raw: str) -> None:
    assert reason(parts, raw) == ""


def flood_settings(**overrides: Any) -> FloodSettings:
    settings: dict[str, Any] = {
        "window_s": 60.0, "same_user_same_text": 3, "same_user_same_text_min_chars": 1,
        "same_user_any_text": 20,
        "same_text_many_users": 4, "same_text_min_chars": 6, "max_tracked_users": 100,
    }  # fmt: skip
    settings.update(overrides)
    return FloodSettings(**settings)


def test_flood_same_user_same_text() -> None:
    flood = FloodTracker(flood_settings())
    assert flood.observe("r", "u", "刷刷刷", 0.0, True) == ""
    assert flood.observe("r", "u", "刷刷刷", 1.0, True) == ""
    assert flood.observe("r", "u", "刷刷刷", 2.0, True) == "flood:repeat"
    assert flood.observe("r", "other", "刷刷刷", 2.0, True) == ""


def test_flood_window_expires() -> None:
    flood = FloodTracker(flood_settings())
    flood.observe("r", "u", "x", 0.0, True)
    flood.observe("r", "u", "x", 1.0, True)
    assert flood.observe("r", "u", "x", 100.0, True) == ""


def test_flood_rate_and_copy_paste() -> None:
    flood = FloodTracker(flood_settings(same_user_any_text=5))
    reasons = [flood.observe("r", "u", f"t{i}", float(i), False) for i in range(5)]
    assert reasons[-1] == "flood:rate"
    flood = FloodTracker(flood_settings())
    paste = "复制粘贴的长长的一段话"
    reasons = [flood.observe("r", f"user{i}", paste, float(i), True) for i in range(4)]
    assert reasons == ["", "", "", "flood:copy_paste"]


def test_flood_memory_is_bounded() -> None:
    flood = FloodTracker(flood_settings(max_tracked_users=50))
    for i in range(1000):
        flood.observe("r", f"u{i}", "hi", float(i) * 0.01, False)
    assert flood.tracked() <= 50
    flood.observe("r", "late", "hi", 10_000.0, False)  # a sweep drops every stale window
    assert flood.tracked() == 1


# --- real rooms (issue 17): what real viewers type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("去你妈的吧", "insult"),  # vulgar insults without a named target are abuse
        ("你个猪逼,你个猪逼", "insult"),
        ("真是个事儿逼", "insult"),
        ("扇你嘴巴子,扇你嘴巴子", "insult"),
        ("医保卡提现 秒到账", "ad"),  # grey-market cash-out offers
        ("互粉互关 看我主页", "lure"),
        ("qqqqqqqqqqqqqq", "gibberish"),
        ("。。。。。。。。。。。。", "gibberish"),
        ("sdfgdgjdkfhgdjsdgfhjd", "gibberish"),  # a key-mash with a stray vowel or two
        ("hghivvhjj", "gibberish"),
        ("刷刷刷刷刷刷刷刷刷刷刷刷刷刷", "gibberish"),  # one character and nothing else: a flood
        ("公积金咨询 秒办", "ad"),
        # common vulgar slurs (issue 17: real rooms' spam passed as chit-chat or product)
        ("又在这里装逼", "insult"),
        ("一帮捧臭脚的", "insult"),
        ("都是些臭鱼烂虾", "insult"),
        ("你才有病你", "insult"),
        ("王八蛋一个", "insult"),
        ("赶紧滚犊子", "insult"),
        # contact disguises and selling on the side
        ("有事绿泡泡联系", "lure"),
        ("微x：mm520", "lure"),
        ("同款找我拿更便宜", "lure"),
        ("公禾只金提取秒到", "ad"),  # a character split in two (禾只 = 积) to slip past the word list
        ("要取公积金的找我", "ad"),
        ("取公积金的看过来", "ad"),
        ("你就是个乡巴佬", "insult"),  # the slur, with no goods after it
    ],
)
def test_real_room_spam(parts: Any, raw: str, expected: str) -> None:
    assert reason(parts, raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "？？？？？？？？？？",  # question marks are a viewer's reaction, not a flood of symbols
        "!!!!!!!!!!!!",
        "noooooooo",  # latin exclamations drawn out
        "ohhhhhhhh",
        "吼吼吼吼吼吼吼吼吼吼吼吼吼吼",  # a drawn-out interjection is cheering
        "哦哦哦哦哦哦哦哦哦哦哦哦哦",
        "祝主播生日快乐[互粉]",  # the platform's emote is not an invitation
        "太牛逼了主播",  # praise, not an insult
        "苦逼的打工人",
        "帅哥哥哥哥哥哥哥哥哥哥哥哥哥哥",  # a character drawn out inside a phrase is emphasis
        "牛牛牛牛牛牛牛牛牛牛牛牛牛牛牛逼",
        "zhongguorenmin",  # pinyin and words run at a third vowels or more
        "shenzhenfahuoma",
        "今天狗屎运真好",  # words left out of the slur list: luck, a price, a dog's breed, an intensifier
        "二百五十块包邮吗",
        "杂种狗好可爱",
        "主播特么可爱了",
    ],
)
def test_real_room_cheers_are_not_spam(parts: Any, raw: str) -> None:
    assert reason(parts, raw) == ""
