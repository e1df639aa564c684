"""Build a :class:`Library` from one or more files and report every problem at once, never a traceback.

Files are read by :mod:`livecs.scripts.loaders`; sections from several files are merged (a shop may keep
scripts, catalogue and coupons in separate files). Each item is validated on its own so one bad row does not
hide the others; pydantic errors are turned into bilingual messages at the exact file/sheet/line/column;
then cross-references (duplicate ids and link numbers, unknown size charts and products) and size limits are
checked. :func:`check` adds the lint findings (:mod:`livecs.scripts.lint`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from livecs.scripts.library import (
    BILINGUAL_SEPARATOR,
    COUPON_TYPE_ALIASES,
    INTENT_ALIASES,
    SHOP_TIMEZONE_CONTEXT,
    TIER_ALIASES,
    CouponRule,
    Library,
    LibraryInfo,
    Product,
    Script,
    SizeChart,
)
from livecs.scripts.loaders import (
    LIST_SECTIONS,
    RULES_SUFFIXES,
    RawDocument,
    RawItem,
    read_document,
    read_path,
)
from livecs.scripts.report import Issue, Location, has_errors
from livecs.scripts.settings import ScriptsSettings

SECTION_MODELS: dict[str, type[BaseModel]] = {
    "scripts": Script,
    "products": Product,
    "size_charts": SizeChart,
    "coupons": CouponRule,
}

#: pydantic error type → (中文, English) prefix.
ERROR_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("缺少必填项", "required field missing"),
    "extra_forbidden": ("未知字段（拼写错误？）", "unknown field (misspelt?)"),
    "string_type": ("应为文本", "should be text"),
    "string_too_short": ("不能为空", "must not be empty"),
    "string_too_long": ("太长", "too long"),
    "string_pattern_mismatch": (
        "格式不对（字母、数字、_ . -，不超过64个）",
        "bad format (letters, digits, _ . -)",
    ),
    "int_parsing": ("应为整数", "should be a whole number"),
    "int_type": ("应为整数", "should be a whole number"),
    "int_from_float": ("应为整数", "should be a whole number"),
    "float_parsing": ("应为数字", "should be a number"),
    "float_type": ("应为数字", "should be a number"),
    "bool_parsing": ("应为 是/否（true/false）", "should be true/false"),
    "bool_type": ("应为 是/否（true/false）", "should be true/false"),
    "enum": ("取值无效", "invalid value"),
    "literal_error": ("取值无效", "invalid value"),
    "greater_than": ("数值太小", "value too small"),
    "greater_than_equal": ("数值太小", "value too small"),
    "less_than": ("数值太大", "value too large"),
    "less_than_equal": ("数值太大", "value too large"),
    "too_short": ("不能为空", "must not be empty"),
    "list_type": ("应为列表", "should be a list"),
    "dict_type": ("应为 名称:值 的映射", "should be a name:value mapping"),
    "datetime_parsing": ("时间格式不对（如 2025-06-18 20:00）", "bad date/time (e.g. 2025-06-18 20:00)"),
    "datetime_from_date_parsing": (
        "时间格式不对（如 2025-06-18 20:00）",
        "bad date/time (e.g. 2025-06-18 20:00)",
    ),
    "datetime_type": ("时间格式不对（如 2025-06-18 20:00）", "bad date/time (e.g. 2025-06-18 20:00)"),
    "model_type": ("应为映射", "should be a mapping"),
}


SHOWN_VALUE_CHARS = 60

#: The Chinese names a field also accepts, shown when its value is invalid.
CHINESE_CHOICES: dict[str, str] = {
    "type": "、".join(COUPON_TYPE_ALIASES),
    "intents": "、".join(INTENT_ALIASES),
    "min_tier": "、".join(k for k in TIER_ALIASES if not k.isascii()),
}


@dataclass(slots=True)
class LoadResult:
    """The library (``None`` when there are errors) and every finding, with where each item came from."""

    library: Library | None
    issues: list[Issue] = field(default_factory=list)
    item_sources: dict[tuple[str, str], RawItem] = field(default_factory=dict)  # (section, id) → as read
    partial: Library | None = None  # the valid items when there are errors (lint still runs on them)

    @property
    def ok(self) -> bool:
        return self.library is not None and not has_errors(self.issues)


def load_files(paths: Iterable[str | Path], config: ScriptsSettings | None = None) -> LoadResult:
    """Read and validate library files from disk."""
    cfg = config or ScriptsSettings()
    return build_library([read_path(p, cfg.limits) for p in paths], cfg)


def load_bytes(files: Iterable[tuple[str, bytes]], config: ScriptsSettings | None = None) -> LoadResult:
    """Read and validate uploaded files given as ``(file name, content)``."""
    cfg = config or ScriptsSettings()
    return build_library([read_document(name, content, cfg.limits) for name, content in files], cfg)


def check(paths: Iterable[str | Path], config: ScriptsSettings | None = None) -> LoadResult:
    """Validate and lint files: what ``scripts check`` prints."""
    cfg = config or ScriptsSettings()
    return with_lint(load_files(paths, cfg), cfg)


def check_bytes(files: Iterable[tuple[str, bytes]], config: ScriptsSettings | None = None) -> LoadResult:
    """Validate and lint uploaded files (the console's upload)."""
    cfg = config or ScriptsSettings()
    return with_lint(load_bytes(files, cfg), cfg)


def with_lint(result: LoadResult, config: ScriptsSettings) -> LoadResult:
    """Add lint findings; a lint error (e.g. an unknown variable) makes the library unusable — except an
    error-level term (广告法, 禁忌语): that library is kept, and activating it needs an admin's override.

    When validation already failed, the valid items are linted anyway so every problem shows at once."""
    from livecs.scripts.lint import lint_library
    from livecs.scripts.terms import TERM_CODES

    if result.library is not None:
        result.issues.extend(lint_library(result.library, config, result.item_sources))
        if has_errors([i for i in result.issues if i.code not in TERM_CODES]):
            result.partial, result.library = result.library, None
    elif result.partial is not None:
        lint = lint_library(result.partial, config, result.item_sources)
        result.issues.extend(i for i in lint if i.code != "lint.intent_coverage")
    return result


def _pydantic_issues(exc: ValidationError, item: RawItem, item_id: str) -> list[Issue]:
    issues = []
    for err in exc.errors(include_url=False):
        etype = err["type"]
        if err["loc"] and str(err["loc"][0]) in item.already_reported:
            continue
        loc = item.locate(tuple(err["loc"]))
        column = ".".join(str(p) for p in err["loc"]) or loc.column
        location = Location(loc.file, loc.sheet, loc.line, column, loc.column_letter)
        if etype == "value_error" and BILINGUAL_SEPARATOR in str(err.get("msg", "")):
            msg = str(err["msg"]).removeprefix("Value error, ")
            zh, _, en = msg.partition(BILINGUAL_SEPARATOR)
        elif etype in ERROR_MESSAGES:
            zh, en = ERROR_MESSAGES[etype]
            value = err.get("input")
            if etype in ("enum", "literal_error"):
                expected = (err.get("ctx") or {}).get("expected", "")
                hint = CHINESE_CHOICES.get(str(err["loc"][0]) if err["loc"] else "")
                if hint:
                    expected = f"{expected}; {hint}"
                shown = _shown(value)
                zh, en = f"{zh} {shown}（可用：{expected}）", f"{en} {shown} (expected {expected})"
            elif etype not in ("missing", "extra_forbidden") and _is_scalar(value):
                zh, en = f"{zh}：{_shown(value)}", f"{en}: {_shown(value)}"
        else:
            zh, en = f"取值无效：{err['msg']}", str(err["msg"])
        issues.append(Issue("error", f"invalid.{etype}", zh, en, location, item_id))
    return issues


def build_library(docs: list[RawDocument], config: ScriptsSettings | None = None) -> LoadResult:
    """Merge documents and validate them into a library (see module docstring)."""
    cfg = config or ScriptsSettings()
    context = {SHOP_TIMEZONE_CONTEXT: cfg.coupons.shop_timezone}  # naive coupon dates are shop-local time
    issues: list[Issue] = [i for d in docs for i in d.issues]
    item_sources: dict[tuple[str, str], RawItem] = {}
    valid: dict[str, list[tuple[Any, RawItem]]] = {s: [] for s in LIST_SECTIONS}
    info: LibraryInfo | None = None
    info_item: RawItem | None = None
    info_from_rules = False
    variables: dict[str, str] = {}
    for doc in docs:
        for section, items in doc.sections.items():
            if section == "library":
                item = items[0]
                try:
                    candidate = LibraryInfo.model_validate(item.data)
                except ValidationError as exc:
                    issues.extend(_pydantic_issues(exc, item, "library"))
                    continue
                from_rules = item.location.file.lower().endswith(RULES_SUFFIXES)
                if info is not None and candidate != info and from_rules:
                    continue  # a rules file's name is only a default: another file's library wins
                if info is not None and candidate != info and info_from_rules:
                    info, info_item, info_from_rules = candidate, item, False
                    continue
                if info is not None and candidate != info:
                    issues.append(
                        Issue(
                            "error",
                            "library_conflict",
                            "两个文件的 library 信息不一致",
                            "two files disagree on the library section",
                            item.location,
                        )
                    )
                info, info_item, info_from_rules = candidate, item, from_rules
            elif section == "variables":
                item = items[0]
                for name, value in item.data.items():
                    loc = item.field_locations.get(str(name), item.location)
                    if not _is_scalar(name) or not _is_scalar(value):
                        issues.append(
                            Issue(
                                "error",
                                "variable_value",
                                "变量名和变量值都应是文本或数字",
                                "variable names and values must be text or numbers",
                                loc,
                            )
                        )
                        continue
                    if not str(name).isidentifier():
                        issues.append(
                            Issue(
                                "error",
                                "variable_name",
                                f"变量名 {name} 只能用字母、数字、下划线",
                                f"variable name {name} must be letters, digits, underscore",
                                loc,
                            )
                        )
                    elif str(name) in variables and variables[str(name)] != str(value):
                        issues.append(
                            Issue(
                                "error",
                                "variable_conflict",
                                f"变量 {name} 定义了两次且不一致",
                                f"variable {name} defined twice with different values",
                                loc,
                            )
                        )
                    variables[str(name)] = "" if value is None else str(value)
            else:
                model = SECTION_MODELS[section]
                absent = _absent_columns(model, items)
                for name in absent:  # once per file and column, not once per row
                    first = items[0].location
                    issues.append(
                        Issue(
                            "error",
                            "missing_column",
                            f"缺少列 {name}",
                            f"missing column {name}",
                            Location(
                                first.file,
                                first.sheet,
                                HEADER_LINE if first.sheet or _tabular(first) else None,
                                name,
                            ),
                        )
                    )
                for item in items:
                    raw = item.data.get("id") or item.data.get("sku")
                    raw_id = str(raw) if raw is not None and _is_scalar(raw) else f"#{item.location.line}"
                    data = item.data
                    if absent:  # stand-ins for the missing column, so the row's other problems still show
                        data = {**data, **{n: _stand_in(n, item) for n in absent}}
                    try:
                        obj = model.model_validate(data, context=context)
                    except ValidationError as exc:
                        issues.extend(_pydantic_issues(exc, item, raw_id))
                        continue
                    valid[section].append((obj, item))
    unreadable = any(i.severity == "error" for d in docs for i in d.issues)
    if info is None and not unreadable:
        issues.append(
            Issue(
                "error",
                "missing_library_info",
                "缺少 library 部分（至少要有 name 店铺/话术库名称）",
                "missing library section (needs at least a name)",
                Location(docs[0].file if docs else ""),
            )
        )
    issues.extend(_cross_checks(valid, cfg, item_sources))
    if has_errors(issues) or info is None:
        return LoadResult(None, _cap(issues, cfg), item_sources, _partial(info, variables, valid))
    try:
        library = Library(
            library=info,
            variables=variables,
            scripts=[o for o, _ in valid["scripts"]],
            products=[o for o, _ in valid["products"]],
            size_charts=[o for o, _ in valid["size_charts"]],
            coupons=[o for o, _ in valid["coupons"]],
        )
    except ValidationError as exc:  # should not happen: every part was validated
        loc_item = info_item or RawItem({}, Location())
        issues.extend(_pydantic_issues(exc, loc_item, "library"))
        return LoadResult(None, _cap(issues, cfg), item_sources)
    return LoadResult(library, _cap(issues, cfg), item_sources)


#: The header row of a CSV file or sheet: where a missing column is reported.
HEADER_LINE = 1
#: Values that stand in for a required column missing from a whole file: the rows' other fields are still
#: validated and linted (the library itself is refused: the missing column is an error).
_STAND_INS: dict[str, Any] = {"intents": ["chitchat"], "reply": "-", "name": "-", "price": 0, "rows": []}


def _tabular(loc: Location) -> bool:
    return loc.file.lower().endswith((".csv", ".xlsx"))


def _absent_columns(model: Any, items: list[RawItem]) -> list[str]:
    """Required fields that no item of a file's section has (a column missing from the sheet)."""
    if not items:
        return []
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    return [name for name in required if all(name not in item.data for item in items)]


def _stand_in(name: str, item: RawItem) -> Any:
    if name in _STAND_INS:
        return _STAND_INS[name]
    if name == "link":
        return item.location.line or 1
    return f"row{item.location.line or 0}"


def _shown(value: Any) -> str:
    """A short, safe rendering of a bad value (never expands a big nested structure)."""
    if not _is_scalar(value):
        return f"<{type(value).__name__}>"
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…"


def _is_scalar(value: Any) -> bool:
    """Text, a number, a boolean or a date: safe to turn into text (a YAML alias tree is not)."""
    return value is None or isinstance(value, (str, int, float, bool, date))


def _partial(
    info: LibraryInfo | None, variables: dict[str, str], valid: dict[str, list[tuple[Any, RawItem]]]
) -> Library | None:
    """The valid items as a library, so lint can report on them alongside the errors."""
    try:
        return Library(
            library=info or LibraryInfo(name="?"),
            variables=variables,
            scripts=[o for o, _ in valid["scripts"]],
            products=[o for o, _ in valid["products"]],
            size_charts=[o for o, _ in valid["size_charts"]],
            coupons=[o for o, _ in valid["coupons"]],
        )
    except ValidationError:
        return None


def _cap(issues: list[Issue], cfg: ScriptsSettings) -> list[Issue]:
    limit = cfg.limits.max_errors_reported
    if len(issues) <= limit:
        return issues
    dropped = len(issues) - limit
    return [
        *issues[:limit],
        Issue("error", "too_many_issues", f"还有 {dropped} 个问题未显示", f"{dropped} more issues not shown"),
    ]


def _cross_checks(
    valid: dict[str, list[tuple[Any, RawItem]]],
    cfg: ScriptsSettings,
    item_sources: dict[tuple[str, str], RawItem],
) -> list[Issue]:
    issues: list[Issue] = []
    lim = cfg.limits

    def dup_check(section: str, key: str, label_zh: str) -> None:
        seen: dict[str, Location] = {}
        for obj, item in valid[section]:
            value = str(getattr(obj, key))
            loc = item.field_locations.get(key, item.location)
            if value in seen:
                first = seen[value]
                issues.append(
                    Issue(
                        "error",
                        f"duplicate_{section}_{key}",
                        f"{label_zh} {value} 重复（第一次在第{first.line}行）",
                        f"duplicate {key} {value} (first at line {first.line})",
                        loc,
                        value,
                    )
                )
            else:
                seen[value] = loc

    dup_check("scripts", "id", "话术编号")
    dup_check("products", "sku", "商品编码")
    dup_check("products", "link", "链接号")
    dup_check("size_charts", "id", "尺码表编号")
    dup_check("coupons", "id", "优惠券编号")
    for section, key in (("scripts", "id"), ("products", "sku"), ("size_charts", "id"), ("coupons", "id")):
        for obj, item in valid[section]:
            item_sources.setdefault((section, str(getattr(obj, key))), item)

    for section, limit_value in (
        ("scripts", lim.max_scripts),
        ("products", lim.max_products),
        ("coupons", lim.max_coupons),
    ):
        if len(valid[section]) > limit_value:
            issues.append(
                Issue(
                    "error",
                    "too_many_items",
                    f"{section} 数量超过上限 {limit_value}",
                    f"more {section} than the limit {limit_value}",
                )
            )

    chart_ids = {o.id for o, _ in valid["size_charts"]}
    product_refs = {p.sku for p, _ in valid["products"]} | {str(p.link) for p, _ in valid["products"]}
    for product, item in valid["products"]:
        if product.size_chart and product.size_chart not in chart_ids:
            issues.append(
                Issue(
                    "error",
                    "unknown_size_chart",
                    f"尺码表 {product.size_chart} 不存在",
                    f"size chart {product.size_chart} does not exist",
                    item.field_locations.get("size_chart", item.location),
                    product.sku,
                )
            )
    for section in ("scripts", "coupons"):
        for obj, item in valid[section]:
            for ref in obj.products:
                if ref not in product_refs:
                    issues.append(
                        Issue(
                            "error",
                            "unknown_product",
                            f"商品 {ref} 不在商品目录里或该商品行有错误（写链接号或商品编码）",
                            f"product {ref} is not in the catalogue or its row has errors (link or SKU)",
                            item.field_locations.get("products", item.location),
                            obj.id,
                        )
                    )
    for script, item in valid["scripts"]:
        loc_kw = item.field_locations.get("keywords", item.location)
        if len(script.keywords) > lim.max_keywords_per_script:
            issues.append(
                Issue(
                    "error",
                    "too_many_keywords",
                    f"关键词过多（{len(script.keywords)}，上限 {lim.max_keywords_per_script}）",
                    f"too many keywords ({len(script.keywords)}, limit {lim.max_keywords_per_script})",
                    loc_kw,
                    script.id,
                )
            )
        long_kw = [k for k in script.keywords if len(k) > lim.max_keyword_chars]
        if long_kw:
            issues.append(
                Issue(
                    "error",
                    "keyword_too_long",
                    f"关键词过长：{long_kw[0]}",
                    f"keyword too long: {long_kw[0]}",
                    loc_kw,
                    script.id,
                )
            )
        if len(script.examples) > lim.max_examples_per_script:
            issues.append(
                Issue(
                    "error",
                    "too_many_examples",
                    f"示例问题过多（上限 {lim.max_examples_per_script}）",
                    f"too many examples (limit {lim.max_examples_per_script})",
                    item.field_locations.get("examples", item.location),
                    script.id,
                )
            )
        if len(script.reply) > lim.max_reply_chars:
            issues.append(
                Issue(
                    "error",
                    "reply_too_long",
                    f"回复过长（{len(script.reply)} 字，上限 {lim.max_reply_chars}）",
                    f"reply too long ({len(script.reply)} chars, limit {lim.max_reply_chars})",
                    item.field_locations.get("reply", item.location),
                    script.id,
                )
            )
    return issues
