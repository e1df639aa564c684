"""Validation: precise bilingual errors with file/sheet/line/column, all at once, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.validate import check, load_bytes

GOOD = """\
library: {name: 测试店}
variables: {shop: 测试店}
products:
  - {sku: A1, link: 1, name: 裙子, price: 99, stock: 10, size_chart: dress}
size_charts:
  - id: dress
    rows:
      - {size: S, height_min: 150, height_max: 160, weight_min: 80, weight_max: 100}
scripts:
  - id: price
    intents: [price_promo]
    keywords: [多少钱]
    reply: "{price}元"
    on_air: "{price}元"
"""


def _codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.code for i in result.issues]


def test_good_file_loads() -> None:
    result = load_bytes([("shop.yaml", GOOD.encode())])
    assert result.library is not None
    assert [i for i in result.issues if i.severity == "error"] == []


def test_unknown_variable_message_has_line_and_both_languages(tmp_path: Path) -> None:
    text = (
        GOOD
        + """\
  - id: size
    intents: [product]
    keywords: [尺码]
    reply: "{prise}元"
    on_air: "尺码"
"""
    )
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    result = check([path])
    assert result.library is None
    [issue] = [i for i in result.issues if i.code == "lint.unknown_variable"]
    line = text.splitlines().index('    reply: "{prise}元"') + 1
    assert f"第{line}行 reply: 未知变量 {{prise}}（是不是 {{price}}？）" in issue.format()
    assert f"line {line} reply: unknown variable {{prise}} (did you mean {{price}}?)" in issue.format()
    assert issue.format().startswith("shop.yaml: ")


def test_all_errors_reported_at_once() -> None:
    text = """\
library: {name: 测试店}
scripts:
  - id: a
    intents: [produkt]
    reply: "ok"
  - id: a
    intents: [product]
    reply: ""
  - id: b
    intents: [product]
    reply: "ok"
    reploy: typo
    products: ["9"]
coupons:
  - {id: c1, name: 满减, type: 满减, threshold: 100, stock: 5}
products:
  - {sku: A1, link: 1, name: 裙子, price: -1, stock: 10}
  - {sku: A2, link: 2, name: 裤子, price: 10, stock: 1, size_chart: nope}
  - {sku: A3, link: 2, name: 帽子, price: 10, stock: 1}
"""
    result = load_bytes([("shop.yaml", text.encode())])
    assert result.library is None
    codes = _codes(result)
    for expected in (
        "invalid.enum",
        "invalid.string_too_short",
        "invalid.extra_forbidden",
        "invalid.value_error",
        "invalid.greater_than_equal",
        "duplicate_products_link",
        "unknown_size_chart",
    ):
        assert expected in codes, (expected, codes)
    by_code = {i.code: i for i in result.issues}
    assert by_code["invalid.enum"].location.line == 4
    assert "produkt" in by_code["invalid.enum"].zh
    assert by_code["invalid.extra_forbidden"].location.line == 12
    assert by_code["invalid.value_error"].zh.startswith("满减券需要")
    assert by_code["unknown_size_chart"].location.line == 18


def test_duplicate_script_and_unknown_product() -> None:
    text = (
        GOOD
        + """\
  - id: price
    intents: [product]
    reply: "x"
    products: ["7"]
"""
    )
    codes = _codes(load_bytes([("shop.yaml", text.encode())]))
    assert "duplicate_scripts_id" in codes
    assert "unknown_product" in codes


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"library: [unclosed", "yaml_syntax"),
        (b"\xff\xfe bad", "encoding"),
        (b"- just a list", "yaml_shape"),
        (b"library: {name: x}\nscriptz: []", "unknown_section"),
        (b"library: {name: x}\nlibrary: {name: y}", "duplicate_section"),
        (b"variables: {a: b}", "missing_library_info"),
        (b"library: {name: x, name: y}", "duplicate_key"),
    ],
)
def test_file_level_errors(content: bytes, code: str) -> None:
    result = load_bytes([("shop.yaml", content)])
    assert result.library is None or code == "duplicate_key"
    assert code in _codes(result)


def test_yaml_syntax_error_has_line() -> None:
    result = load_bytes([("shop.yaml", b'library: {name: x}\nscripts:\n  - id: a\n    reply: "open\n')])
    [issue] = result.issues
    assert issue.code == "yaml_syntax" and issue.location.line is not None


def test_unknown_format_and_size_limit() -> None:
    assert _codes(load_bytes([("shop.docx", b"x")])) == ["unknown_format"]
    # .txt is the 关键词|回复 rules format (issue 12): a line without | is a format error, not an unknown file
    assert "rule_format" in _codes(load_bytes([("shop.txt", b"x")]))
    cfg = ScriptsSettings()
    cfg.limits.max_file_bytes = 10
    assert "file_too_large" in _codes(load_bytes([("shop.yaml", GOOD.encode())], cfg))


def test_row_and_count_limits() -> None:
    cfg = ScriptsSettings()
    cfg.limits.max_rows_per_section = 1
    cfg.limits.max_reply_chars = 2
    text = GOOD + '  - {id: b, intents: [product], keywords: [x], reply: "很长的回复", on_air: "y"}\n'
    codes = _codes(load_bytes([("shop.yaml", text.encode())], cfg))
    assert "too_many_rows" in codes
    assert "reply_too_long" in codes


def test_never_raises_on_garbage() -> None:
    for blob in (b"", b"\x00\x01\x02", b"{{{{", b"scripts: 5", b"library: 3"):
        for name in ("x.yaml", "x.csv", "x.xlsx"):
            result = load_bytes([(name, blob)])
            assert result.library is None


def test_lint_findings_reported_alongside_errors(tmp_path: Path) -> None:
    text = (
        GOOD
        + """\
  - id: broken
    intents: [nope]
    reply: "x"
  - id: typo
    intents: [product]
    keywords: [尺码]
    reply: "{prise}元，全网最低价"
    on_air: "尺码"
"""
    )
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    result = check([path])
    codes = [i.code for i in result.issues]
    assert "invalid.enum" in codes  # the broken script
    assert "lint.unknown_variable" in codes and "lint.ad_law" in codes  # the valid one is still linted
    assert "lint.intent_coverage" not in codes


def test_yaml_alias_bomb_is_harmless() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6)
    )
    started = time.perf_counter()
    result = load_bytes([("bomb.yaml", bomb.encode())])
    assert result.library is None
    # 10^7 nodes once the aliases are expanded: refused while streaming, before anything is built
    assert _codes(result) == ["yaml_too_large"]
    assert time.perf_counter() - started < 1.0
    # the same nesting within the node limit loads, and its sections are still checked
    small = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    assert "unknown_section" in _codes(load_bytes([("small.yaml", small.encode())]))


@pytest.mark.parametrize(
    "body",
    [
        "library: {name: x}\nscripts:\n  - {id: a, intents: *l6, reply: x, sentiment: *l6, keywords: *l6}\n",
        "library: {name: *l6}\nproducts:\n  - {sku: x, link: 1, name: x, price: 1, stock: 1, "
        "specs: {a: *l6}}\n",
        "library: {name: x}\ncoupons:\n  - {id: c, name: *l6, type: gift, gift: x, stock: 1, "
        "trigger: {keywords: *l6}}\n",
    ],
)
def test_alias_bomb_in_items_is_refused_fast(body: str) -> None:
    import time

    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
        f"l{i}: &l{i} [{', '.join(['*' + ('a' if i == 0 else f'l{i - 1}')] * 10)}]" for i in range(7)
    ]
    text = "variables:\n" + "\n".join("  " + line for line in lines) + "\n" + body
    started = time.perf_counter()
    result = load_bytes([("bomb.yaml", text.encode())])
    assert time.perf_counter() - started < 5
    assert result.library is None
