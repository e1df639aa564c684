"""TriageEngine end to end: domain understanding, odd input, clusters, floods, priority, merchant keywords."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from livecs.models import Emotion, Intent, MemberTier, Priority, Sentiment
from livecs.triage.engine import TriageEngine
from livecs.triage.model import LinearModel
from livecs.triage.settings import TriageSettings

from .conftest import CommentFactory


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("有S码吗", Intent.PRODUCT),
        ("几号链接", Intent.PRODUCT),
        ("多少钱", Intent.PRICE_PROMO),
        ("yhq在哪领", Intent.PRICE_PROMO),
        ("这单什么时候发货", Intent.LOGISTICS),
        ("能用花呗吗", Intent.PAYMENT),
        ("怎么退货", Intent.AFTER_SALES),
        ("地址写错了能改吗", Intent.ORDER),
        ("骗子 三天了还不发货", Intent.COMPLAINT),
        ("12315见", Intent.COMPLAINT),
        ("拍了拍了", Intent.BUY_SIGNAL),
        ("扣1", Intent.CHITCHAT),
        ("主播好美", Intent.CHITCHAT),
        ("加威信 abc123", Intent.SPAM),
    ],
)
def test_intents(engine: TriageEngine, make_comment: CommentFactory, text: str, intent: Intent) -> None:
    assert engine.triage(make_comment(text), 1000.0).intent is intent


def test_plain_question_is_neutral_where_snownlp_says_negative(engine: TriageEngine) -> None:
    analysis = engine.analyze_text("有S码吗")
    assert analysis.sentiment is Sentiment.NEU and 0.4 < analysis.sentiment_score < 0.6


def test_complaint_is_negative_angry_p0(engine: TriageEngine, make_comment: CommentFactory) -> None:
    out = engine.triage(make_comment("卖假货还敢直播 我要投诉"), 1000.0)
    assert out.intent is Intent.COMPLAINT and out.sentiment is Sentiment.NEG
    assert out.emotion is Emotion.ANGRY and out.priority is Priority.P0 and out.sla_deadline == 1030.0


@pytest.mark.parametrize(
    "text", ["", "   ", "😂😂😂", "\x00\x07\u200b", "哈" * 5000, "？？？", "[比心]", "\ud800"]
)
def test_odd_input_never_raises(engine: TriageEngine, make_comment: CommentFactory, text: str) -> None:
    out = engine.triage(make_comment(text), 1000.0)
    assert out.intent in Intent and out.priority in Priority
    assert len(out.normalized) <= 5000


def test_garbage_comment_object_is_survived(engine: TriageEngine, make_comment: CommentFactory) -> None:
    comment = make_comment("有S码吗")
    comment.text = None  # type: ignore[assignment]
    comment.member_tier = "gold"  # type: ignore[assignment]
    out = engine.triage(comment, 1000.0)
    assert out.comment_id == comment.comment_id


def test_repeated_question_cluster(engine: TriageEngine, make_comment: CommentFactory) -> None:
    outs = [engine.triage(make_comment("主播 S码还有吗", user=f"u{i}"), 1000.0 + i) for i in range(10)]
    assert len({o.cluster_id for o in outs}) == 1 and outs[0].cluster_id
    assert [o.cluster_size for o in outs] == list(range(1, 11))
    assert outs[-1].priority is Priority.P1 and "cluster×10" in outs[-1].reasons
    (cluster,) = engine.open_clusters("r1", 1010.0)
    assert cluster.count == 10


def test_user_flood_becomes_spam_but_questions_stay(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    pasted = "关注主播不迷路天天都有好东西分享"
    outs = [engine.triage(make_comment(pasted, user="flooder"), 1000.0 + i) for i in range(4)]
    assert [o.spam for o in outs] == [False, False, True, True]
    assert outs[-1].spam_reason == "flood:repeat" and outs[-1].priority is Priority.MOD
    asks = [engine.triage(make_comment("这单什么时候发货", user="asker"), 1000.0 + i) for i in range(4)]
    assert not any(o.spam for o in asks)
    # laughter and cheering repeated by one viewer are never a flood (issue 17: real rooms do this)
    cheers = [engine.triage(make_comment("666666哈哈", user="fan"), 1000.0 + i) for i in range(4)]
    assert not any(o.spam for o in cheers)


def test_a_chant_of_many_viewers_is_not_a_flood_but_a_pasted_ad_is(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    # a song line or a cheer typed by a whole room at once (a Bilibili room chanted an English line)
    for i, chant in enumerate(("we love you forever", "主播今天唱得真好听呀好喜欢")):
        levels = [
            engine.triage(
                make_comment(chant, user=f"fan{n}", room=f"c{i}", ts=1000.0 + n), 1000.0 + n
            ).priority
            for n in range(12)
        ]
        assert Priority.MOD not in levels, chant
    # one weak ad word is not spam from one viewer, but pasted by many accounts it is a bot wave
    pasted = "家人们隔壁直播间今天福利真的多呀"
    assert not engine.triage(make_comment(pasted, user="solo", room="w0"), 1000.0).spam
    outs = [
        engine.triage(make_comment(pasted, user=f"bot{n}", room="w1", ts=1000.0 + n), 1000.0 + n)
        for n in range(12)
    ]
    assert outs[-1].spam_reason == "flood:copy_paste" and outs[-1].priority is Priority.MOD


def test_member_tier_raises_priority(engine: TriageEngine, make_comment: CommentFactory) -> None:
    plain = engine.triage(make_comment("这单什么时候发货", user="a"), 1000.0)
    vip = engine.triage(make_comment("发什么快递", user="b", tier=MemberTier.VIP), 1000.0)
    assert plain.priority is Priority.P2 and vip.priority is Priority.P1


def test_state_is_bounded_over_a_long_broadcast(engine: TriageEngine, make_comment: CommentFactory) -> None:
    for i in range(3000):
        engine.triage(make_comment(f"问题{i}号什么材质", user=f"u{i}", ts=i * 5.0), i * 5.0)  # 4+ hours
    size = engine.state_size()
    assert size["open_clusters"] <= 64 and size["flood_windows"] <= 100


def test_add_keywords_and_examples(engine: TriageEngine, make_comment: CommentFactory) -> None:
    before = engine.triage(make_comment("蓝莓果径多大"), 1000.0).intent
    assert engine.add_keywords(Intent.PRODUCT, ["果径"]) == 1
    assert engine.triage(make_comment("蓝莓果径多大"), 1001.0).intent is Intent.PRODUCT or before
    engine.add_keywords(Intent.PRICE_PROMO, [], ["今天这个链接能打几折"])
    out = engine.triage(make_comment("今天这个链接能打几折啊"), 1002.0)
    assert out.intent is Intent.PRICE_PROMO and out.intent_confidence == 1.0


def test_from_config_reads_yaml_and_keywords(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "triage.yaml").write_text(
        "cluster:\n  window_s: 5\nexamples:\n  order: [帮我把两单拼一起寄]\n", encoding="utf-8"
    )
    path = tmp_path / "livecs.yaml"
    path.write_text("triage:\n  include: triage.yaml\n", encoding="utf-8")
    monkeypatch.setenv("LIVECS_TRIAGE__FLOOD__SAME_USER_SAME_TEXT", "2")
    engine = TriageEngine.from_config(path)
    assert engine.clusters.window_s == 5.0 and engine.flood.same_user_same_text == 2
    assert engine.analyze_text("帮我把两单拼一起寄").intent is Intent.ORDER


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("抽奖都是内定的吧", Intent.COMPLAINT),
        ("收钱不发货 走着瞧", Intent.COMPLAINT),
        ("问了半天没人理", Intent.COMPLAINT),
        ("加个v 同号", Intent.SPAM),
        ("日入五百 一单一结", Intent.SPAM),
        ("楼上眼瞎", Intent.SPAM),
    ],
)
def test_new_accusation_and_spam_cues(engine: TriageEngine, text: str, intent: Intent) -> None:
    assert engine.analyze_text(text).intent is intent


@pytest.mark.parametrize("text", ["这个是不是正品", "扫码付款可以吗", "有二维码吗"])
def test_authenticity_and_payment_questions_are_not_complaints_or_spam(
    engine: TriageEngine, text: str
) -> None:
    assert engine.analyze_text(text).intent not in (Intent.COMPLAINT, Intent.SPAM)


def test_one_cache_lookup_per_repeated_text(engine: TriageEngine, make_comment: CommentFactory) -> None:
    first = engine.analyze_text("有S码吗")
    assert engine.analyze_text("有S码吗") is first
    engine.triage(make_comment("有S码吗"), 1000.0)
    assert engine._analyze_raw.cache_info().hits >= 2
    engine.add_keywords(Intent.PRODUCT, ["克重"])
    assert engine._analyze_raw.cache_info().currsize == 0  # merchant keywords clear both levels


@pytest.mark.parametrize(
    "text",
    [
        "品质还是一如既往，购物体验很满意。",
        "穿上很舒服，客服态度也特别友好，总之谢谢店家，这次购物很满意！",
        "裤子质量非常好，穿着也挺舒服，这是第二次回购了，店家态度也不错。",
    ],
)
def test_praise_is_not_forced_into_a_negative_complaint(engine: TriageEngine, text: str) -> None:
    # A complaint guessed by the model alone but felt as positive is a contradiction: next-best intent.
    analysis = engine.analyze_text(text)
    assert analysis.intent is not Intent.COMPLAINT
    assert analysis.sentiment is Sentiment.POS and analysis.sentiment_score >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "这客服态度也太差了",
        "主播只顾着卖 根本不看评论",
        "主播傻逼",
        "骗子 三天了还不发货",
        "提交了工单 石沉大海",
        "打315",
    ],
)
def test_grievances_stay_negative_complaints(engine: TriageEngine, text: str) -> None:
    analysis = engine.analyze_text(text)
    assert analysis.intent is Intent.COMPLAINT and analysis.sentiment is Sentiment.NEG


def test_spam_affect_insult_by_rule_or_felt_negative_by_the_model() -> None:
    from livecs.triage.analyze import TextAnalyzer
    from livecs.triage.normalize import NormalizedText

    norm = NormalizedText("x", "x")
    assert TextAnalyzer._affect_rules(norm, "spam", "insult", "neu", "") == ("neg", "angry")
    assert TextAnalyzer._affect_rules(norm, "spam", "model", "neg", "confused") == ("neg", "angry")
    assert TextAnalyzer._affect_rules(norm, "spam", "model", "neu", "") == ("neu", "")
    assert TextAnalyzer._affect_rules(norm, "spam", "lure", "neg", "angry") == ("neu", "")


@pytest.mark.parametrize("text", ["这个一星期能到吗", "没底线的低价 冲", "又没抢到 好失望"])
def test_hostility_words_inside_other_words_are_not_complaints(engine: TriageEngine, text: str) -> None:
    assert engine.analyze_text(text).intent is not Intent.COMPLAINT


# --- real rooms (issue 17) -----------------------------------------------------------------------------


def test_shop_voice_reply_is_recorded_not_triaged(engine: TriageEngine, make_comment: CommentFactory) -> None:
    t = engine.triage(make_comment("@小***宝宝,可以咨询人工客服查询物流哦~", user=""), 1000.0)
    assert t.priority is Priority.P3 and t.intent is Intent.CHITCHAT and t.reasons == ["shop_account"]


def test_an_account_posting_shop_replies_is_learned(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    for name in ("阿", "南"):
        engine.triage(make_comment(f"@{name}***亲,发货时间可以联系人工客服哦~", user="shop1"), 1000.0)
    later = engine.triage(make_comment("新款上架啦,福利限时领!", user="shop1"), 1001.0)
    assert later.reasons == ["shop_account"]
    other_room = engine.triage(make_comment("新款上架啦,福利限时领!", user="shop1", room="r2"), 1001.0)
    assert other_room.reasons != ["shop_account"]


def test_configured_shop_account(base_config: TriageSettings, make_comment: CommentFactory) -> None:
    config = base_config.with_overrides({"shop.accounts": [844868159547143]})  # a YAML number is an id too
    engine = TriageEngine(config)
    t = engine.triage(make_comment("骗子", user="844868159547143"), 1000.0)
    assert t.priority is Priority.P3 and t.reasons == ["shop_account"]


def test_a_viewer_mentioning_the_shop_with_a_grievance_is_not_the_shop(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    t = engine.triage(make_comment("@客服 骗子 联系客服三天了没人理", user=""), 1000.0)
    assert t.priority is Priority.P0 and "shop_account" not in t.reasons


@pytest.mark.parametrize(
    "text", ["我喝了你家的代餐两个月瘦了十五斤,闺蜜也跟着喝", "别家的都没用,就你家的面霜让我的痘痘全消了"]
)
def test_testimonials_are_not_alarms(engine: TriageEngine, make_comment: CommentFactory, text: str) -> None:
    t = engine.triage(make_comment(text), 1000.0)
    assert t.priority is not Priority.P0 and t.intent is not Intent.COMPLAINT


def test_repeated_product_name_is_not_a_flood(engine: TriageEngine, make_comment: CommentFactory) -> None:
    levels = [
        engine.triage(make_comment("小棕瓶!!小棕瓶!!", ts=1000.0 + i), 1000.0 + i).priority for i in range(6)
    ]
    assert Priority.MOD not in levels
    pasted = "家人们快来看看这个宝贝真的超级好用"
    levels = [engine.triage(make_comment(pasted, ts=2000.0 + i), 2000.0 + i).priority for i in range(4)]
    assert levels[-1] is Priority.MOD  # a long message pasted again and again still floods


def test_platform_emote_is_not_a_lure(engine: TriageEngine, make_comment: CommentFactory) -> None:
    assert engine.triage(make_comment("祝主播生日快乐[互粉]"), 1000.0).priority is not Priority.MOD
    assert engine.triage(make_comment("互粉互关 看我主页"), 1000.0).priority is Priority.MOD


@pytest.mark.parametrize(
    "text", ["问了你好几遍了 孕妇能不能用", "为什么不回我 问的尺码", "求回复 到底有没有货"]
)
def test_asking_again_after_being_ignored_is_an_alarm(
    engine: TriageEngine, make_comment: CommentFactory, text: str
) -> None:
    t = engine.triage(make_comment(text), 1000.0)
    assert t.intent is Intent.COMPLAINT and t.priority is Priority.P0


@pytest.mark.parametrize(
    "text",
    [
        "这件有M码吗 回复一下",
        "能不能回答一下我的问题",
        "能回复吗 孕妇能用不",
        "我都问了3遍了",
        "问了好多次",
        "手上那个刚才问过了",
        # being ignored or silenced (TAXONOMY: "主播怎么不理人")
        "客服一直没回复",
        "主播看不见我发的吗",
        "我的评论又被屏蔽了",
        "刷了半天都没回",
    ],
)
def test_a_request_for_a_reply_is_a_disappointed_alarm(
    engine: TriageEngine, make_comment: CommentFactory, text: str
) -> None:
    # TAXONOMY (real rooms): asking again after being ignored is complaint/disappointed, any question.
    t = engine.triage(make_comment(text), 1000.0)
    assert (t.intent, t.priority) == (Intent.COMPLAINT, Priority.P0)
    assert t.emotion.value in ("disappointed", "angry")
    assert "threat" not in t.reasons  # no threat word: the card must not say 威胁


@pytest.mark.parametrize("text", ["我还没回复他呢", "我都没回复群消息", "我没回复", "我看不到我的订单了"])
def test_the_viewer_not_replying_is_not_being_ignored(text: str) -> None:
    from livecs.triage.analyze import _WAITING_GRIEVANCE_RE

    assert _WAITING_GRIEVANCE_RE.search(text) is None  # the viewer did not reply: nobody ignored them


@pytest.mark.parametrize(
    "text",
    [
        # every real-room annotator labelled a stated slowness (快递太慢了, 发货慢) complaint/disappointed
        "发货太慢了吧",
        "你家物流好慢啊",
        "快递慢死了",
        "下单五天了 发货真慢",
        # TAXONOMY (real rooms): asking again after being ignored is a complaint, whatever the question
        "发货时间回答我一下",
        "主播能不能回一句",
        "你们是不看公屏吗",
        "主播你看不见吗",
    ],
)
def test_slowness_or_being_ignored_is_a_disappointed_alarm(
    engine: TriageEngine, make_comment: CommentFactory, text: str
) -> None:
    t = engine.triage(make_comment(text), 1000.0)
    assert (t.intent, t.priority) == (Intent.COMPLAINT, Priority.P0)
    assert t.emotion.value in ("disappointed", "angry") and "threat" not in t.reasons


@pytest.mark.parametrize("text", ["鬼才信 天天说最后一波", "主播又睁眼说瞎话", "听你吹吧 谁信啊"])
def test_disbelief_at_the_streamer_is_an_alarm(
    engine: TriageEngine, make_comment: CommentFactory, text: str
) -> None:
    # TAXONOMY: accusations aimed at the shop or streamer (here: of lying) are complaints.
    t = engine.triage(make_comment(text), 1000.0)
    assert (t.intent, t.priority, t.sentiment.value) == (Intent.COMPLAINT, Priority.P0, "neg")


@pytest.mark.parametrize(
    ("text", "alarm"),
    [
        # TAXONOMY: hostility toward the shop or streamer is a complaint, slur or not, named or not
        ("你说话真的好烦人", True),
        ("主播你太虚伪了吧", True),
        ("助播废话真多", True),
        ("你们情商太低了", True),
        ("让助播闭嘴好吗", True),  # the assistant streamer is the shop: an insult at them is no viewer's spam
        ("磨叽什么呢", True),
        ("又在作秀", True),
        # said of food, a design or a third party, laughing, or a jibe not said to the streamer: no grievance
        ("这个味道有点恶心", False),
        ("这款设计太丑了", False),
        ("他最近飘了", False),
        ("听说有人吹牛", False),
        ("你又胡说了哈哈哈", False),
        ("你又嘚瑟[笑哭]", False),
        ("别人都在瞎扯", False),
        ("今天烦死了", False),  # the viewer's own mood
        ("不许胡说", False),
        # whether goods are genuine, asked, is a product question; said, or asked with 吧, an accusation
        ("这个面霜是假的吗", False),
        ("网上说的那个到底是不是智商税", False),
        ("这台是全新还是二手的呢", False),
        ("这个包是高仿的吗", False),
        ("你们卖的是假货吧", True),
        ("不是正品吗？你这个是假的", True),
        ("这就是智商税", True),
        ("卖假货的骗子", True),
    ],
)
def test_hostility_at_the_shop_is_an_alarm_and_the_same_words_elsewhere_are_not(
    engine: TriageEngine, make_comment: CommentFactory, text: str, alarm: bool
) -> None:
    t = engine.triage(make_comment(text), 1000.0)
    if alarm:
        assert (t.intent, t.priority, t.sentiment.value) == (Intent.COMPLAINT, Priority.P0, "neg")
    else:
        assert t.priority != Priority.P0 and t.intent != Intent.COMPLAINT


@pytest.mark.parametrize(
    "text",
    [
        "看回复下面的链接",
        "充满要多久 回复我就下单",  # a reply as the condition of buying: a question, not a grievance
        "我刚问了客服",
        "垃圾袋",  # goods (a real room sold bin bags: each 垃圾袋 was a P0 "垃圾" complaint)
        "垃圾袋有没有大号的",
        "垃圾桶还有吗",
        "快递慢吗",  # a delay asked about stays logistics
        "发货慢不慢",
        "过年期间物流会慢一点",
        "慢慢来不着急",
        "发货能快点吗",
    ],
)
def test_not_a_reply_request_nor_a_grievance(
    engine: TriageEngine, make_comment: CommentFactory, text: str
) -> None:
    t = engine.triage(make_comment(text), 1000.0)
    assert t.intent is not Intent.COMPLAINT and t.priority is not Priority.P0


@pytest.mark.parametrize("text", ["乡巴佬卤蛋还有吗", "乡巴佬鸡腿来一箱"])
def test_goods_named_with_an_abuse_word_are_not_abuse(
    engine: TriageEngine, make_comment: CommentFactory, text: str
) -> None:
    # 乡巴佬 before a snack is a brand (as 垃圾袋 is a bin bag): never moderated as a slur
    t = engine.triage(make_comment(text), 1000.0)
    assert t.intent is not Intent.SPAM and t.priority is not Priority.MOD


def test_shop_notices_without_a_mention(engine: TriageEngine, make_comment: CommentFactory) -> None:
    for text in ("售后问题请联系我们的在线客服哦", "发货时间请以商品详情页为准"):
        assert engine.triage(make_comment(text, user=""), 1000.0).reasons == ["shop_account"]
    asked = engine.triage(make_comment("怎么找客服呢", user=""), 1000.0)
    assert asked.priority is not Priority.P0 and asked.reasons != ["shop_account"]


def test_feeling_odds_move_the_sentiment_choice(
    base_config: TriageSettings, model: LinearModel, make_comment: CommentFactory
) -> None:
    text = "主播太美了 爱了爱了"
    assert TriageEngine(base_config, model).triage(make_comment(text), 1000.0).sentiment.value == "pos"
    damped = base_config.with_overrides({"intent.positive_odds": 1e-6})
    assert TriageEngine(damped, model).triage(make_comment(text), 1000.0).sentiment.value != "pos"


def test_a_name_typed_over_and_over_is_the_goods(base_config: TriageSettings, model: LinearModel) -> None:
    """TAXONOMY (real rooms): a bare name typed into chat asks to show it. A name the model is unsure of,
    repeated, is product; cheers it knows well stay chit-chat; the setting at 0 turns the rule off."""
    off = TriageEngine(base_config.with_overrides({"intent.repeated_name_chitchat_below": 0.0}), model)
    on = TriageEngine(base_config, model)
    threshold = base_config.intent.repeated_name_chitchat_below
    assert threshold > 0
    names = ("竹蜻蜓竹蜻蜓", "浮漂浮漂", "鹿角巷鹿角巷")
    unsure = [
        t
        for t in names
        if off.analyze_text(t).intent is Intent.CHITCHAT and off.analyze_text(t).intent_confidence < threshold
    ]
    assert unsure, "the model should be unsure of these names"
    for text in unsure:
        assert on.analyze_text(text).intent is Intent.PRODUCT
    for text in ("支持支持支持", "来了来了", "好看好看", "哈哈哈哈"):
        assert on.analyze_text(text).intent is Intent.CHITCHAT
    assert on.analyze_text("竹蜻蜓").intent is off.analyze_text("竹蜻蜓").intent  # once is not the rule's
