"""Height/weight parsing, link numbers, size advice, which product a comment is about."""

from __future__ import annotations

import pytest

from livecs.scripts.catalogue import Body, CatalogueIndex, mentioned_links, parse_body, size_advice
from livecs.scripts.library import Library
from livecs.scripts.settings import SizeAdviceSettings


@pytest.mark.parametrize(
    ("text", "height", "weight"),
    [
        ("165/110斤穿什么码", 165, 110),
        ("身高160 体重52kg", 160, 104),
        ("一米六 100斤", 160, 100),
        ("1米65 120斤", 165, 120),
        ("158 95", 158, 95),
        ("160cm 55", 160, 110),
        ("体重100 身高155", 155, 100),
        ("有S码吗", None, None),
        ("价格121.5", None, None),
    ],
)
def test_parse_body(text: str, height: float | None, weight: float | None) -> None:
    assert parse_body(text) == Body(height, weight)


def test_mentioned_links() -> None:
    assert mentioned_links("3号链接有M吗") == [3]
    assert mentioned_links("链接5和7号") == [5, 7]
    assert mentioned_links("有S码吗") == []


def test_size_advice(apparel_library: Library) -> None:
    texts = SizeAdviceSettings()
    tops = apparel_library.size_chart("tops")
    assert size_advice(tops, Body(160, 100), texts) == "160cm/100斤建议拍M码"
    assert (
        size_advice(tops, Body(165, 110), texts) == "165cm/110斤建议拍L码"
    )  # height and weight disagree: bigger
    assert "喜欢宽松拍L码" in size_advice(tops, Body(None, 108), texts)
    assert "最大的XL码" in size_advice(tops, Body(180, 170), texts)
    assert "最小的S码" in size_advice(tops, Body(None, 70), texts)
    assert size_advice(tops, Body(), texts) == texts.ask


def test_product_resolution(apparel_library: Library) -> None:
    index = CatalogueIndex(apparel_library)
    assert index.product_for("3号多少钱", 1)[0].link == 3
    assert index.product_for("阔腿裤什么码", 1)[0].link == 3
    assert index.product_for("这个多少钱", 1)[0].link == 1
    assert index.product_for("这个多少钱", None) == (None, "")
    texts = SizeAdviceSettings()
    scarf = apparel_library.product_by_link(13)
    assert index.advice_for(scarf, "160/102斤", texts) == "这款是均码，尺码问题可以私信客服"
    assert index.advice_for(None, "160/102斤", texts) == texts.no_product
