"""Normalizer: width, traditional→simplified, repeats, emoji/kaomoji, slang and homophones, numbers, sizes."""

from __future__ import annotations

import pytest

from livecs.triage.normalize import Normalizer, cn_number_to_int


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer.from_data()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("有Ｓ碼嗎？", "有S码吗?"),  # full width + traditional
        ("這個顏色還有貨嗎", "这个颜色还有货吗"),
        ("哈哈哈哈哈哈哈哈", "哈哈哈"),
        ("！！！！！", "!!"),
        ("拍了拍了拍了拍了", "拍了拍了"),
        ("yhq怎么领", "优惠券怎么领"),
        ("这单什么时候fh", "这单什么时候发货"),
        ("jg多少", "价格多少"),
        ("优惠卷在哪", "优惠券在哪"),
        ("加威信", "加微信"),
        ("咋还不发", "怎么还不发"),
        ("165 100斤穿什么码", "165/100斤穿什么码"),
        ("165/100 xl还是l", "165/100斤 XL还是L"),
        ("三天了还不发货", "3天了还不发货"),
        ("二十天了", "20天了"),
        ("第一次来", "第一次来"),  # a lone 一 stays
        ("主播好美❤️", "主播好美[心]"),
        ("😭😭", "[大哭][大哭]"),
        ("(╯°□°)╯ 气死", "[怒] 气死"),
        ("how much", "多少钱"),
        ("  多  空格  ", "多 空格"),
    ],
)
def test_normalize_cases(normalizer: Normalizer, raw: str, expected: str) -> None:
    assert normalizer.normalize(raw).text == expected


def test_folded_keeps_disguises(normalizer: Normalizer) -> None:
    out = normalizer.normalize("威❤：ＡＢＣ１２３")
    assert out.folded == "威❤:abc123"


@pytest.mark.parametrize("raw", ["", "\x00\x01\u200b", "🙂" * 50, "a" * 5000, "\ud800x", "\n\t"])
def test_odd_input_never_raises(normalizer: Normalizer, raw: str) -> None:
    out = normalizer.normalize(raw)
    assert isinstance(out.text, str)
    assert len(out.text) <= normalizer.max_chars * 8


def test_long_text_is_capped(normalizer: Normalizer) -> None:
    assert len(normalizer.normalize("好" * 5000).folded) == normalizer.max_chars


@pytest.mark.parametrize(
    ("numeral", "value"), [("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("三十五", 35)]
)
def test_cn_numbers(numeral: str, value: int) -> None:
    assert cn_number_to_int(numeral) == value
