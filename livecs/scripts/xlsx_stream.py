"""A streaming reader of ``.xlsx`` cell values: every XML part is fed to expat a chunk at a time, rows are
handed over as they complete, and the limits are checked on every element — so a small zip of a huge sheet
is refused after reading only as much as the limits allow (issue 11: a 130 KB workbook of 900,000 rows took
164 s and 1.3 GB through openpyxl, which also builds every row a sheet's ``<dimension>`` claims).

Only what a library needs is read: sheet names and order (``workbook.xml`` and its relationships), shared
strings, which cell styles are dates (``styles.xml``) and the cells' values, the way openpyxl reads them with
``data_only=False``: a formula is never evaluated (its text is returned as :class:`Formula`), numbers styled
as dates become ``datetime``, ``t="s"/"inlineStr"/"str"/"b"/"e"/"d"`` as in the specification. A DTD is
refused; nothing else in the package (drawings, macros, external links) is parsed.

:class:`XlsxLimit` is raised at the first limit crossed (``issue`` is the issue code to report).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

from livecs.errors import ErrorCode, LivecsError

CHUNK_BYTES = 64 * 1024
NS_SEP = " "
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET_TYPE = "/worksheet"


class XlsxLimit(LivecsError):
    """Reading stopped at a limit; ``issue`` (the issue code to report), ``zh`` and ``en`` describe it."""

    code = ErrorCode.TOO_LARGE

    def __init__(self, issue: str, zh: str, en: str) -> None:
        super().__init__(zh, en, message=en)
        self.issue = issue


class XlsxCorrupt(LivecsError):
    """Not a workbook this reader understands (missing part, broken XML, a DTD)."""

    code = ErrorCode.INVALID


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula cell, never evaluated; ``text`` starts with ``=``."""

    text: str


@dataclass(slots=True)
class Budget:
    """Limits shared by every part of one workbook."""

    max_elements: int
    max_rows: int  # rows of one sheet, header included
    max_columns: int
    elements: int = 0

    def element(self) -> None:
        self.elements += 1
        if self.elements > self.max_elements:
            raise XlsxLimit(
                "xlsx_too_complex",
                f"表格内容过多（超过 {self.max_elements} 个 XML 元素），已停止读取",
                f"workbook too complex (over {self.max_elements} XML elements): reading stopped",
            )


def _local(tag: str) -> str:
    return tag.rpartition(NS_SEP)[2]


def _parse(
    stream: IO[bytes],
    budget: Budget,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    parser = expat.ParserCreate(namespace_separator=NS_SEP)

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        budget.element()
        start(_local(tag), attrs)

    def on_doctype(*_args: Any) -> None:
        raise XlsxCorrupt("a workbook part declares a DTD")

    parser.StartElementHandler = on_start
    if end is not None:
        parser.EndElementHandler = lambda tag: end(_local(tag))
    if text is not None:
        parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = on_doctype
    try:
        while chunk := stream.read(CHUNK_BYTES):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XlsxCorrupt(f"broken XML: {exc}") from None


def _open(zf: zipfile.ZipFile, name: str) -> IO[bytes] | None:
    try:
        return zf.open(name)
    except KeyError:
        return None


@dataclass(slots=True)
class _Workbook:
    sheets: list[tuple[str, str]] = field(default_factory=list)  # (title, part name)
    shared: list[str] = field(default_factory=list)
    date_styles: set[int] = field(default_factory=set)
    epoch: Any = WINDOWS_EPOCH


def _read_workbook(zf: zipfile.ZipFile, budget: Budget) -> _Workbook:
    wb = _Workbook()
    rels: dict[str, str] = {}

    def rel(tag: str, a: dict[str, str]) -> None:
        if tag == "Relationship" and a.get("Type", "").endswith(WORKSHEET_TYPE):
            target = a.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            rels[a.get("Id", "")] = path

    stream = _open(zf, "xl/_rels/workbook.xml.rels")
    if stream is None:
        raise XlsxCorrupt("no xl/_rels/workbook.xml.rels")
    with stream:
        _parse(stream, budget, rel)

    def book(tag: str, a: dict[str, str]) -> None:
        if tag == "sheet":
            part = rels.get(a.get(REL_NS + NS_SEP + "id", ""))
            if part is not None:
                wb.sheets.append((a.get("name", ""), part))
        elif tag == "workbookPr" and a.get("date1904", "").lower() in ("1", "true"):
            wb.epoch = MAC_EPOCH

    stream = _open(zf, "xl/workbook.xml")
    if stream is None:
        raise XlsxCorrupt("no xl/workbook.xml")
    with stream:
        _parse(stream, budget, book)
    _read_shared_strings(zf, budget, wb)
    _read_styles(zf, budget, wb)
    return wb


def _read_shared_strings(zf: zipfile.ZipFile, budget: Budget, wb: _Workbook) -> None:
    stream = _open(zf, "xl/sharedStrings.xml")
    if stream is None:
        return
    parts: list[str] = []
    state = {"in_t": False, "in_rph": False}

    def start(tag: str, _a: dict[str, str]) -> None:
        if tag == "si":
            parts.clear()
        elif tag == "t":
            state["in_t"] = True
        elif tag == "rPh":  # phonetic guide: not part of the text
            state["in_rph"] = True

    def end(tag: str) -> None:
        if tag == "si":
            wb.shared.append("".join(parts))
        elif tag == "t":
            state["in_t"] = False
        elif tag == "rPh":
            state["in_rph"] = False

    def text(data: str) -> None:
        if state["in_t"] and not state["in_rph"]:
            parts.append(data)

    with stream:
        _parse(stream, budget, start, end, text)


def _read_styles(zf: zipfile.ZipFile, budget: Budget, wb: _Workbook) -> None:
    stream = _open(zf, "xl/styles.xml")
    if stream is None:
        return
    custom: dict[int, str] = {}
    xf_formats: list[int] = []
    state = {"in_xfs": False}

    def start(tag: str, a: dict[str, str]) -> None:
        if tag == "numFmt":
            try:
                custom[int(a.get("numFmtId", ""))] = a.get("formatCode", "")
            except ValueError:
                pass
        elif tag == "cellXfs":
            state["in_xfs"] = True
        elif tag == "xf" and state["in_xfs"]:
            try:
                xf_formats.append(int(a.get("numFmtId", "0")))
            except ValueError:
                xf_formats.append(0)

    def end(tag: str) -> None:
        if tag == "cellXfs":
            state["in_xfs"] = False

    with stream:
        _parse(stream, budget, start, end)
    for style_id, fmt in enumerate(xf_formats):
        code = custom.get(fmt) or BUILTIN_FORMATS.get(fmt)
        if code and is_date_format(code):
            wb.date_styles.add(style_id)


def _column_index(ref: str) -> int:
    """1-based column of a cell reference ("C5" → 3); 0 when there is none."""
    col = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            col = col * 26 + ord(ch) - ord("A") + 1
        elif "a" <= ch <= "z":
            col = col * 26 + ord(ch) - ord("a") + 1
        else:
            break
    return col


def _number(raw: str) -> int | float:
    if any(ch in raw for ch in ".eE"):
        return float(raw)
    try:
        return int(raw)
    except ValueError:
        return float(raw)


class _SheetReader:
    """Rows of one sheet as ``(row number, [value, …])``, handed over after each chunk of XML."""

    def __init__(self, wb: _Workbook, budget: Budget) -> None:
        self.wb = wb
        self.budget = budget
        self.ready: list[tuple[int, list[Any]]] = []
        self.row_no = 0
        self.rows = 0
        self.cells: list[Any] = []
        self.col = 0
        self.cell: dict[str, str] = {}
        self.value: list[str] = []
        self.formula: list[str] | None = None
        self.inline: list[str] = []
        self.capture: list[str] | None = None

    def start(self, tag: str, a: dict[str, str]) -> None:
        if tag == "row":
            self.rows += 1
            if self.rows > self.budget.max_rows:
                raise XlsxLimit(
                    "too_many_rows",
                    f"工作表行数过多（超过 {self.budget.max_rows - 1} 行，含空行），已停止读取",
                    f"too many rows in a sheet (over {self.budget.max_rows - 1}): reading stopped",
                )
            try:
                self.row_no = int(a["r"]) if "r" in a else self.row_no + 1
            except ValueError:
                self.row_no += 1
            self.cells = []
            self.col = 0
        elif tag == "c":
            self.cell = a
            col = _column_index(a.get("r", "")) or self.col + 1
            if col > self.budget.max_columns:
                raise XlsxLimit(
                    "too_many_columns",
                    f"工作表第 {self.row_no} 行列数过多（上限 {self.budget.max_columns}），已停止读取",
                    f"too many cells in row {self.row_no} (limit {self.budget.max_columns}): reading stopped",
                )
            self.col = col
            self.value, self.formula, self.inline = [], None, []
        elif tag == "v":
            self.capture = self.value
        elif tag == "f":
            self.formula = []
            self.capture = self.formula
        elif tag == "t":
            self.capture = self.inline

    def end(self, tag: str) -> None:
        if tag in ("v", "f", "t"):
            self.capture = None
        elif tag == "c":
            value = self._value()
            if value is not None:
                while len(self.cells) < self.col - 1:
                    self.cells.append(None)
                if len(self.cells) < self.col:
                    self.cells.append(value)
                else:
                    self.cells[self.col - 1] = value
        elif tag == "row":
            self.ready.append((self.row_no, self.cells))
            self.cells = []

    def text(self, data: str) -> None:
        if self.capture is not None:
            self.capture.append(data)

    def _value(self) -> Any:
        if self.formula is not None:
            return Formula("=" + "".join(self.formula))
        kind = self.cell.get("t", "n")
        if kind == "inlineStr":
            return "".join(self.inline) if self.inline else None
        raw = "".join(self.value)
        if not raw:
            return None
        try:
            if kind == "s":
                return self.wb.shared[int(raw)]
            if kind == "b":
                return bool(int(raw))
            if kind in ("str", "e"):
                return raw
            if kind == "d":
                return from_ISO8601(raw)
            number = _number(raw)
            style = self.cell.get("s")
            if style and int(style) in self.wb.date_styles:
                return from_excel(number, self.wb.epoch)
            return number
        except (ValueError, IndexError, OverflowError):
            return "#VALUE!"


def read_sheets(
    zf: zipfile.ZipFile, *, max_elements: int, max_rows: int, max_columns: int
) -> Iterator[tuple[str, Iterator[tuple[int, list[Any]]]]]:
    """``(title, rows)`` for each worksheet in workbook order; ``rows`` yields ``(row number, values)``
    lazily. Raises :class:`XlsxLimit` or :class:`XlsxCorrupt` (also from inside ``rows``)."""
    budget = Budget(max_elements=max_elements, max_rows=max_rows, max_columns=max_columns)
    wb = _read_workbook(zf, budget)
    for title, part in wb.sheets:
        yield title, _rows(zf, part, wb, budget)


def _rows(zf: zipfile.ZipFile, part: str, wb: _Workbook, budget: Budget) -> Iterator[tuple[int, list[Any]]]:
    stream = _open(zf, part)
    if stream is None:
        raise XlsxCorrupt(f"no {part}")
    reader = _SheetReader(wb, budget)
    parser = expat.ParserCreate(namespace_separator=NS_SEP)

    def on_start(tag: str, attrs: dict[str, str]) -> None:
        budget.element()
        reader.start(_local(tag), attrs)

    def on_doctype(*_args: Any) -> None:
        raise XlsxCorrupt("a workbook part declares a DTD")

    parser.StartElementHandler = on_start
    parser.EndElementHandler = lambda tag: reader.end(_local(tag))
    parser.CharacterDataHandler = reader.text
    parser.StartDoctypeDeclHandler = on_doctype
    with stream:
        try:
            while chunk := stream.read(CHUNK_BYTES):
                parser.Parse(chunk, False)
                if reader.ready:
                    ready, reader.ready = reader.ready, []
                    yield from ready
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise XlsxCorrupt(f"broken XML: {exc}") from None
    yield from reader.ready
