"""Each lint rule, its severity from config, and the sample libraries linting clean."""

from __future__ import annotations

from livecs.models import Intent
from livecs.scripts.library import Library, Script
from livecs.scripts.lint import AdLawScanner, AdLawTerms, ad_law_scanner, lint_library, on_air_display_length
from livecs.scripts.settings import ScriptsSettings


def _lib(*scripts: Script, base: Library) -> Library:
    return base.model_copy(update={"scripts": [*base.scripts, *scripts]})


def _script(sid: str, **kw: object) -> Script:
    data: dict[str, object] = {
        "id": sid,
        "intents": ["product"],
        "keywords": [f"kw_{sid}"],
        "reply": "好的",
        "on_air": "好的",
    }
    data.update(kw)
    return Script.model_validate(data)


def _codes(issues) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.code for i in issues]


def test_samples_lint_clean(apparel_library: Library, skincare_library: Library) -> None:
    assert lint_library(apparel_library) == []
    assert lint_library(skincare_library) == []


def test_ad_law_terms_found_and_allowed_phrases_ignored() -> None:
    scanner = ad_law_scanner()
    found = {t for t, _, _ in scanner.scan("全网最低价，国家级工艺，绝对第一")}
    assert found == {"全网最低价", "国家级", "绝对", "第一"}
    assert scanner.scan("最近发货，最多买3件，第一时间通知") == []
    assert {t for t, _, _ in scanner.scan("这款能祛痘")} == {"祛痘"}


def test_ad_law_rule(apparel_library: Library) -> None:
    lib = _lib(_script("adv", reply="顶级面料，全网最低"), base=apparel_library)
    issues = [i for i in lint_library(lib) if i.item_id == "adv"]
    assert _codes(issues) == ["lint.ad_law", "lint.ad_law"]
    # 顶级 and 全网最低 are error-level absolutes (issue 12): they block activation, not only warn
    assert all(i.severity == "error" for i in issues)
    soft = _lib(_script("soft", reply="这款最好看"), base=apparel_library)
    [issue] = [i for i in lint_library(soft) if i.item_id == "soft"]
    assert issue.severity == "warning"  # a plain 最 stays a warning
    med = _lib(_script("med", on_air="用了能祛痘"), base=apparel_library)
    [issue] = [i for i in lint_library(med) if i.item_id == "med"]
    assert issue.severity == "error"  # the medical-claims category raises its own severity


def test_shop_taboo_list_is_an_error(apparel_library: Library) -> None:
    base = apparel_library.model_copy(
        update={"library": apparel_library.library.model_copy(update={"taboo": ["秒杀价"]})}
    )
    lib = _lib(_script("taboo", reply="今天秒杀价59"), base=base)
    [issue] = [i for i in lint_library(lib) if i.item_id == "taboo"]
    assert issue.code == "lint.taboo" and issue.severity == "error" and "秒杀价" in issue.zh


def test_unknown_variable_with_hint(apparel_library: Library) -> None:
    lib = _lib(_script("typo", reply="{prise}元"), base=apparel_library)
    [issue] = [i for i in lint_library(lib) if i.item_id == "typo"]
    assert issue.code == "lint.unknown_variable" and issue.severity == "error"
    assert "{price}" in issue.zh
    custom = _lib(_script("custom", reply="{shop}欢迎你"), base=apparel_library)  # a library variable
    assert [i for i in lint_library(custom) if i.item_id == "custom"] == []


def test_shared_trigger(apparel_library: Library) -> None:
    lib = _lib(
        _script("dup1", keywords=["同一个词"]), _script("dup2", keywords=["同一个词"]), base=apparel_library
    )
    [issue] = [i for i in lint_library(lib) if i.code == "lint.shared_trigger"]
    assert issue.item_id == "dup2" and "dup1" in issue.zh
    other_intent = _lib(
        _script("x1", keywords=["词"]),
        _script("x2", intents=["order"], keywords=["词"]),
        base=apparel_library,
    )
    assert "lint.shared_trigger" not in _codes(lint_library(other_intent))


def test_unreachable_and_coverage(apparel_library: Library) -> None:
    lib = _lib(_script("lonely", keywords=[], examples=[]), base=apparel_library)
    assert "lint.unreachable" in _codes(lint_library(lib))
    only_product = apparel_library.model_copy(
        update={"scripts": [s for s in apparel_library.scripts if Intent.SPAM not in s.intents]}
    )
    [issue] = [i for i in lint_library(only_product) if i.code == "lint.intent_coverage"]
    assert issue.item_id == "spam"


def test_on_air_rules(apparel_library: Library) -> None:
    lib = _lib(
        _script("quiet", on_air=""),
        _script("chatty", on_air="这是一句特别特别长的口播词主播根本来不及念完大家听我说好不好呀真的很长"),
        base=apparel_library,
    )
    codes = {(i.item_id, i.code) for i in lint_library(lib)}
    assert ("quiet", "lint.on_air_empty") in codes
    assert ("chatty", "lint.on_air_too_long") in codes
    assert on_air_display_length("{link}号{宝宝/家人们}") == 4 + 1 + 3


def test_severity_configurable(apparel_library: Library) -> None:
    lib = _lib(_script("typo", reply="{prise}元", on_air=""), base=apparel_library)
    cfg = ScriptsSettings()
    cfg.lint.severity["unknown_variable"] = "warning"
    cfg.lint.severity["on_air_empty"] = "off"
    issues = [i for i in lint_library(lib, cfg) if i.item_id == "typo"]
    assert [(i.code, i.severity) for i in issues] == [("lint.unknown_variable", "warning")]


def test_empty_term_list_is_harmless() -> None:
    assert AdLawScanner(AdLawTerms()).scan("全网最低") == []


def test_a_keyword_holding_its_own_exclude_word(apparel_library: Library) -> None:
    """排除词 (issue 12): a keyword that carries one of its script's exclude words finds the script but
    can never have it answer — told, as a warning."""
    lib = _lib(
        _script("gift", keywords=["赠品", "送手表"], exclude=["手表"]),
        _script("gift_ok", keywords=["赠品"], exclude=["手表"]),
        base=apparel_library,
    )
    issues = [i for i in lint_library(lib) if i.code == "lint.excluded_keyword"]
    assert [(i.item_id, i.severity) for i in issues] == [("gift", "warning")]
    assert "送手表" in issues[0].zh and "手表" in issues[0].zh
