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
        ("一点都不好用", -1),  # one multi-char negation, not two
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
