"""Matching: intent scoping, product on air, variables, 倾听-共情-引导-解决, coupons, accuracy, speed."""

from __future__ import annotations

import random
import statistics
import time
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from livecs.models import Emotion, Intent, MemberTier, Sentiment
from livecs.scripts.evaluate import KeywordFallbackTriage, evaluate, load_pairs, scaled_library
from livecs.scripts.library import Library
from livecs.scripts.matcher import ScriptMatcher, normalize

from .conftest import APPAREL, NOW, SKINCARE, make_comment, make_triage

# what normalize() did with str.translate before it became NFKC + one regex: the reference for its fast path
_REFERENCE_TRANSLATION: dict[int, int | None] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_REFERENCE_TRANSLATION.update(
    {ord(ch): None for ch in " \t\r\n\u3000,.!?;:~，。！？；：～、…\"'“”‘’()（）[]【】"}
)


def _top(m: ScriptMatcher, text: str, intent: Intent, sentiment: Sentiment = Sentiment.NEU, **kw: object):  # type: ignore[no-untyped-def]
    emotion = kw.pop("emotion", Emotion.NONE)
    comment = make_comment(text, **kw)  # type: ignore[arg-type]
    return m.match(comment, make_triage(text, intent, sentiment, emotion), now=NOW)  # type: ignore[arg-type]


def test_normalize() -> None:
    assert normalize("ＸＬ 码 有吗？") == "xl码有吗"


def test_price_of_product_on_air(apparel_matcher: ScriptMatcher) -> None:
    apparel_matcher.library.set_on_air(3)
    [best, *_] = _top(apparel_matcher, "这个多少钱", Intent.PRICE_PROMO)
    assert best.script_id == "price_this"
    assert "3号高腰垂感阔腿裤" in best.reply and "99元" in best.reply
    assert best.on_air == "3号直播间到手99元"
    assert any("on air 3" in w for w in best.why)
    # an explicit link number wins over the product on air; the on_air parameter overrides the library's
    assert "129元" in _top(apparel_matcher, "1号多少钱", Intent.PRICE_PROMO)[0].reply
    comment = make_comment("这个多少钱")
    s = apparel_matcher.match(comment, make_triage("这个多少钱", Intent.PRICE_PROMO), on_air=2, now=NOW)[0]
    assert "59元" in s.reply


def test_size_advice_filled(apparel_matcher: ScriptMatcher) -> None:
    apparel_matcher.library.set_on_air(1)
    [best, *_] = _top(apparel_matcher, "165/110斤穿什么码", Intent.PRODUCT)
    assert best.script_id == "size_advice"
    assert "165cm/110斤建议拍L码" in best.reply
    assert any("keyword" in w for w in best.why) and any("example" in w for w in best.why)


def test_missing_product_placeholder(apparel_matcher: ScriptMatcher) -> None:
    apparel_matcher.library.set_on_air(None)
    best = _top(apparel_matcher, "这个多少钱", Intent.PRICE_PROMO)[0]
    assert "【price】" in best.reply
    assert any("no product resolved" in w for w in best.why)


def test_ranked_suggestion_fields(apparel_matcher: ScriptMatcher) -> None:
    out = _top(apparel_matcher, "有S码吗", Intent.PRODUCT)
    assert 1 <= len(out) <= 3
    assert [s.score for s in out] == sorted((s.score for s in out), reverse=True)
    s = out[0]
    assert (s.room, s.comment_id, s.cluster_id, s.script_id) == ("room1", "c1", "k1", "size_in_stock")
    assert s.suggestion_id == "c1:size_in_stock"


def test_negative_reply_follows_listen_empathise_guide_solve(apparel_matcher: ScriptMatcher) -> None:
    best = _top(
        apparel_matcher,
        "三天了物流还没动 急死了",
        Intent.LOGISTICS,
        Sentiment.NEG,
        emotion=Emotion.ANXIOUS,
        nickname="小鱼",
    )[0]
    assert best.script_id == "tracking_stuck"
    # one sentence: who, empathy, the answer (its own 宝宝/亲 dropped), in the shop's casual register
    assert best.reply.startswith("小鱼，理解你着急的心情，")
    assert "我们马上帮您处理" not in best.reply and "您" not in best.reply
    assert not best.reply.removeprefix("小鱼，理解你着急的心情，").startswith(("宝宝", "亲"))
    # an empathetic script is used as written
    fraud = _top(apparel_matcher, "骗子 还不发货", Intent.COMPLAINT, Sentiment.NEG, emotion=Emotion.ANGRY)[0]
    assert fraud.script_id == "complaint_fraud"
    # listen → empathise → guide → solve, without the stage labels (viewers read this reply)
    assert not any(label in fraud.reply for label in ("倾听", "共情", "引导", "解决"))
    assert fraud.reply.index("看到了") < fraud.reply.index("抱歉") < fraud.reply.index("私信")
    assert fraud.coupon_rule_id == "comp_20"
    assert any("needs approval" in w for w in fraud.why)


def test_coupon_variable_and_rule(apparel_matcher: ScriptMatcher) -> None:
    best = _top(apparel_matcher, "粉丝团有券吗", Intent.PRICE_PROMO, tier=MemberTier.FAN)[0]
    assert best.script_id == "member_coupon"
    assert best.coupon_rule_id == "fans_199_20"
    plain = _top(apparel_matcher, "怎么领券", Intent.PRICE_PROMO)[0]
    assert "满300减50券" in plain.reply  # {coupon} filled with the best eligible rule


def test_no_invented_answer_when_nothing_matches(apparel_matcher: ScriptMatcher) -> None:
    out = _top(apparel_matcher, "嗯嗯嗯", Intent.ORDER)
    # the order fallback is not an answer: the card says 无匹配话术 and offers it to pick
    assert [s.script_id for s in out] == ["", "order_general"]
    assert out[0].reply == "" and out[0].why[0] == "无匹配话术"
    assert out[0].why[1].startswith("候选 order_general：")
    assert out[0].score > out[1].score  # the console keeps the best-scored suggestion: the card


def test_intent_scoping_prefers_triaged_intent(apparel_matcher: ScriptMatcher) -> None:
    assert _top(apparel_matcher, "包邮吗", Intent.LOGISTICS)[0].script_id == "free_shipping"
    # triage said "product" for a shipping question: the shipping script still comes first on strong keywords
    assert _top(apparel_matcher, "包邮吗", Intent.PRODUCT)[0].script_id == "free_shipping"


def test_variants_vary_with_rng(apparel_library: Library) -> None:
    replies = set()
    for seed in range(20):
        m = ScriptMatcher(apparel_library, rng=random.Random(seed))
        replies.add(_top(m, "包邮吗", Intent.LOGISTICS)[0].reply)
    assert len(replies) == 2  # {宝宝/亲}


def test_nickname_is_truncated_and_literal(apparel_matcher: ScriptMatcher) -> None:
    best = _top(apparel_matcher, "晚上好", Intent.CHITCHAT, nickname="{price}超长的昵称一二三四五六七八九十")[
        0
    ]
    # braces are dropped from a nickname the shop repeats, and the rest stays literal (never a variable)
    assert best.reply.startswith("欢迎price超长的昵称一二来到")
    assert "元" not in best.reply.split("来到")[0]


def test_accuracy_on_sample_pairs(apparel_library: Library, skincare_library: Library) -> None:
    for lib, directory in ((apparel_library, APPAREL), (skincare_library, SKINCARE)):
        matcher = ScriptMatcher(lib, rng=random.Random(0))
        pairs = load_pairs(directory / "match_pairs.jsonl")
        assert len(pairs) >= 150
        result = evaluate(matcher, pairs, KeywordFallbackTriage(matcher), "keyword")
        assert result.top1 >= 0.90, result.misses
        assert result.top3 >= 0.97, result.misses


def test_sample_libraries_shape(apparel_library: Library, skincare_library: Library) -> None:
    for lib in (apparel_library, skincare_library):
        assert len(lib.scripts) >= 60
        assert len(lib.products) >= 15
        assert {i for s in lib.scripts for i in s.intents} == set(Intent)
        assert all(p.link and p.price and p.stock for p in lib.products)
    assert all(p.size_chart or p.sizes == ["均码"] for p in apparel_library.products)
    assert all(p.skin_types and p.specs for p in skincare_library.products)


def test_speed_on_300_scripts(apparel_library: Library) -> None:
    lib = scaled_library(apparel_library)
    assert len(lib.scripts) == 300
    m = ScriptMatcher(lib, rng=random.Random(0))
    questions = [p.question for p in load_pairs(APPAREL / "match_pairs.jsonl")]
    comments = [make_comment(q, cid=f"c{i}") for i, q in enumerate(questions)]
    triages = [make_triage(q, Intent.PRODUCT) for q in questions]
    times = []
    for c, t in zip(comments, triages, strict=True):
        t0 = time.perf_counter()
        m.match(c, t, on_air=1, now=NOW)
        times.append(time.perf_counter() - t0)
    # generous bound for a loaded CI machine; `python run.py scripts bench` reports the real figure
    assert statistics.median(times) < 0.001


_MATCHERS: dict[int, ScriptMatcher] = {}


def _shared_matcher(library: Library) -> ScriptMatcher:
    if id(library) not in _MATCHERS:
        _MATCHERS[id(library)] = ScriptMatcher(library, rng=random.Random(0))
    return _MATCHERS[id(library)]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=40),
    intent=st.sampled_from(list(Intent)),
    sentiment=st.sampled_from(list(Sentiment)),
    emotion=st.sampled_from(list(Emotion)),
    on_air=st.one_of(st.none(), st.integers(-5, 40), st.text(max_size=4)),
)
def test_match_never_raises(
    apparel_library: Library,
    text: str,
    intent: Intent,
    sentiment: Sentiment,
    emotion: Emotion,
    on_air: object,
) -> None:
    m = _shared_matcher(apparel_library)
    out = m.match(make_comment(text), make_triage(text, intent, sentiment, emotion), on_air=on_air, now=NOW)  # type: ignore[arg-type]
    assert len(out) <= 3
    # a reply from a script or the catalogue, or the 无匹配话术 card (no reply at all): never an empty answer
    assert all((s.reply and s.script_id) or (not s.reply and s.why[0] == "无匹配话术") for s in out)


def test_shared_between_threads(apparel_library: Library) -> None:
    import threading

    from livecs.scripts.settings import ScriptsSettings

    cfg = ScriptsSettings()
    cfg.matcher.cache_size = 8  # constant eviction
    m = ScriptMatcher(apparel_library, cfg, rng=random.Random(0))
    questions = [p.question for p in load_pairs(APPAREL / "match_pairs.jsonl")][:60]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                for q in questions:
                    assert m.match(make_comment(q), make_triage(q, Intent.PRODUCT), now=NOW)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(m._cache) <= 8


# --- the fast paths give what the plain computations give ---------------------------------------------------


def test_normalize_fast_path_matches_full_path() -> None:
    for text in (
        "xl码有吗",
        "ＸＬ码有吗",
        "XL 码，有吗？",
        "165/110斤",
        "【3号】多少钱!!",
        "",
        "   ",
        "İstanbul",
    ):
        full = unicodedata.normalize("NFKC", text).translate(_REFERENCE_TRANSLATION).lower() if text else ""
        assert normalize(text) == full


def test_compiled_template_renders_like_parts() -> None:
    from livecs.scripts.template import CompiledTemplate, parse_template, render

    for text in ("{宝宝/家人们/姐妹}，{link}号{{特价}}", "", "纯文本", "{a}", "{{}}{x}{{", "x{a/b}{c}y{d}"):
        compiled = CompiledTemplate.of(text)
        for seed in range(5):
            expected = render(parse_template(text), lambda n: f"<{n}>", random.Random(seed))
            assert compiled.render(lambda n: f"<{n}>", random.Random(seed)) == expected
            bound = compiled.bind({"link": "3"})
            expected = render(bound.parts, lambda n: f"<{n}>", random.Random(seed))
            assert bound.render(lambda n: f"<{n}>", random.Random(seed)) == expected


def test_coupon_fast_paths_agree(apparel_library: Library) -> None:
    from livecs.scripts.coupons import CouponEngine

    engine = CouponEngine(apparel_library.coupons)
    words = engine.trigger_keywords
    assert words
    texts = [
        "有满减吗",
        "新人有券吗",
        "粉丝团有券吗",
        "骗子",
        "这个多少钱",
        "限时秒杀打折吗",
        "送什么赠品",
        "",
    ]
    products = [None, *apparel_library.products[:4]]
    for intent in Intent:
        for sentiment in Sentiment:
            for product in products:
                for text in texts:
                    plain = tuple(engine._candidates(intent, sentiment, text, product))
                    seen = any(w in text for w in words)
                    assert engine.candidates(intent, sentiment, text, product) == plain
                    assert engine.candidates(intent, sentiment, text, product, keyword_seen=seen) == plain
                    for tier in MemberTier:
                        comment = make_comment(text, tier=tier)
                        for size in (1, 30):
                            triage = make_triage(text, intent, sentiment, cluster_size=size)
                            eligible = engine.eligible_among(plain, comment, triage, NOW)
                            best = engine.best_among(plain, comment, triage, NOW)
                            assert best == (eligible[0] if eligible else None)


def test_product_from_the_matcher_scan_is_product_for(apparel_matcher: ScriptMatcher) -> None:
    questions = [p.question for p in load_pairs(APPAREL / "match_pairs.jsonl")]
    for q in [*questions, "阔腿裤3号多少钱", "连衣裙和阔腿裤", ""]:
        query = normalize(q)
        for link in (None, 1, 99):
            ranking = apparel_matcher._compute(query, Intent.PRODUCT, Sentiment.NEU, link)
            assert (ranking.product, ranking.product_why) == apparel_matcher.catalogue.product_for(
                query, link
            )


def test_an_intent_listed_twice_counts_once(apparel_library: Library) -> None:
    script = next(s for s in apparel_library.scripts if s.id == "free_shipping")
    twice = script.model_copy(update={"intents": [*script.intents, *script.intents]})
    lib = apparel_library.model_copy(
        update={"scripts": [twice if s.id == "free_shipping" else s for s in apparel_library.scripts]}
    )
    once, doubled = ScriptMatcher(apparel_library), ScriptMatcher(lib)
    for text in ("包邮吗", "偏远地区包邮吗", "运费多少"):
        assert doubled.rank(text, Intent.LOGISTICS) == once.rank(text, Intent.LOGISTICS)


def test_reply_never_repeats_an_unsafe_nickname() -> None:
    """Regression: {nickname} was filled raw: the shop's account would say '<script>x</s' or '加V123456'."""
    from livecs.scripts.matcher import reply_nickname

    assert reply_nickname("小鱼", 12) == "小鱼"
    assert reply_nickname("<script>x</script>", 12) == "scriptxscrip"
    assert reply_nickname("加V 1234 5678", 12) is None
    assert reply_nickname("vx同号看主页", 12) is None
    assert reply_nickname("www.xx.com", 12) is None
    assert reply_nickname("<<>>", 12) is None
    assert reply_nickname("王_88", 12) == "王_88"


def test_unsafe_or_empty_nickname_falls_back(apparel_matcher: ScriptMatcher) -> None:
    for nick in ("", "加V123456"):
        best = _top(
            apparel_matcher,
            "骗子 还不发货",
            Intent.COMPLAINT,
            Sentiment.NEG,
            emotion=Emotion.ANGRY,
            nickname=nick,
        )[0]
        assert best.reply.startswith("亲，") and "123456" not in best.reply and "【" not in best.reply


#: nicknames that make a claim or carry contact details
#: (issue 11: "本店卖假货大家别买，您的留言我们都看到了…")
CLAIMING_NICKNAMES = (
    "本店卖假货大家别买",
    "賣 假-貨",  # traditional, spaced
    "这家是骗子",
    "官方客服小美",
    "主播说全场免费",
    "全网最低价",
    "9块9包邮",
    "私信领红包",
    "大家快跑",
    "质量差，退货",
    "ＶＸ同号",
    "加薇 abc",
    "100%正品",
)


def test_a_nickname_that_makes_a_claim_never_appears_in_a_reply(apparel_matcher: ScriptMatcher) -> None:
    """Regression (issue 11): a suggested reply repeated a hostile nickname, so the shop's account said
    "本店卖假货大家别买". Every reply that addresses the viewer falls back to 亲 for such a nickname."""
    from livecs.scripts.nickname import fold

    for nick in CLAIMING_NICKNAMES:
        for text, intent, sentiment, emotion in (
            ("骗子 还不发货", Intent.COMPLAINT, Sentiment.NEG, Emotion.ANGRY),
            ("三天了物流还没动 急死了", Intent.LOGISTICS, Sentiment.NEG, Emotion.ANXIOUS),
            ("晚上好", Intent.CHITCHAT, Sentiment.NEU, Emotion.NONE),
        ):
            for s in _top(apparel_matcher, text, intent, sentiment, emotion=emotion, nickname=nick):
                squeezed = fold(s.reply)[1]
                for part in (
                    "假货",
                    "骗子",
                    "客服小美",
                    "免费",
                    "最低价",
                    "包邮",
                    "红包",
                    "快跑",
                    "同号",
                    "正品",
                ):
                    if part in fold(nick)[1]:
                        assert part not in squeezed.replace(fold(text)[1], ""), (nick, s.reply)
                assert nick not in s.reply, (nick, s.reply)
            first = _top(apparel_matcher, text, intent, sentiment, emotion=emotion, nickname=nick)[0]
            if intent is not Intent.CHITCHAT:
                assert first.reply.startswith("亲，"), (nick, first.reply)
            else:
                assert first.reply.startswith("欢迎亲"), (nick, first.reply)


def test_ordinary_nicknames_are_still_used() -> None:
    from livecs.scripts.nickname import makes_a_claim, reply_nickname

    for nick in ("小鱼", "Amy", "快乐小猪", "月亮", "Lily_520", "王_88", "小 鱼"):
        assert not makes_a_claim(nick), nick
        assert reply_nickname(nick, 12) == nick
    for nick in CLAIMING_NICKNAMES:
        assert makes_a_claim(nick) and reply_nickname(nick, 12) is None, nick
