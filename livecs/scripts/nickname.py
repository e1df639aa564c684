"""Whether the shop's account may say a viewer's nickname back to the room (``{nickname}`` in a reply).

Strangers pick nicknames, and a reply that repeats one puts the stranger's words in the shop's mouth
("本店卖假货大家别买，您的留言我们都看到了…", issue 11). :func:`reply_nickname` gives the nickname as a
reply may address it, or ``None`` (the library's fallback, 亲, is used) when it

* carries contact details or a link (加V, 加薇, runs of digits, URLs, 主页…);
* reads as a sentence (sentence punctuation) or makes a claim: accusations (假货, 骗, 别买…),
  the shop's or platform's voice (本店, 官方, 客服, 主播…), prices and give-aways (元, 免费, 红包…),
  traffic and recruitment (私信, 加群, 兼职…), absolute advertising claims (最, 第一, 绝对…), or it
  speaks to the room (大家, 家人们…).

The check runs on a folded copy (NFKC, lower case, traditional → simplified, spaces and symbols removed) so
"假 货", "賣假貨" and "ＶＸ" are caught. It is deliberately strict: a harmless nickname that trips it only
costs a "亲" instead of the name; a claim that slipped through would be said by the shop.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: characters a nickname keeps when the shop's account says it back to the room
_NICK_DROP = re.compile(r"[^\w\u4e00-\u9fff·・._\- ]+")
#: a nickname that carries contact details or a link is never repeated by the shop's account
_NICK_CONTACT = re.compile(
    r"(?:\d[\s._-]*){5,}|https?|www|\.com|\.cn|v信|vx|wx|weixin|微信|威信|薇信|qq|扣扣|加v|加微|主页",
    re.IGNORECASE,
)
#: punctuation that makes a nickname a sentence
_SENTENCE = re.compile(r"[，。！？；：,!?;:…、~～]")
#: what a nickname must not say in the shop's voice (matched on the folded text)
CLAIM_TERMS: tuple[str, ...] = (
    # accusations, quality and fraud claims, calls to act against the shop
    *("假", "骗", "坑", "黑店", "垃圾", "劣质", "质量差", "质量不好", "有毒", "过敏", "烂", "差评", "投诉"),
    *("举报", "曝光", "维权", "退款", "退货", "退钱", "别买", "不要买", "勿买", "别信", "上当", "智商税"),
    *("韭菜", "刷单", "水军", "仿品", "高仿", "山寨", "三无", "翻新", "二手", "抄袭", "盗版", "跑路", "倒闭"),
    *("别", "不要", "千万", "勿", "警惕", "小心", "注意", "提醒", "揭穿", "真相"),
    # the shop's, the streamer's or the platform's voice
    *("本店", "官方", "客服", "店家", "商家", "店铺", "店长", "主播", "老板", "平台", "管理", "系统", "通知"),
    *("公告", "声明", "本人", "售后"),
    # prices, give-aways, promotions
    *("元", "块", "¥", "$", "价", "免费", "白送", "送", "中奖", "抽奖", "红包", "福利", "领券", "优惠"),
    *("打折", "折扣", "秒杀", "包邮", "返现", "返利", "卖", "买", "下单", "拍下", "链接", "库存"),
    # traffic, recruitment, gambling
    *("私信", "私聊", "加我", "加群", "进群", "关注", "点击", "代购", "兼职", "招聘", "赚钱", "日赚"),
    *("刷", "赌", "博彩", "彩票", "贷款", "色情", "约"),
    # contact details in disguise (加薇, 企鹅, 同号…)
    *(
        "薇",
        "威",
        "微",
        "企鹅",
        "扣扣",
        "同号",
        "号码",
        "电话",
        "手机",
        "飞机",
        "抖音号",
        "联系",
        "v我",
        "加v",
    ),
    # absolute advertising claims (广告法)
    *("最", "第一", "唯一", "绝对", "百分百", "100%", "国家级", "顶级", "保证", "无效退款", "正品"),
    # speaking to the room
    *("大家", "家人们", "姐妹们", "兄弟们", "朋友们", "宝宝们", "所有人", "各位"),
)
_CLAIM = re.compile("|".join(re.escape(t) for t in sorted(CLAIM_TERMS, key=len, reverse=True)))
_FOLD_DROP = re.compile(r"[\s\W_]+")
_T2S: dict[int, str] | None = None


def _t2s() -> dict[int, str]:
    global _T2S
    if _T2S is None:
        try:
            from livecs.triage.normalize import load_t2s_table

            _T2S = load_t2s_table()
        except Exception:  # OpenCC's table missing: NFKC folding only
            _T2S = {}
    return _T2S


def fold(nickname: str) -> tuple[str, str]:
    """``(text, squeezed)``: NFKC, lower case, traditional → simplified; then also without separators and
    symbols ("賣 假-貨" → "卖假货")."""
    text = unicodedata.normalize("NFKC", nickname).lower().translate(_t2s())
    return text, _FOLD_DROP.sub("", text)


def makes_a_claim(nickname: str) -> bool:
    """The nickname carries contact details, reads as a sentence or says something the shop must not say."""
    if _NICK_CONTACT.search(nickname) or _SENTENCE.search(nickname):
        return True
    return any(_NICK_CONTACT.search(t) or _CLAIM.search(t) for t in fold(nickname))


@lru_cache(maxsize=4096)
def reply_nickname(nickname: str, max_chars: int) -> str | None:
    """The viewer's nickname as the reply may address it, or ``None`` (the library's fallback is used).

    Markup characters are dropped and the rest cut to ``max_chars``; a nickname that :func:`makes_a_claim`
    (contact details, a sentence, an accusation, the shop's voice, a price…) is never repeated."""
    if makes_a_claim(nickname):
        return None
    cleaned = _NICK_DROP.sub("", nickname).strip()
    return cleaned[:max_chars] or None
