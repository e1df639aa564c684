"""Lexicon scan: sentiment words with negation and intensifiers, emotion cues, hostility and spam cues."""

from __future__ import annotations

import pytest

from livecs.triage.lexicon import Lexicon, load_lexicon_data


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon(load_lexicon_data())


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("好看", 1),
        ("不好看", -1),  # negation flips
        ("感觉一点都不好用", -1),  # one multi-char negation, not two
        ("不是不好看", 1),  # double negation
        ("不错", 1),  # longest match: 不错 is positive, not 不 + 错
        ("太贵了", -1),
        ("不贵", 0),  # neutraliser
        ("甜不甜", 0),  # X不X is a question, not a negation
        ("有S码吗", 0),
    ],
)
def test_polarity_with_negation(lexicon: Lexicon, text: str, sign: int) -> None:
    polarity = lexicon.scan(text).polarity
    assert (polarity > 0) - (polarity < 0) == sign


def test_intensifier_raises_weight(lexicon: Lexicon) -> None:
    plain, strong = lexicon.scan("好看"), lexicon.scan("很好看")
    assert strong.pos > plain.pos
    assert "#intens" in strong.tags


def test_negated_tag_for_the_model(lexicon: Lexicon) -> None:
    assert "#negated_pos" in lexicon.scan("不漂亮").tags


def test_emotion_hostility_and_spam_cues(lexicon: Lexicon) -> None:
    hits = lexicon.scan("骗子 我要投诉")
    assert hits.complaint_terms and hits.emotions.get("angry")
    assert lexicon.scan("急死了 快发货").emotions.get("anxious")
    assert lexicon.scan("看我主页").spam.get("lure")
    assert lexicon.scan("楼上傻子").spam.get("insults")
    assert lexicon.scan("还有货吗 没抢到").stock_urgency


def test_merchant_keywords(lexicon: Lexicon) -> None:
    fresh = Lexicon(lexicon.data)
    assert fresh.add_merchant_keywords("product", ["克重", "克重"]) == 1
    assert fresh.scan("这个克重多少").merchant == {"product": 1}
    assert lexicon.scan("这个克重多少").merchant == {}


@pytest.mark.parametrize(
    "text", ["主播睁眼说瞎话", "我要找平台介入", "一直已读不回", "不退款就法庭见", "卖这种货良心不会痛吗"]
)
def test_new_grievance_cues(lexicon: Lexicon, text: str) -> None:
    assert lexicon.scan(text).complaint_terms


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("楼上是不是有病", "insults"),
        ("楼上脑子有问题吧", "insults"),
        ("楼上你瞎吗", "insults"),
        ("有兴趣的看朋友圈", "lure"),
        ("需要的看我置顶视频", "lure"),
        ("拿货找我 彩票带单", "ads"),
    ],
)
def test_new_spam_cues(lexicon: Lexicon, text: str, category: str) -> None:
    assert lexicon.scan(text).spam.get(category)


@pytest.mark.parametrize("text", ["有没有病毒", "有病虫害吗", "扫码付款可以吗", "是翻新的吗"])
def test_new_cues_leave_plain_questions_alone(lexicon: Lexicon, text: str) -> None:
    hits = lexicon.scan(text)
    assert not hits.spam and not hits.complaint_terms


def test_leaving_the_shop_reads_disappointed(lexicon: Lexicon) -> None:
    assert lexicon.scan("取关了 不会再来").emotions.get("disappointed")
