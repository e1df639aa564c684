"""Masking rules: what is replaced, what ordinary danmaku keep, pseudonyms, structured data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecs.review.mask import Masker, mask_nickname, mask_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我电话13812345678", "我电话[手机]"),
        ("电话 138-1234-5678 谢谢", "电话 [手机] 谢谢"),
        ("+86 138 1234 5678", "[手机]"),
        ("身份证11010519491231002X", "身份证[身份证]"),
        ("邮箱 a.b@example.com", "邮箱 [邮箱]"),
        ("加我qq 12345678", "加我[QQ]"),
        ("扣扣：987654321", "[QQ]"),
        ("vx: abc_12345", "[微信]"),
        ("加v abc12345 领福利", "[微信] 领福利"),
        ("订单号是DD20240518001", "[订单]"),
        ("单号 SF1234567890", "[订单]"),
        ("流水 1234567890123", "流水 [数字]"),
        ("幸福小区3栋2单元502室", "[地址]"),
        ("寄到天津市和平区南京路1号", "[地址]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "有S码吗",
        "3号和5号有什么区别",
        "几号链接",
        "1111",
        "165/110斤穿什么码",
        "满300减50能叠加吗",
        "新疆发吗",
        "上海市发货吗",
        "我家在朝阳区",
        "拍了 几天能发出",
        "扣1",
        "666",
        "主播好美",
    ],
)
def test_ordinary_danmaku_are_untouched(text: str) -> None:
    assert mask_text(text) == text


@given(
    st.text(alphabet="主播有码吗拍了发货 ", max_size=8),
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["", " ", "-"]),
)
@settings(max_examples=200, deadline=None)
def test_any_mobile_number_is_masked(prefix: str, second: str, rest: str, sep: str) -> None:
    number = f"1{second}{rest}"
    spelled = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    out = mask_text(f"{prefix}{spelled}谢谢")
    assert number not in out and spelled not in out
    assert "[手机]" in out


def test_pseudonyms_are_stable_per_key_and_unlinkable_across_keys() -> None:
    a, b = Masker(key=b"k1"), Masker(key=b"k2")
    assert a.user("uid-1") == a.user("uid-1") != a.user("uid-2")
    assert a.user("uid-1") != b.user("uid-1")
    assert "uid-1" not in a.user("uid-1")
    assert Masker().user("x") != Masker().user("x")  # a fresh random key per report


def test_nicknames_keep_first_and_last_character() -> None:
    assert mask_nickname("小明同学") == "小**学"
    assert mask_nickname("小明") == "小*"
    assert mask_nickname("明") == "*"
    assert mask_nickname("") == ""


def test_structured_values_and_disabled_masker() -> None:
    m = Masker(key=b"k")
    data = {"order_id": "123456789012345678", "link": 3, "note": "电话13812345678", "user_id": "u9"}
    out = m.value(data)
    assert out["order_id"] == "[已脱敏]" and out["link"] == 3
    assert out["note"] == "电话[手机]" and out["user_id"] == m.user("u9")
    off = Masker(enabled=False)
    assert off.value(data) == data and off.text("13812345678") == "13812345678" and off.user("u") == "u"
