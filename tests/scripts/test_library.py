"""The library model: aliases, coupon type rules, vocabulary for triage, product on air."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from livecs.models import Intent, MemberTier
from livecs.scripts.library import CouponRule, Library, Script


def test_script_accepts_strings_and_chinese_intents() -> None:
    s = Script.model_validate(
        {
            "id": "a",
            "intents": "商品咨询|price_promo",
            "keywords": "尺码、码数",
            "reply": "好的",
            "examples": "a,b|c",
        }
    )
    assert s.intents == [Intent.PRODUCT, Intent.PRICE_PROMO]
    assert s.keywords == ["尺码", "码数"]
    assert s.examples == ["a,b", "c"]


def test_script_rejects_bad_template_and_unknown_field() -> None:
    with pytest.raises(ValidationError):
        Script.model_validate({"id": "a", "intents": ["product"], "reply": "{price"})
    with pytest.raises(ValidationError):
        Script.model_validate({"id": "a", "intents": ["product"], "reply": "x", "reploy": "y"})


@pytest.mark.parametrize(
    ("data", "ok"),
    [
        ({"type": "满减", "threshold": 300, "amount": 50}, True),
        ({"type": "满减", "threshold": 300}, False),
        ({"type": "full_reduction", "threshold": 50, "amount": 50}, False),
        ({"type": "限时折扣", "percent_off": 10}, False),
        (
            {
                "type": "限时折扣",
                "percent_off": 10,
                "valid_from": "2025-06-01 20:00",
                "valid_until": "2025-06-01 22:00",
            },
            True,
        ),
        ({"type": "会员专享", "amount": 20}, False),
        ({"type": "会员专享", "amount": 20, "min_tier": "粉丝团"}, True),
        ({"type": "新人券"}, False),
        ({"type": "新人券", "amount": 10}, True),
        ({"type": "赠品"}, False),
        ({"type": "赠品", "gift": "围巾"}, True),
        ({"type": "补偿券", "amount": 20}, True),
    ],
)
def test_coupon_type_fields(data: dict[str, object], ok: bool) -> None:
    base = {"id": "r", "name": "券", "stock": 10}
    if ok:
        rule = CouponRule.model_validate(base | data)
        if rule.type == "compensation":
            assert rule.requires_approval
        if rule.type == "member":
            assert rule.min_tier == MemberTier.FAN
    else:
        with pytest.raises(ValidationError):
            CouponRule.model_validate(base | data)


def test_naive_dates_are_shop_local() -> None:
    rule = CouponRule.model_validate(
        {
            "id": "r",
            "name": "券",
            "type": "限时折扣",
            "percent_off": 10,
            "stock": 1,
            "valid_from": "2025-06-01 20:00",
            "valid_until": "2025-06-01 22:00",
        }
    )
    lo, hi = rule.window()
    assert lo == 1748779200.0  # 2025-06-01 12:00 UTC
    assert hi == lo + 7200


def test_vocabulary_for_triage(apparel_library: Library) -> None:
    keywords = apparel_library.intent_keywords()
    examples = apparel_library.intent_examples()
    assert set(keywords) == set(Intent)
    assert "什么码" in keywords[Intent.PRODUCT]
    assert "包邮" in keywords[Intent.LOGISTICS]
    assert "165/110斤穿什么码" in examples[Intent.PRODUCT]
    assert all(examples[i] for i in Intent)


def test_set_on_air(apparel_library: Library) -> None:
    lib = apparel_library.model_copy(deep=True)
    assert lib.on_air_link is None
    lib.set_on_air(3)
    assert lib.on_air_link == 3
    assert lib.product_by_link(3).name == "高腰垂感阔腿裤"
    assert lib.product_by_ref("NY-P01").link == 3


def test_sample_replies_carry_no_stage_labels() -> None:
    """Regression: complaint replies said （倾听）…（解决） — the structure's labels, sent to viewers."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "scripts_library"
    for shop in ("apparel", "skincare"):
        text = (root / shop / "library.yaml").read_text(encoding="utf-8")
        assert not any(f"（{label}）" in text for label in ("倾听", "共情", "引导", "解决")), shop
