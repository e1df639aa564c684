"""Lint a validated library: findings a merchant should fix before going live (severity configurable).

Rules (``config/scripts.yaml`` → ``lint.severity``; ``off`` disables one):

* ``ad_law`` — advertising-law absolute terms (最, 第一, 国家级, 全网最低, 顶级, 绝对…) in replies,
  on-air lines and coupon names; the list is ``config/ad_law_terms.yaml`` (a category may raise its own
  severity; harmless phrases such as 最近 are allowed);
* ``taboo`` — a term of the shop's own taboo list (``library.taboo``, 禁忌语): always an error;
* ``unknown_variable`` — a ``{variable}`` that is neither built in nor in the library's ``variables``
  (with a did-you-mean);
* ``shared_trigger`` — one keyword triggers two scripts of the same intent and product scope;
* ``question_form_keyword`` — a keyword that is only a question form (有吗, 还有没有, 主播…;
  ``answer.question_forms``): it counts only when the comment names a product, so on its own it reaches
  nothing (fallbacks, generic by design, are not flagged);
* ``excluded_keyword`` — a keyword that holds one of its own script's 排除词 (``exclude``): a comment it finds
  always carries the excluded word, so it only puts the script among the candidates, never answers;
* ``unreachable`` — a script nothing can reach (no keywords, no examples, not a fallback);
* ``intent_coverage`` — an intent of the taxonomy with no enabled script;
* ``on_air_empty`` / ``on_air_too_long`` — the streamer's line is missing or too long to read at a glance.
"""

from __future__ import annotations

import difflib

from livecs.models import Intent
from livecs.scripts.library import Library, Script
from livecs.scripts.loaders import RawItem
from livecs.scripts.matcher import BUILTIN_VARIABLES, QuestionForms, normalize
from livecs.scripts.report import Issue, Location
from livecs.scripts.settings import ScriptsSettings
from livecs.scripts.template import Variable, Variants, parse_template
from livecs.scripts.terms import AdLawCategory, AdLawScanner, AdLawTerms, TermGate, ad_law_scanner
from livecs.vocabulary import INTENT_ZH

#: Length a variable is counted as when measuring an on-air line (a price, a size, a link number).
VARIABLE_DISPLAY_CHARS = 4
DID_YOU_MEAN_CUTOFF = 0.6
__all__ = ["AdLawCategory", "AdLawScanner", "AdLawTerms", "ad_law_scanner", "lint_library"]


def on_air_display_length(template: str) -> int:
    """Characters the streamer reads: literals, variables counted as a few characters, longest variant."""
    try:
        parts = parse_template(template)
    except ValueError:
        return len(template)
    total = 0
    for p in parts:
        if isinstance(p, str):
            total += len(p)
        elif isinstance(p, Variable):
            total += VARIABLE_DISPLAY_CHARS
        elif isinstance(p, Variants):
            total += max(len(o) for o in p.options)
    return total


def lint_library(
    library: Library,
    config: ScriptsSettings | None = None,
    sources: dict[tuple[str, str], RawItem] | None = None,
) -> list[Issue]:
    """Every lint finding for ``library`` (``sources`` gives file/line positions when known)."""
    cfg = config or ScriptsSettings()
    sev = cfg.lint.severity_of
    where = sources or {}
    issues: list[Issue] = []

    def locate(section: str, item_id: str, column: str) -> Location:
        raw = where.get((section, item_id))
        if raw is None:
            return Location(column=column)
        loc = raw.locate((column,))
        return Location(loc.file, loc.sheet, loc.line, column, loc.column_letter)

    def add(
        rule: str, code: str, zh: str, en: str, loc: Location, item_id: str, override: str | None = None
    ) -> None:
        severity = override or sev(rule)
        if severity == "off":
            return
        issues.append(Issue("error" if severity == "error" else "warning", code, zh, en, loc, item_id))

    known_vars = set(BUILTIN_VARIABLES) | set(library.variables)
    scanner = ad_law_scanner(cfg) if sev("ad_law") != "off" else None
    enabled = [s for s in library.scripts if s.enabled]
    taboo = TermGate(AdLawTerms(), library.library.taboo) if library.library.taboo else None
    forms = QuestionForms(cfg.answer.question_forms)

    for script in library.scripts:
        for column in ("reply", "on_air"):
            text = getattr(script, column)
            loc = locate("scripts", script.id, column)
            for name in _unknown_variables(text, known_vars):
                guess = difflib.get_close_matches(name, sorted(known_vars), n=1, cutoff=DID_YOU_MEAN_CUTOFF)
                hint_zh = f"（是不是 {{{guess[0]}}}？）" if guess else ""
                hint_en = f" (did you mean {{{guess[0]}}}?)" if guess else ""
                if not guess and not name.isascii():
                    hint_zh = "（随机选项至少两个，用 / 分隔，如 {宝宝/亲}）"
                    hint_en = " (random variants need two or more options separated by /, e.g. {宝宝/亲})"
                add(
                    "unknown_variable",
                    "lint.unknown_variable",
                    f"未知变量 {{{name}}}{hint_zh}",
                    f"unknown variable {{{name}}}{hint_en}",
                    loc,
                    script.id,
                )
            for term in taboo.hits(text) if taboo is not None else ():
                add(
                    "taboo",
                    "lint.taboo",
                    f"店铺禁忌语「{term}」",
                    f"shop taboo term '{term}'",
                    loc,
                    script.id,
                    "error",
                )
            if scanner is not None:
                for term, cat, cat_sev in scanner.scan(text):
                    add(
                        "ad_law",
                        "lint.ad_law",
                        f"广告法禁用词「{term}」（{cat}）",
                        f"advertising-law term '{term}' ({cat})",
                        loc,
                        script.id,
                        cat_sev,
                    )
        if script.enabled:
            loc = locate("scripts", script.id, "on_air")
            if not script.on_air.strip():
                add("on_air_empty", "lint.on_air_empty", "口播词为空", "empty on-air line", loc, script.id)
            else:
                length = on_air_display_length(script.on_air)
                limit = cfg.lint.on_air_max_chars
                if length > limit:
                    add(
                        "on_air_too_long",
                        "lint.on_air_too_long",
                        f"口播词过长（约{length}字，上限{limit}）",
                        f"on-air line too long (~{length} chars, limit {limit})",
                        loc,
                        script.id,
                    )
            for keyword in () if script.fallback else script.keywords:  # a fallback is generic by design
                if normalize(keyword) and not forms.topic(normalize(keyword)):
                    add(
                        "question_form_keyword",
                        "lint.question_form_keyword",
                        f"关键词「{keyword}」只是问法，没说问什么：只在评论点名商品（链接号、别名）时才算数",
                        f"keyword '{keyword}' is only a question form: it counts only when the comment "
                        "names a product (link number, alias)",
                        locate("scripts", script.id, "keywords"),
                        script.id,
                    )
            excluded = [normalize(w) for w in script.exclude]
            for keyword in script.keywords if excluded else ():
                word = next((w for w in excluded if w and w in normalize(keyword)), None)
                if word is not None:
                    add(
                        "excluded_keyword",
                        "lint.excluded_keyword",
                        f"关键词「{keyword}」含排除词「{word}」：命中它时这条话术只作候选，不会直接回答",
                        f"keyword '{keyword}' holds the exclude word '{word}': a comment it finds is offered "
                        "this script as a candidate, never answered by it",
                        locate("scripts", script.id, "keywords"),
                        script.id,
                    )
            if not script.keywords and not script.examples and not script.fallback:
                add(
                    "unreachable",
                    "lint.unreachable",
                    "没有关键词、示例问题，也不是兜底话术：永远匹配不到",
                    "no keywords, no examples and not a fallback: nothing can reach it",
                    locate("scripts", script.id, "id"),
                    script.id,
                )

    if scanner is not None:
        for rule in library.coupons:
            for term, cat, cat_sev in scanner.scan(rule.name):
                add(
                    "ad_law",
                    "lint.ad_law",
                    f"广告法禁用词「{term}」（{cat}）",
                    f"advertising-law term '{term}' ({cat})",
                    locate("coupons", rule.id, "name"),
                    rule.id,
                    cat_sev,
                )

    issues.extend(_shared_triggers(enabled, add, locate, cfg.limits.max_errors_reported))

    covered = {i for s in enabled for i in s.intents}
    for intent in Intent:
        if intent not in covered:
            add(
                "intent_coverage",
                "lint.intent_coverage",
                f"意图「{INTENT_ZH[intent]}」没有任何话术",
                f"no enabled script for intent {intent.value}",
                Location(),
                intent.value,
            )
    return issues


def _unknown_variables(text: str, known: set[str]) -> list[str]:
    try:
        parts = parse_template(text)
    except ValueError:
        return []
    seen: list[str] = []
    for p in parts:
        if isinstance(p, Variable) and p.name not in known and p.name not in seen:
            seen.append(p.name)
    return seen


#: scripts of one keyword searched for a competing pair (a keyword shared by more is still reported once)
SHARED_TRIGGER_SCAN = 20


def _compete(first: Script, second: Script) -> bool:
    if not set(first.intents) & set(second.intents):
        return False
    if first.products and second.products and not set(first.products) & set(second.products):
        return False
    return first.sentiment is None or second.sentiment is None or first.sentiment == second.sentiment


def _shared_triggers(enabled: list[Script], add: object, locate: object, limit: int) -> list[Issue]:
    """Report a keyword shared by two scripts that can compete (same intent, overlapping product scope):
    once per keyword (naming the first competing pair and how many scripts hold it), at most ``limit``
    keywords — bounded work whatever the upload (issue 11: 300 scripts sharing 50 keywords gave 2.2 million
    findings and took 87 s)."""
    owners: dict[str, list[Script]] = {}
    for script in enabled:
        for kw in {normalize(k) for k in script.keywords}:
            owners.setdefault(kw, []).append(script)
    reported = 0
    more = 0
    for kw, scripts in owners.items():
        if len(scripts) < 2:
            continue
        scan = scripts[:SHARED_TRIGGER_SCAN]
        pair = next(
            ((a, b) for j, b in enumerate(scan) for a in scan[:j] if _compete(a, b)),
            None,
        )
        if pair is None:
            continue
        if reported >= limit:
            more += 1
            continue
        reported += 1
        first, second = pair
        others = len(scripts) - 2
        add(  # type: ignore[operator]
            "shared_trigger",
            "lint.shared_trigger",
            f"关键词「{kw}」同时触发 {first.id} 和 {second.id}"
            + (f"（另有 {others} 个话术也含此词）" if others else ""),
            f"keyword '{kw}' triggers both {first.id} and {second.id}"
            + (f" ({others} more scripts hold it)" if others else ""),
            locate("scripts", second.id, "keywords"),  # type: ignore[operator]
            second.id,
        )
    if more:
        add(  # type: ignore[operator]
            "shared_trigger",
            "lint.shared_trigger",
            f"还有 {more} 个关键词被多个话术共用（未逐一列出）",
            f"{more} more keywords shared by competing scripts (not listed)",
            Location(),
            "",
        )
    return []
