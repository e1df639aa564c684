"""Question forms carry no evidence (issue 12: no invented answers): a keyword is worth its topic once
the words that only frame a question (有吗, 还有没有, 能…吗, 什么, 主播…) are taken out; a keyword that
is only such a form counts when the comment names a product; "这场没有X" is no answer to a why /
what-now question; a fault told of goods already bought is not answered by a spec. Invented questions
only."""

from __future__ import annotations

import random

import pytest

from livecs.models import Intent, Sentiment, Suggestion
from livecs.scripts.matcher import QuestionForms, ScriptMatcher
from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.validate import load_bytes

from .conftest import NOW, make_comment, make_triage

LIBRARY = """
library: {name: 测试服饰, category: apparel, version: "1"}
scripts:
  - id: restock
    intents: [product]
    keywords: [还有吗, 还有没有, 有吗, 返场, 还上吗]
    examples: ["那件还会再上吗", "卖完了还能加吗"]
    reply: "{宝宝/亲}，想要的款打在公屏上，卖完的返场提前通知"
    on_air: "想要的款打公屏"
  - id: body_fit
    intents: [product]
    keywords: [微胖, 腿粗, 能穿吗]
    examples: ["微胖能穿吗", "腿粗的能不能穿"]
    reply: "{宝宝/亲}，{link}号{name}版型遮肉，微胖按平时尺码拍"
    on_air: "微胖也能穿"
  - id: petite
    intents: [product]
    keywords: [小个子, 矮个子, 148]
    examples: ["小个子穿着怎么样", "148穿会不会拖地"]
    reply: "{宝宝/亲}，{link}号{name}有小个子版，155以下拍小个子版"
    on_air: "小个子拍小个子版"
  - id: size
    intents: [product]
    keywords: [什么码, 几码, 尺码]
    examples: ["穿什么码", "拍几码"]
    reply: "{宝宝/亲}，{link}号{name}是{sizes}码，报身高体重帮你推荐"
    on_air: "报身高体重推荐尺码"
  - id: thanks
    intents: [chitchat]
    fallback: true
    keywords: [主播, 好看]
    examples: ["主播好美"]
    reply: "谢谢{宝宝/亲}，喜欢的款打在公屏上"
    on_air: "喜欢的款打公屏"
products:
  - {sku: T-1, link: 1, name: 直筒牛仔裤, price: 129, stock: 100, aliases: [牛仔裤, 裤子],
     colors: [浅蓝, 深蓝], sizes: [S, M, L, XL]}
  - {sku: T-2, link: 2, name: 防晒开衫, price: 79, stock: 100, aliases: [防晒衣, 开衫],
     colors: [白色], sizes: [S, M, L]}
"""


def _load(library: str, config: ScriptsSettings | None = None) -> ScriptMatcher:
    result = load_bytes([("lib.yaml", library.encode("utf-8"))])
    assert result.library is not None, result.issues
    return ScriptMatcher(result.library, config, rng=random.Random(5))


@pytest.fixture(scope="module")
def matcher() -> ScriptMatcher:
    return _load(LIBRARY)


def _best(m: ScriptMatcher, text: str, intent: Intent = Intent.PRODUCT) -> Suggestion:
    triage = make_triage(text, intent, Sentiment.NEU)
    out = m.match(make_comment(text), triage, on_air=1, now=NOW)
    assert out, text
    return out[0]


def test_topic_of_a_keyword() -> None:
    forms = QuestionForms(ScriptsSettings().answer.question_forms)
    assert forms.topic("有吗") == ""
    assert forms.topic("还有没有") == ""
    assert forms.topic("还有吗") == ""
    assert forms.topic("主播") == ""
    assert forms.topic("什么码") == "码"
    assert forms.topic("能穿吗") == "穿"
    assert forms.topic("有链接吗") == "链接"
    # a one-character form is taken only off the start (有, 能, 几) or a particle off the end
    assert forms.topic("性能") == "性能"
    assert forms.topic("功能多吗") == "功能多"
    assert forms.topic("亲肤") == "亲肤"
    assert forms.topic("防晒") == "防晒"


@pytest.mark.parametrize("text", ["冬季加绒款有吗", "带毛领的有吗", "那个格子的还有没有", "网红同款还有吗"])
def test_availability_of_an_unknown_item_gets_no_invented_answer(matcher: ScriptMatcher, text: str) -> None:
    """有吗 about something the catalogue does not know: not the generic restock reply, the 无匹配话术 card
    (which still offers the closest scripts)."""
    best = _best(matcher, text)
    assert best.script_id == "" and best.reply == ""
    assert best.why[0] == "无匹配话术"


@pytest.mark.parametrize("text", ["牛仔裤还有没有", "2号开衫还有吗", "防晒开衫有吗"])
def test_availability_of_a_named_product_is_answered(matcher: ScriptMatcher, text: str) -> None:
    """The same question form about a product the comment names (alias, link number): the product is
    the topic."""
    assert _best(matcher, text).script_id == "restock"


def test_topical_keyword_beats_a_question_form(matcher: ScriptMatcher) -> None:
    """148能穿吗: the height is the topic, 能穿吗 only the form of the question."""
    assert _best(matcher, "148个子能穿吗").script_id == "petite"
    assert _best(matcher, "微胖能穿吗").script_id == "body_fit"
    assert _best(matcher, "穿什么码").script_id == "size"  # 什么码 still counts, as 码


def test_address_word_is_no_evidence(matcher: ScriptMatcher) -> None:
    """主播 only addresses the room: a question to the streamer is not answered with the chit-chat thanks."""
    best = _best(matcher, "主播背后那个架子在哪买的", Intent.PRODUCT)
    assert best.script_id != "thanks"
    # a compliment still gets it on its own evidence
    assert _best(matcher, "主播好看", Intent.CHITCHAT).script_id == "thanks"


def test_why_question_about_a_product_the_shop_does_not_sell(matcher: ScriptMatcher) -> None:
    """口红为什么会沾杯 in a clothes shop asks why, not whether the shop sells 口红."""
    assert _best(matcher, "口红为什么会沾杯").script_id != "catalogue.product"
    assert _best(matcher, "洗发水用完头皮痒怎么办").script_id != "catalogue.product"
    # asking for it still gets the catalogue's "no"
    assert _best(matcher, "有口红卖吗").script_id == "catalogue.product"
    # a colour the product lacks is still the answer to a what-now question about it
    assert _best(matcher, "1号想要紫色的怎么办").script_id == "catalogue.colour"


def test_particles_only_at_the_end() -> None:
    forms = QuestionForms(ScriptsSettings().answer.question_forms)
    assert forms.topic("哈哈") == "哈哈"  # laughter is chit-chat, not a question form
    assert forms.topic("吧台") == "吧台"  # a particle is not taken off the start
    assert forms.topic("有弹力吗") == "弹力"


def test_lint_names_a_keyword_that_is_only_a_question_form() -> None:
    from livecs.scripts.lint import lint_library

    result = load_bytes([("lib.yaml", LIBRARY.encode("utf-8"))])
    assert result.library is not None
    found = {
        (i.item_id, i.zh.split("」")[0].split("「")[1])
        for i in lint_library(result.library)
        if i.code == "lint.question_form_keyword"
    }
    assert found == {("restock", "还有吗"), ("restock", "还有没有"), ("restock", "有吗")}  # not the fallback


NEGATION_LIBRARY = """
library: {name: 测试数码, category: digital, version: "1"}
scripts:
  - id: gaming
    intents: [product]
    keywords: [打游戏, 游戏, 卡不卡]
    examples: ["打游戏卡不卡"]
    reply: "{宝宝/亲}，{link}号打游戏很流畅"
    on_air: "打游戏流畅"
  - id: photo
    intents: [product]
    keywords: [拍照, 相机]
    examples: ["拍照怎么样"]
    reply: "{宝宝/亲}，{link}号拍照清楚"
    on_air: "拍照清楚"
  - id: fading
    intents: [product]
    keywords: [掉色, 褪色]
    examples: ["会不会掉色"]
    reply: "{宝宝/亲}，{link}号不掉色"
    on_air: "不掉色"
  - id: restock
    intents: [product]
    keywords: [会上, 返场]
    examples: ["还会上吗"]
    reply: "{宝宝/亲}，返场提前通知"
    on_air: "返场提前说"
products:
  - {sku: N-1, link: 1, name: 测试手机, price: 1999, stock: 10, aliases: [手机]}
"""


@pytest.fixture(scope="module")
def negation_matcher() -> ScriptMatcher:
    return _load(NEGATION_LIBRARY)


def test_negated_keyword_in_a_statement_is_no_evidence(negation_matcher: ScriptMatcher) -> None:
    """不打游戏，平时就拍拍照: the viewer says what they do *not* do; the question is about photos.
    游戏 inside the negated 打游戏 is negated too."""
    assert _best(negation_matcher, "我不打游戏平时就拍拍照行吗").script_id == "photo"
    assert _best(negation_matcher, "打游戏卡不卡").script_id == "gaming"  # A-not-A: asked
    assert _best(negation_matcher, "不掉色吧").script_id == "fading"  # a tag question: asked
    assert _best(negation_matcher, "不掉色吗").script_id == "fading"
    assert _best(negation_matcher, "会不会上").script_id == "restock"  # 会不会上 is no negation of 会上


def test_emoji_tags_are_not_words_of_the_question(negation_matcher: ScriptMatcher) -> None:
    """[捂脸] after a tag question does not turn it into a statement (its characters are not compared)."""
    assert _best(negation_matcher, "不掉色吧[捂脸][捂脸]").script_id == "fading"
    from livecs.scripts.matcher import question_text

    assert question_text("拍照好吗[呲牙]") == "拍照好吗"
    assert question_text("尺码[S/M]") == "尺码s/m"  # only a tag of Chinese characters is an emoji


@pytest.mark.parametrize(
    "text",
    [
        "相机旁边有个白点是什么",
        "拍照的地方有划痕咋弄",
        "用了半年掉色了",
        "手机打游戏发烫了怎么回事",
        "游戏玩着玩着死机了",
    ],
)
def test_a_fault_told_is_not_answered_by_a_spec(negation_matcher: ScriptMatcher, text: str) -> None:
    """A mark on the lens or a fault that has happened is an after-sales question: the camera or gaming
    spec would answer a question nobody asked. The card says 无匹配话术 and still offers the spec."""
    best = _best(negation_matcher, text)
    assert best.script_id == "" and best.reply == ""
    assert any(w.startswith("候选 ") for w in best.why)


@pytest.mark.parametrize(
    ("text", "script"),
    [("会不会掉色", "fading"), ("掉色吗", "fading"), ("拍照清楚吗", "photo"), ("打游戏会不会死机", "gaming")],
)
def test_a_fault_asked_about_before_buying_is_answered(
    negation_matcher: ScriptMatcher, text: str, script: str
) -> None:
    """掉色吗 asks before buying (no 了, no mark): the spec answers it."""
    assert _best(negation_matcher, text).script_id == script


FORM_LIBRARY = """
library: {name: 测试数码, category: digital, version: "1"}
scripts:
  - id: film
    intents: [product]
    keywords: [贴膜, 手机膜]
    examples: ["贴膜了吗"]
    reply: "{宝宝/亲}，出厂自带贴膜"
    on_air: "出厂带膜"
  - id: arrival
    intents: [product]
    keywords: [发货]
    examples: ["下单几天能送到", "几天能到"]
    reply: "{宝宝/亲}，下单48小时内发货"
    on_air: "48小时发货"
  - id: screen
    intents: [product]
    products: ["1"]
    keywords: [屏幕, 直屏]
    examples: ["屏幕多大"]
    reply: "{宝宝/亲}，{link}号{name}是6.3英寸直屏"
    on_air: "{link}号直屏"
  - id: restock
    intents: [product]
    keywords: [返场, 补货]
    examples: ["什么时候上新"]
    reply: "{宝宝/亲}，返场提前通知"
    on_air: "返场提前说"
products:
  - {sku: F-1, link: 1, name: 测试手机, price: 1999, stock: 10, aliases: [手机]}
  - {sku: F-2, link: 2, name: 测试平板, price: 2999, stock: 10, aliases: [平板]}
"""


@pytest.fixture(scope="module")
def form_matcher() -> ScriptMatcher:
    return _load(FORM_LIBRARY)


def test_likeness_in_form_only_does_not_answer(form_matcher: ScriptMatcher) -> None:
    """第一批抢完了吗 is like 贴膜了吗 in 了吗 only: no keyword, no shared topic — 无匹配话术, the script
    still offered among the closest."""
    best = _best(form_matcher, "第一批抢完了吗")
    assert best.script_id == "" and best.reply == ""
    assert any(w.startswith("候选 film") for w in best.why)


def test_a_near_repeat_or_a_shared_topic_still_answers(form_matcher: ScriptMatcher) -> None:
    """Without a keyword, an example nearly repeated (下单几天能送到呀) or two topic bigrams shared with one
    (几天能送到家里 / 几天能送到: 送到, 天能…) are evidence enough; a keyword always is."""
    assert _best(form_matcher, "下单几天能送到呀").script_id == "arrival"
    assert _best(form_matcher, "几天能送到家里").script_id == "arrival"
    assert _best(form_matcher, "手机膜贴好了吗").script_id == "film"
    # 几天能到呀 shares one topic bigram with 几天能到 (天到, 几 能 呀 taken out): the near repeat answers
    assert _best(form_matcher, "几天能到呀").script_id == "arrival"
    strict = ScriptsSettings()
    strict.answer.near_example = 1.0
    assert _best(_load(FORM_LIBRARY, strict), "几天能到呀").script_id == ""


def test_a_script_written_for_one_product_does_not_answer_about_another(form_matcher: ScriptMatcher) -> None:
    """The screen script is written for 1号 (its reply states 1号's screen): asked about 2号 it would state a
    wrong fact. 无匹配话术, the script still offered; about 1号 (named or on air) it answers."""
    best = _best(form_matcher, "2号是直屏吗")
    assert best.script_id == "" and any(w.startswith("候选 screen") for w in best.why)
    assert _best(form_matcher, "平板屏幕怎么样").script_id == ""
    assert _best(form_matcher, "1号是直屏吗").script_id == "screen"
    assert _best(form_matcher, "屏幕怎么样").script_id == "screen"  # the product on air


@pytest.mark.parametrize("text", ["什么时候", "啥时候?", "多少"])
def test_a_question_without_a_topic_gets_no_answer_by_likeness(
    form_matcher: ScriptMatcher, text: str
) -> None:
    """什么时候 is like 什么时候上新 but asks about nothing: no example can say what it is about."""
    best = _best(form_matcher, text)
    assert best.script_id == "" and best.reply == ""


GAP_LIBRARY = """
library: {name: 测试数码, category: digital, version: "1"}
scripts:
  - id: ship_time
    intents: [logistics]
    keywords: [什么时候到, 几天发货]
    reply: "{宝宝/亲}，付款后48小时内发出"
    on_air: "48小时内发"
  - id: charging
    intents: [product]
    keywords: [充电多少, 快充]
    reply: "{宝宝/亲}，支持80W快充"
    on_air: "80W快充"
  - id: stock
    intents: [product]
    keywords: [开了吗]
    reply: "{宝宝/亲}，链接已经开了，点小黄车"
    on_air: "链接已开"
products:
  - {sku: P-1, link: 1, name: 手机, price: 2999, stock: 100}
"""


@pytest.fixture(scope="module")
def gap_matcher() -> ScriptMatcher:
    return _load(GAP_LIBRARY)


@pytest.mark.parametrize(
    ("text", "intent", "script"),
    [
        ("大概什么时候才能到", Intent.LOGISTICS, "ship_time"),  # 才能 said inside 什么时候到
        ("拍了几天才能发货", Intent.LOGISTICS, "ship_time"),
    ],
)
def test_a_keyword_said_with_a_filler_inside_is_found(
    gap_matcher: ScriptMatcher, text: str, intent: Intent, script: str
) -> None:
    assert _best(gap_matcher, text, intent).script_id == script


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("几天不发货了", Intent.LOGISTICS),  # a negation inside is no 几天发货
        ("充电宝是多少毫安", Intent.PRODUCT),  # another word inside: 充电宝 is not 充电
        (
            "开美颜了吗",
            Intent.PRODUCT,
        ),  # a split leaving only a particle on one side (开了|吗) is never tried
    ],
)
def test_a_keyword_broken_by_other_words_is_not_found(
    gap_matcher: ScriptMatcher, text: str, intent: Intent
) -> None:
    assert _best(gap_matcher, text, intent).script_id == ""


def test_the_gap_can_be_turned_off() -> None:
    config = ScriptsSettings()
    config.answer.keyword_gap = 0
    assert _best(_load(GAP_LIBRARY, config), "大概什么时候才能到", Intent.LOGISTICS).script_id == ""


EXCLUDE_LIBRARY = """
library: {name: 测试数码, category: digital, version: "1"}
scripts:
  - id: gifts
    intents: [price_promo]
    keywords: [赠品, 送的, 送什么]
    exclude: [手表, 线下]
    reply: "{宝宝/亲}，今天下单送双肩包和随行杯"
    on_air: "送双肩包+随行杯"
products:
  - {sku: P-1, link: 1, name: 手机, price: 2999, stock: 100}
"""


def test_exclude_words_keep_a_script_from_answering() -> None:
    """排除词 (issue 12): 送的什么手表 is no question for the gift-box reply — the card says 无匹配话术 and
    still offers the script to pick; without the word the script answers."""
    m = _load(EXCLUDE_LIBRARY)
    assert _best(m, "今天送的是什么", Intent.PRICE_PROMO).script_id == "gifts"
    best = _best(m, "送的什么手表", Intent.PRICE_PROMO)
    assert best.script_id == "" and best.why[0] == "无匹配话术"
    assert any(w.startswith("候选 gifts") for w in best.why)
