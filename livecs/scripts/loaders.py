"""Read library files (YAML, CSV, XLSX) into raw sections with source positions, and write them back.

Reading never builds the model (that is :mod:`livecs.scripts.validate`): it returns a :class:`RawDocument`
— per section, the items as plain dicts plus where each item and each field came from — and the problems
found while reading (size limits, YAML syntax, a formula in a spreadsheet cell, unknown sheets). Nothing is
executed: YAML through the safe loader only, XLSX through a streaming reader
(:mod:`livecs.scripts.xlsx_stream`) so a formula is seen as a formula (and reported as an error), never
evaluated; workbooks with macros are refused.

Every limit is enforced while the file is streamed, before anything is built from it, so an upload within
the byte limit is refused or read in bounded time and memory (issue 11: 1,000,000 one-cell CSV rows took
87 s and 1.47 GB): CSV rows are read one at a time and reading stops at the first row over ``max_sheet_rows``
(blank rows included), ``max_rows_per_section`` (rows with data), ``max_columns`` or ``max_cells``; an XLSX is
read by :mod:`livecs.scripts.xlsx_stream` (expat, a chunk at a time, counting elements, rows and cells per
row: ``max_xlsx_elements``); a YAML file is first streamed as
parser events counting nodes with aliases expanded (``max_yaml_nodes``, so an alias bomb costs nothing) and
items per section.

Spreadsheet layout (CSV: one file per section, named after it or recognised by its header; XLSX: one sheet
per section): see ``TABLE_COLUMNS``. Lists in a cell are separated by ``|`` (or newline, ``、``, ``，``);
mappings (specs, measurements) are ``名称:值|名称:值``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from livecs.models import MemberTier
from livecs.scripts.library import Library
from livecs.scripts.report import Issue, Location
from livecs.scripts.settings import UploadLimits

MAPPING_SECTIONS = ("library", "variables")
LIST_SECTIONS = ("scripts", "products", "size_charts", "coupons")
SECTIONS = MAPPING_SECTIONS + LIST_SECTIONS

#: Section names merchants may use for a sheet or CSV file.
SECTION_ALIASES: dict[str, str] = {
    "基本信息": "library",
    "店铺": "library",
    "变量": "variables",
    "话术": "scripts",
    "商品": "products",
    "商品目录": "products",
    "尺码表": "size_charts",
    "优惠券": "coupons",
    "优惠": "coupons",
}

SCRIPT_COLUMNS = (
    "id",
    "intents",
    "keywords",
    "exclude",
    "examples",
    "products",
    "sentiment",
    "reply",
    "on_air",
    "tags",
    "enabled",
    "fallback",
    "empathetic",
)
PRODUCT_COLUMNS = (
    "sku",
    "link",
    "name",
    "price",
    "original_price",
    "stock",
    "aliases",
    "colors",
    "sizes",
    "size_chart",
    "skin_types",
    "specs",
    "ship_days",
)
SIZE_CHART_COLUMNS = ("chart", "size", "height_min", "height_max", "weight_min", "weight_max", "measurements")
COUPON_COLUMNS = (
    "id",
    "name",
    "type",
    "enabled",
    "threshold",
    "amount",
    "percent_off",
    "min_tier",
    "gift",
    "requires_approval",
    "products",
    "trigger_intents",
    "trigger_keywords",
    "trigger_sentiments",
    "trigger_min_cluster_size",
    "stock",
    "per_user_limit",
    "room_cooldown_s",
    "valid_from",
    "valid_until",
    "priority",
    "note",
)
MAPPING_COLUMNS = {"library": ("key", "value"), "variables": ("name", "value")}
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "library": MAPPING_COLUMNS["library"],
    "variables": MAPPING_COLUMNS["variables"],
    "scripts": SCRIPT_COLUMNS,
    "products": PRODUCT_COLUMNS,
    "size_charts": SIZE_CHART_COLUMNS,
    "coupons": COUPON_COLUMNS,
}
#: Chinese column headers accepted in spreadsheets.
HEADER_ALIASES: dict[str, str] = {
    "编号": "id",
    "话术编号": "id",
    "意图": "intents",
    "关键词": "keywords",
    "排除词": "exclude",
    "示例问题": "examples",
    "适用商品": "products",
    "情绪": "sentiment",
    "回复": "reply",
    "口播": "on_air",
    "标签": "tags",
    "启用": "enabled",
    "兜底": "fallback",
    "共情结构": "empathetic",
    "链接号": "link",
    "名称": "name",
    "价格": "price",
    "原价": "original_price",
    "库存": "stock",
    "别名": "aliases",
    "颜色": "colors",
    "尺码": "sizes",
    "尺码表": "size_chart",
    "肤质": "skin_types",
    "规格": "specs",
    "发货天数": "ship_days",
    "类型": "type",
    "门槛": "threshold",
    "金额": "amount",
    "折扣": "percent_off",
    "会员等级": "min_tier",
    "赠品": "gift",
    "需审批": "requires_approval",
    "总量": "stock",
    "每人限领": "per_user_limit",
    "冷却秒数": "room_cooldown_s",
    "开始时间": "valid_from",
    "结束时间": "valid_until",
    "优先级": "priority",
    "备注": "note",
    "值": "value",
    "项目": "key",
}
BOOLEAN_WORDS = {"是": True, "否": False, "启用": True, "停用": False, "对": True, "错": False}
TRIGGER_PREFIX = "trigger_"
LIST_JOIN = "|"
MACRO_MEMBER = "vbaProject.bin"
XLSX_SUFFIXES = (".xlsx",)
#: Plain-text rules as other 场控 tools keep them: one ``关键词/同义词|回复`` per line, ``{a/b}`` variants.
RULES_SUFFIXES = (".txt",)
RULE_SEPARATORS = ("|", "｜")
RULE_KEYWORD_SPLIT = re.compile(r"[/／、]")
#: A rule's intent, guessed from its keywords and reply (first match wins, else 商品咨询).
RULE_INTENT_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("after_sales", ("退货", "退款", "换货", "售后", "破损", "质量问题", "退换")),
    ("logistics", ("发货", "快递", "物流", "包邮", "运费", "到货", "几天到")),
    ("payment", ("付款", "支付", "分期", "花呗", "付不了")),
    ("order", ("下单", "拍错", "改地址", "订单", "取消")),
    ("price_promo", ("多少钱", "价格", "价", "优惠", "券", "便宜", "折扣", "满减", "活动", "福利")),
    ("buy_signal", ("已拍", "拍了", "已下单")),
    ("chitchat", ("欢迎", "来了", "晚上好", "关注", "点赞", "主播好")),
)
REFUSED_SUFFIXES = (".xlsm", ".xls", ".xlsb")
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
#: How deep field positions are recorded in YAML (item → rows → 0 → size).
YAML_LOCATION_DEPTH = 4
#: issues that mean reading stopped at a limit while streaming (the rest of the file was not read)
STREAM_LIMIT_CODES = frozenset(
    {"too_many_rows", "too_many_columns", "too_many_cells", "xlsx_too_complex", "yaml_too_large"}
)
#: the fast C YAML parser when PyYAML was built with libyaml (same nodes and marks), else the Python one
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _RejectedCell:
    """A cell already reported while reading (a formula): the field is left out, not reported twice."""


REJECTED = _RejectedCell()


@dataclass(slots=True)
class RawItem:
    """One item of a section as read: plain data plus where it and each (dotted) field came from."""

    data: dict[str, Any]
    location: Location
    field_locations: dict[str, Location] = field(default_factory=dict)
    already_reported: set[str] = field(default_factory=set)  # fields rejected (and reported) while reading

    def locate(self, loc: tuple[Any, ...]) -> Location:
        """The most precise known location for a pydantic error ``loc``."""
        parts = [str(p) for p in loc]
        while parts:
            found = self.field_locations.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return self.location


@dataclass(slots=True)
class RawDocument:
    """What one file held, section by section, and the problems met while reading it."""

    file: str
    sections: dict[str, list[RawItem]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def error(self, code: str, zh: str, en: str, location: Location | None = None) -> None:
        self.issues.append(Issue("error", code, zh, en, location or Location(self.file)))

    def warning(self, code: str, zh: str, en: str, location: Location | None = None) -> None:
        self.issues.append(Issue("warning", code, zh, en, location or Location(self.file)))


def read_document(name: str, content: bytes, limits: UploadLimits) -> RawDocument:
    """Read one file (format from its suffix); never raises on bad content."""
    doc = RawDocument(file=name)
    if len(content) > limits.max_file_bytes:
        doc.error(
            "file_too_large",
            f"文件过大（{len(content)} 字节，上限 {limits.max_file_bytes}）",
            f"file too large ({len(content)} bytes, limit {limits.max_file_bytes})",
        )
        return doc
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            _read_yaml(doc, content, limits)
        elif suffix == ".csv":
            _read_csv(doc, name, content, limits)
        elif suffix in XLSX_SUFFIXES:
            _read_xlsx(doc, content, limits)
        elif suffix in RULES_SUFFIXES:
            _read_rules(doc, content, limits)
        elif suffix in REFUSED_SUFFIXES:
            doc.error(
                "format_refused",
                f"不支持 {suffix} 文件（可能含宏），请另存为 .xlsx",
                f"{suffix} files are refused (may hold macros); save as .xlsx",
            )
        else:
            doc.error(
                "unknown_format",
                f"不认识的文件类型 {suffix or '(无后缀)'}，请用 .yaml、.csv、.xlsx 或 .txt（关键词|回复）",
                f"unknown file type {suffix or '(none)'}; use .yaml, .csv, .xlsx or .txt (keywords|reply)",
            )
    except Exception as exc:  # never a traceback for the merchant: report and go on
        doc.error("unreadable", f"无法读取文件：{type(exc).__name__}", f"cannot read file: {exc!r}")
    _check_row_counts(doc, limits)
    return doc


def read_path(path: str | Path, limits: UploadLimits) -> RawDocument:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.max_file_bytes:
            doc = RawDocument(file=p.name)
            doc.error(
                "file_too_large",
                f"文件过大（{size} 字节，上限 {limits.max_file_bytes}）",
                f"file too large ({size} bytes, limit {limits.max_file_bytes})",
            )
            return doc
        content = p.read_bytes()
    except OSError as exc:
        doc = RawDocument(file=str(path))
        doc.error("unreadable", f"无法打开文件：{exc.strerror}", f"cannot open file: {exc.strerror}")
        return doc
    return read_document(p.name, content, limits)


def _check_row_counts(doc: RawDocument, limits: UploadLimits) -> None:
    if any(i.code in STREAM_LIMIT_CODES for i in doc.issues):
        return  # reading stopped at a limit and said so
    for section, items in doc.sections.items():
        if len(items) > limits.max_rows_per_section:
            doc.error(
                "too_many_rows",
                f"{section} 行数过多（{len(items)}，上限 {limits.max_rows_per_section}）",
                f"too many rows in {section} ({len(items)}, limit {limits.max_rows_per_section})",
            )


# --- YAML ------------------------------------------------------------------------------------------


def _read_yaml(doc: RawDocument, content: bytes, limits: UploadLimits) -> None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        doc.error("encoding", "文件不是 UTF-8 编码", f"file is not UTF-8 ({exc.reason})")
        return
    if not _scan_yaml(doc, text, limits):
        return
    loader = YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        doc.error(
            "yaml_syntax",
            f"YAML 格式错误：{exc.problem or ''}",
            f"YAML syntax error: {exc.problem or exc}",
            Location(doc.file, line=line),
        )
        return
    except yaml.YAMLError as exc:
        doc.error("yaml_syntax", "YAML 格式错误", f"YAML error: {exc}")
        return
    finally:
        loader.dispose()
    if data is None:
        doc.warning("empty_file", "文件是空的", "file is empty")
        return
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        doc.error(
            "yaml_shape", "顶层应是各部分的映射（library、scripts…）", "top level must map section names"
        )
        return
    for key_node, value_node in node.value:
        section = SECTION_ALIASES.get(str(key_node.value), str(key_node.value))
        key_loc = Location(doc.file, line=key_node.start_mark.line + 1)
        value = data.get(key_node.value)
        if section not in SECTIONS:
            doc.error(
                "unknown_section",
                f"未知部分 {key_node.value}（可用：{'、'.join(SECTIONS)}）",
                f"unknown section {key_node.value} (known: {', '.join(SECTIONS)})",
                key_loc,
            )
            continue
        if section in doc.sections:
            doc.error(
                "duplicate_section", f"部分 {section} 重复", f"section {section} appears twice", key_loc
            )
            continue
        if section in MAPPING_SECTIONS:
            if value is None:
                value = {}
            if not isinstance(value, dict):
                doc.error("section_shape", f"{section} 应是映射", f"{section} must be a mapping", key_loc)
                continue
            item = RawItem(dict(value), key_loc)
            _map_fields(doc, value_node, "", item.field_locations)
            doc.sections[section] = [item]
        else:
            if value is None:
                value = []
            if not isinstance(value, list):
                doc.error("section_shape", f"{section} 应是列表", f"{section} must be a list", key_loc)
                continue
            items: list[RawItem] = []
            for sub_node, sub_value in zip(value_node.value, value, strict=False):
                loc = Location(doc.file, line=sub_node.start_mark.line + 1)
                if not isinstance(sub_value, dict):
                    doc.error("item_shape", "每一项应是映射（键: 值）", "each item must be a mapping", loc)
                    continue
                item = RawItem(dict(sub_value), loc)
                _map_fields(doc, sub_node, "", item.field_locations)
                items.append(item)
            doc.sections[section] = items


def _scan_yaml(doc: RawDocument, text: str, limits: UploadLimits) -> bool:
    """Stream the parser's events (nothing is built) and count nodes, an alias counting as the whole node it
    repeats; False (and an error) at the first node over ``max_yaml_nodes``. A syntax error is left to the
    real load, which reports it with its line; rows per section are checked after the (bounded) load."""
    total = 0
    anchored: dict[str, int] = {}
    frames: list[tuple[int, str | None]] = []  # (total when the collection started, its anchor)
    try:
        for event in yaml.parse(text, Loader=YAML_LOADER):  # a generator: leaving it drops the parser
            if isinstance(event, yaml.CollectionEndEvent):
                start, anchor = frames.pop()
                if anchor:
                    anchored[anchor] = total - start
                continue
            if isinstance(event, yaml.AliasEvent):
                total += anchored.get(event.anchor or "", 1)
            elif isinstance(event, yaml.NodeEvent):
                total += 1
                if isinstance(event, yaml.CollectionStartEvent):
                    frames.append((total - 1, event.anchor))
                elif event.anchor:
                    anchored[event.anchor] = 1
            else:
                continue
            if total > limits.max_yaml_nodes:
                doc.error(
                    "yaml_too_large",
                    f"YAML 内容过多（超过 {limits.max_yaml_nodes} 个值，别名展开后计），已停止读取",
                    f"YAML too large (over {limits.max_yaml_nodes} nodes, aliases expanded): reading stopped",
                )
                return False
    except yaml.YAMLError:
        return True
    return True


def _map_fields(
    doc: RawDocument,
    node: yaml.Node,
    prefix: str,
    out: dict[str, Location],
    depth: int = 0,
    visited: set[int] | None = None,
) -> None:
    """Record the line of every key (dotted path) under ``node``; report duplicate keys.

    Each node is visited once (a YAML alias points to a node already seen), so an alias bomb costs nothing."""
    seen_nodes = visited if visited is not None else set()
    if depth > YAML_LOCATION_DEPTH or id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            path = f"{prefix}{key}"
            loc = Location(doc.file, line=key_node.start_mark.line + 1, column=path)
            if key in seen:
                doc.error("duplicate_key", f"键 {key} 重复", f"duplicate key {key}", loc)
            seen.add(key)
            out[path] = loc
            _map_fields(doc, value_node, path + ".", out, depth + 1, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, sub in enumerate(node.value):
            if not isinstance(sub, yaml.MappingNode):
                continue  # list items of plain values: the list's own line is precise enough
            path = f"{prefix}{i}"
            out[path] = Location(doc.file, line=sub.start_mark.line + 1, column=prefix.rstrip("."))
            _map_fields(doc, sub, path + ".", out, depth + 1, seen_nodes)


# --- tables (CSV and XLSX) ---------------------------------------------------------------------------------


def _section_for(name: str, header: list[str]) -> str | None:
    stem = name.strip().lower()
    if stem in SECTIONS:
        return stem
    if name.strip() in SECTION_ALIASES:
        return SECTION_ALIASES[name.strip()]
    for suffix in SECTIONS:  # e.g. "apparel_scripts"
        if stem.endswith(suffix):
            return suffix
    cols = set(header)
    if "reply" in cols:
        return "scripts"
    if "chart" in cols and "size" in cols:
        return "size_charts"
    if "link" in cols and "price" in cols:
        return "products"
    if "type" in cols and "stock" in cols:
        return "coupons"
    return None


def _normalise_header(raw: Any) -> str:
    text = "" if raw is None else str(raw).strip()
    return HEADER_ALIASES.get(text, text.lower())


def _cell_value(value: Any) -> Any:
    """Spreadsheet cell → what the model expects (empty → missing, 是/否 → bool, dates → ISO text)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        return BOOLEAN_WORDS.get(text, text)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


def _table_to_items(
    doc: RawDocument,
    section: str,
    header: list[str],
    rows: Iterable[tuple[int, list[Any]]],
    base: Location,
    limits: UploadLimits,
) -> None:
    """Turn header + rows into raw items of ``section`` (size chart rows grouped by chart)."""
    known = set(TABLE_COLUMNS[section])
    letters = [_column_letter(i) for i in range(len(header))]
    for col, name in enumerate(header):
        if name and name not in known:
            doc.error(
                "unknown_column",
                f"未知列 {name}（可用：{'、'.join(TABLE_COLUMNS[section])}）",
                f"unknown column {name} (known: {', '.join(TABLE_COLUMNS[section])})",
                Location(base.file, base.sheet, 1, name, letters[col] if base.sheet else ""),
            )
    items: list[RawItem] = []
    mapping = RawItem({}, Location(base.file, base.sheet, 1))
    charts: dict[str, RawItem] = {}
    for line, cells in rows:
        row_loc = Location(base.file, base.sheet, line)
        data: dict[str, Any] = {}
        field_locs: dict[str, Location] = {}
        rejected: set[str] = set()
        for col, name in enumerate(header):
            if not name or name not in known or col >= len(cells):
                continue
            if cells[col] is REJECTED:
                rejected.add(name)
                continue
            value = _cell_value(cells[col])
            if value is None:
                continue
            loc = row_loc.with_column(name, letters[col] if base.sheet else "")
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                doc.error(
                    "cell_too_long",
                    f"单元格过长（{len(value)} 字，上限 {limits.max_cell_chars}）",
                    f"cell too long ({len(value)} chars, limit {limits.max_cell_chars})",
                    loc,
                )
                continue
            data[name] = value
            field_locs[name] = loc
        if not data and not rejected:
            continue
        if section in MAPPING_SECTIONS:
            key_col, value_col = MAPPING_COLUMNS[section]
            key = data.get(key_col)
            if key is None:
                doc.error("missing_key", f"缺少 {key_col}", f"missing {key_col}", row_loc)
                continue
            key = str(key)
            if key in mapping.data:
                doc.error("duplicate_key", f"键 {key} 重复", f"duplicate key {key}", row_loc)
            value = data.get(value_col, "")
            mapping.data[key] = (
                value if not isinstance(value, float) or not value.is_integer() else int(value)
            )
            mapping.field_locations[key] = field_locs.get(value_col, row_loc.with_column(key))
        elif section == "size_charts":
            chart_id = str(data.pop("chart", "") or "")
            field_locs.pop("chart", None)
            if not chart_id:
                doc.error(
                    "missing_chart", "缺少 chart（尺码表编号）", "missing chart (size chart id)", row_loc
                )
                continue
            chart = charts.get(chart_id)
            if chart is None:
                chart = RawItem({"id": chart_id, "rows": []}, row_loc)
                charts[chart_id] = chart
                items.append(chart)
            idx = len(chart.data["rows"])
            chart.data["rows"].append(data)
            chart.field_locations[f"rows.{idx}"] = row_loc
            for name, loc in field_locs.items():
                chart.field_locations[f"rows.{idx}.{name}"] = loc
        else:
            if section == "coupons":
                trigger = {
                    k[len(TRIGGER_PREFIX) :]: data.pop(k) for k in list(data) if k.startswith(TRIGGER_PREFIX)
                }
                if trigger:
                    data["trigger"] = trigger
                    for k in list(field_locs):
                        if k.startswith(TRIGGER_PREFIX):
                            field_locs[f"trigger.{k[len(TRIGGER_PREFIX) :]}"] = field_locs.pop(k)
            items.append(RawItem(data, row_loc, field_locs, rejected))
    if section in MAPPING_SECTIONS:
        if section in doc.sections:
            doc.sections[section][0].data.update(mapping.data)
        else:
            doc.sections[section] = [mapping]
    else:
        doc.sections.setdefault(section, []).extend(items)


@dataclass(slots=True)
class _CellBudget:
    """Cells still allowed in one file (shared by its sheets)."""

    left: int


def _bounded_rows(
    doc: RawDocument,
    rows: Iterable[tuple[int, list[Any]]],
    limits: UploadLimits,
    budget: _CellBudget,
    where: Location,
) -> Iterator[tuple[int, list[Any]]]:
    """``rows`` as they are read, stopping (with an error) at the first one over a limit: rows read
    (``max_sheet_rows``, blank ones included), rows with data (``max_rows_per_section``), cells in a row
    (``max_columns``) and cells in the file (``max_cells``)."""
    read = 0
    with_data = 0
    for line, cells in rows:
        read += 1
        if read > limits.max_sheet_rows:
            doc.error(
                "too_many_rows",
                f"行数过多（超过 {limits.max_sheet_rows} 行，含空行），已停止读取",
                f"too many rows (over {limits.max_sheet_rows}, blank ones included): reading stopped",
                Location(where.file, where.sheet, line),
            )
            return
        if len(cells) > limits.max_columns and any(
            c is not None and c != "" for c in cells[limits.max_columns :]
        ):
            doc.error(
                "too_many_columns",
                f"列数过多（{len(cells)}，上限 {limits.max_columns}），已停止读取",
                f"too many cells in a row ({len(cells)}, limit {limits.max_columns}): reading stopped",
                Location(where.file, where.sheet, line),
            )
            return
        filled = sum(1 for c in cells if c is not None and c != "")
        if not filled:
            continue
        with_data += 1
        budget.left -= filled
        if with_data > limits.max_rows_per_section:
            doc.error(
                "too_many_rows",
                f"行数过多（超过 {limits.max_rows_per_section} 行），已停止读取",
                f"too many rows (over {limits.max_rows_per_section}): reading stopped",
                Location(where.file, where.sheet, line),
            )
            return
        if budget.left < 0:
            doc.error(
                "too_many_cells",
                f"单元格过多（超过 {limits.max_cells} 个），已停止读取",
                f"too many cells (over {limits.max_cells}): reading stopped",
                Location(where.file, where.sheet, line),
            )
            return
        yield line, cells


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _decode_text(content: bytes) -> str | None:
    """A text file (CSV, rules) in the first of :data:`CSV_ENCODINGS` that decodes it; ``None`` if none."""
    for encoding in CSV_ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_csv(doc: RawDocument, name: str, content: bytes, limits: UploadLimits) -> None:
    text = _decode_text(content)
    if text is None:
        doc.error("encoding", "CSV 编码无法识别（请用 UTF-8）", "cannot decode CSV (use UTF-8)")
        return
    reader = csv.reader(io.StringIO(text, newline=""))  # rows one at a time, never the whole file
    first = next(reader, None)
    if first is None:
        doc.warning("empty_file", "文件是空的", "file is empty")
        return
    if len(first) > limits.max_columns:
        doc.error(
            "too_many_columns",
            f"列数过多（{len(first)}，上限 {limits.max_columns}）",
            f"too many columns ({len(first)}, limit {limits.max_columns})",
            Location(doc.file, line=1),
        )
        return
    header = [_normalise_header(h) for h in first]
    section = _section_for(Path(name).stem, header)
    if section is None:
        doc.error(
            "unknown_section",
            f"无法判断这个 CSV 是哪一部分；请把文件命名为 {'/'.join(SECTIONS)}.csv",
            f"cannot tell which section this CSV is; name it {'/'.join(SECTIONS)}.csv",
            Location(doc.file, line=1),
        )
        return
    numbered = ((i, r) for i, r in enumerate(reader, start=2))
    budget = _CellBudget(limits.max_cells)
    rows = _bounded_rows(doc, numbered, limits, budget, Location(doc.file))
    _table_to_items(doc, section, header, rows, Location(doc.file), limits)


def _guess_intent(text: str) -> str:
    for intent, cues in RULE_INTENT_CUES:
        if any(c in text for c in cues):
            return intent
    return "product"


def _read_rules(doc: RawDocument, content: bytes, limits: UploadLimits) -> None:
    """``关键词/同义词|回复`` lines (``#`` starts a comment): one script per line, its intent guessed from the
    words (reported once, to be checked), the library named after the file unless another file names it."""
    text = _decode_text(content)
    if text is None:
        doc.error(
            "encoding", "规则文件编码无法识别（请用 UTF-8）", "cannot decode the rules file (use UTF-8)"
        )
        return
    items: list[RawItem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if number > limits.max_sheet_rows:
            doc.error(
                "too_many_rows",
                f"行数超过上限 {limits.max_sheet_rows}",
                f"more than {limits.max_sheet_rows} lines",
                Location(doc.file, line=number),
            )
            return
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        loc = Location(doc.file, line=number)
        cut = min((i for i in (line.find(sep) for sep in RULE_SEPARATORS) if i >= 0), default=-1)
        if cut < 0:
            doc.error(
                "rule_format", "缺少 | 分隔（格式：关键词/同义词|回复）", "no | (format: keywords|reply)", loc
            )
            continue
        words = [w.strip() for w in RULE_KEYWORD_SPLIT.split(line[:cut]) if w.strip()]
        reply = line[cut + 1 :].strip()
        if not words or not reply:
            doc.error("rule_format", "关键词和回复都不能为空", "keywords and reply must both be given", loc)
            continue
        data = {
            "id": f"rule{number}",
            "intents": [_guess_intent("".join(words) + reply)],
            "keywords": words,
            "reply": reply,
            "tags": ["规则导入"],
        }
        items.append(RawItem(data, loc, {"keywords": loc, "reply": loc, "intents": loc}))
    if not items:
        doc.warning("empty_file", "文件里没有规则", "no rules in the file")
        return
    doc.sections["scripts"] = items
    doc.sections["library"] = [RawItem({"name": Path(doc.file).stem or "rules"}, Location(doc.file))]
    doc.warning(
        "rules_intent_guessed",
        f"从规则文本导入 {len(items)} 条话术：意图按关键词推断、没有口播词，请核对",
        f"{len(items)} scripts imported from rules: intents guessed from the words, no on-air lines",
    )


def _read_xlsx(doc: RawDocument, content: bytes, limits: UploadLimits) -> None:
    from livecs.scripts.xlsx_stream import XlsxCorrupt, XlsxLimit, read_sheets

    try:
        zf = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        doc.error("xlsx_corrupt", "不是有效的 .xlsx 文件", "not a valid .xlsx file")
        return
    with zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > limits.max_xlsx_uncompressed_bytes:
            doc.error("xlsx_too_large", "表格解压后过大", "workbook too large once uncompressed")
            return
        if any(i.filename.endswith(MACRO_MEMBER) for i in infos):
            doc.error(
                "xlsx_macro", "表格含宏，已拒绝（宏从不执行）", "workbook holds macros: refused (never run)"
            )
            return
        budget = _CellBudget(limits.max_cells)
        try:
            for title, rows_iter in read_sheets(
                zf,
                max_elements=limits.max_xlsx_elements,
                max_rows=limits.max_sheet_rows + 1,  # the header row too
                max_columns=limits.max_columns,
            ):
                first = next(rows_iter, None)
                if first is None:
                    continue
                header = [_normalise_header(v) for v in first[1]]
                section = _section_for(title, header)
                if section is None:
                    doc.warning(
                        "unknown_sheet",
                        f"忽略工作表 {title}（可用：{'、'.join(SECTIONS)}）",
                        f"sheet {title} ignored (known: {', '.join(SECTIONS)})",
                        Location(doc.file, title),
                    )
                    continue
                where = Location(doc.file, title)
                rows = _bounded_rows(doc, _xlsx_rows(doc, title, header, rows_iter), limits, budget, where)
                _table_to_items(doc, section, header, rows, where, limits)
                if any(i.code in STREAM_LIMIT_CODES for i in doc.issues):
                    return
        except XlsxLimit as exc:
            doc.error(exc.issue, exc.zh, exc.en)
        except XlsxCorrupt as exc:
            doc.error("xlsx_corrupt", "不是有效的 .xlsx 文件", f"not a valid .xlsx file ({exc})")


def _xlsx_rows(
    doc: RawDocument, sheet: str, header: list[str], rows_iter: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    """Cell values by row; a formula cell is reported and read as empty (never evaluated)."""
    from livecs.scripts.xlsx_stream import Formula

    for row_index, row in rows_iter:
        values: list[Any] = []
        for col, value in enumerate(row):
            if isinstance(value, Formula):
                doc.error(
                    "xlsx_formula",
                    f"单元格含公式 {value.text}（公式不会被计算，请填写值）",
                    f"cell holds a formula {value.text} (formulas are never evaluated; enter a value)",
                    Location(
                        doc.file,
                        sheet,
                        row_index,
                        header[col] if col < len(header) else "",
                        _column_letter(col),
                    ),
                )
                values.append(REJECTED)
            else:
                values.append(value)
        yield row_index, values


# --- writers ---------------------------------------------------------------------------------------


def library_to_plain(library: Library) -> dict[str, Any]:
    """The canonical plain form (what YAML holds): defaults left out, enums as values, tiers as names."""
    data = library.model_dump(mode="json", exclude_defaults=True)
    for rule, plain in zip(library.coupons, data.get("coupons", []), strict=True):
        if rule.min_tier is not None:
            plain["min_tier"] = MemberTier(rule.min_tier).name.lower()
        if rule.type == "compensation":
            plain.pop("requires_approval", None)
    data.setdefault("library", library.library.model_dump(mode="json"))
    return data


def dump_yaml(library: Library) -> str:
    return yaml.safe_dump(library_to_plain(library), allow_unicode=True, sort_keys=False, width=1000)


def _cell_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_JOIN.join(str(v) for v in value)
    if isinstance(value, dict):
        return LIST_JOIN.join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def library_tables(library: Library) -> dict[str, list[list[Any]]]:
    """Each section as a table: header row then one row per item (what CSV files and XLSX sheets hold)."""
    plain = library_to_plain(library)
    tables: dict[str, list[list[Any]]] = {}
    info = plain.get("library", {})
    tables["library"] = [list(MAPPING_COLUMNS["library"])] + [[k, _cell_text(v)] for k, v in info.items()]
    tables["variables"] = [list(MAPPING_COLUMNS["variables"])] + [
        [k, _cell_text(v)] for k, v in plain.get("variables", {}).items()
    ]
    for section, columns in (("scripts", SCRIPT_COLUMNS), ("products", PRODUCT_COLUMNS)):
        tables[section] = [list(columns)] + [
            [_cell_text(item.get(c)) for c in columns] for item in plain.get(section, [])
        ]
    chart_rows: list[list[Any]] = [list(SIZE_CHART_COLUMNS)]
    for chart in plain.get("size_charts", []):
        for row in chart["rows"]:
            chart_rows.append([chart["id"]] + [_cell_text(row.get(c)) for c in SIZE_CHART_COLUMNS[1:]])
    tables["size_charts"] = chart_rows
    coupon_rows: list[list[Any]] = [list(COUPON_COLUMNS)]
    for rule in plain.get("coupons", []):
        flat = dict(rule)
        for k, v in (flat.pop("trigger", None) or {}).items():
            flat[TRIGGER_PREFIX + k] = v
        coupon_rows.append([_cell_text(flat.get(c)) for c in COUPON_COLUMNS])
    tables["coupons"] = coupon_rows
    return tables


def write_csv_dir(library: Library, directory: str | Path) -> list[Path]:
    """One ``<section>.csv`` per section (UTF-8 with BOM, so Excel opens Chinese text correctly)."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for section, rows in library_tables(library).items():
        path = out_dir / f"{section}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
        written.append(path)
    return written


def write_xlsx(library: Library, path: str | Path) -> Path:
    """One sheet per section; text starting with ``=`` is stored as text, never as a formula."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for section, rows in library_tables(library).items():
        ws = wb.create_sheet(section)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
    out = Path(path)
    wb.save(out)
    return out
