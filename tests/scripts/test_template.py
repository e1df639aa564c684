"""Templates: variables, inline random variants, escapes, syntax errors."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecs.scripts.template import (
    TemplateSyntaxError,
    Variable,
    Variants,
    fill,
    parse_template,
    render,
    variables_in,
)


def test_parse_parts() -> None:
    parts = parse_template("{宝宝/家人们/姐妹}，{link}号{{特价}}")
    assert parts == (Variants(("宝宝", "家人们", "姐妹")), "，", Variable("link"), "号{特价}")


def test_variables_in() -> None:
    assert variables_in("{price}元 {price} {coupon} {a/b}") == ["price", "coupon"]
    assert variables_in("{unclosed") == []


@pytest.mark.parametrize("bad", ["{price", "price}", "{}", "{a//b}", "{a{b}}"])
def test_syntax_errors(bad: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse_template(bad)
    assert info.value.zh and info.value.en


def test_variants_use_injected_rng() -> None:
    parts = parse_template("{宝宝/家人们/姐妹}好")
    seen = {render(parts, lambda n: "", random.Random(seed)) for seed in range(30)}
    assert seen == {"宝宝好", "家人们好", "姐妹好"}
    a = [render(parts, lambda n: "", random.Random(7)) for _ in range(3)]
    assert len(set(a)) == 1  # same seed, same choice


def test_filled_values_are_not_parsed_again() -> None:
    out = fill("你好{nickname}", {"nickname": "{price}"}, random.Random(0))
    assert out == "你好{price}"


def test_unknown_variable_left_visible() -> None:
    assert fill("{prise}元", {}, random.Random(0)) == "{prise}元"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}/ab价格宝宝_1 ")), max_size=30))
def test_parse_never_raises_anything_else(text: str) -> None:
    try:
        parts = parse_template(text)
    except TemplateSyntaxError:
        return
    out = render(parts, lambda n: "", random.Random(0))
    assert isinstance(out, str)
