"""A minimal streaming XLSX writer: rows go straight into the zip, one sheet after another.

Why not openpyxl's write-only mode: without lxml it serialises each cell through a pure-Python XML tree at
≈25 µs a cell, so a 1-million-comment export (≈25 M cells) takes over ten minutes. This writer emits the same
SpreadsheetML (inline strings, numbers, booleans; no styles) at ≈1 µs a cell with constant memory; openpyxl
and Excel/WPS/LibreOffice read it (the tests read every workbook back with openpyxl). Sheets are written
in any order; the workbook lists them in the order they were *declared* with :meth:`XlsxWriter.sheet`.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_BOOK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
#: characters XML 1.0 forbids (openpyxl's ILLEGAL_CHARACTERS_RE, the same set)
_ILLEGAL_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
MAX_CELL_CHARS = 32_767
FLUSH_ROWS = 2_000
LETTERS = 26


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, LETTERS)
        out = chr(ord("A") + rem) + out
    return out


def _cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):  # NaN/inf are not numbers in XLSX
            value = str(value)
        else:
            return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = _ILLEGAL_RE.sub("", str(value))[:MAX_CELL_CHARS]
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


class Sheet:
    """One worksheet being written; :meth:`append` rows, the writer closes it."""

    def __init__(self, stream: IO[bytes], width: int) -> None:
        self._stream = stream
        self._letters = [column_letter(i) for i in range(width)]
        self._buf: list[str] = []
        self.rows = 0
        stream.write(f'{_XML_DECL}<worksheet xmlns="{_MAIN_NS}"><sheetData>'.encode())

    def append(self, values: Sequence[Any]) -> None:
        self.rows += 1
        n = self.rows
        if len(values) > len(self._letters):
            self._letters += [column_letter(i) for i in range(len(self._letters), len(values))]
        cells = "".join(_cell(f"{self._letters[i]}{n}", v) for i, v in enumerate(values))
        self._buf.append(f'<row r="{n}">{cells}</row>')
        if len(self._buf) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            self._stream.write("".join(self._buf).encode())
            self._buf.clear()

    def close(self) -> None:
        self._flush()
        self._stream.write(b"</sheetData></worksheet>")
        self._stream.close()


def safe_sheet_name(name: str) -> str:
    """A name Excel accepts: no ``[]:*?/\\``, no control characters, at most 31 characters, not
    starting or ending with an apostrophe, not blank, not the reserved ``History``."""
    name = _SHEET_NAME_BAD.sub("_", _ILLEGAL_RE.sub("", name)).strip()
    name = name[:SHEET_NAME_MAX].strip("'").strip() or "sheet"
    return name + "_" if name.casefold() == "history" else name


class XlsxWriter:
    """A workbook being written.

    ``with XlsxWriter(path) as wb: s = wb.sheet("comments", width); s.append([...]); wb.close_sheet(s)``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self._names: list[str] = []
        self._open: Sheet | None = None

    def declare(self, name: str) -> int:
        """Reserve a sheet's place in the workbook order; returns its number."""
        name = safe_sheet_name(name)
        base, k = name, 2
        taken = {n.casefold() for n in self._names}  # Excel compares sheet names without case
        while name.casefold() in taken:
            suffix = f" ({k})"
            name = base[: SHEET_NAME_MAX - len(suffix)].rstrip("'") + suffix
            k += 1
        self._names.append(name)
        return len(self._names)

    @property
    def names(self) -> list[str]:
        """The sheet names declared so far, in workbook order."""
        return list(self._names)

    def open_sheet(self, number: int, width: int) -> Sheet:
        """Start writing sheet ``number`` (one sheet open at a time)."""
        if self._open is not None:
            raise RuntimeError("close the open sheet first")
        stream = self._zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True)
        self._open = Sheet(stream, width)
        return self._open

    def sheet(self, name: str, width: int) -> Sheet:
        return self.open_sheet(self.declare(name), width)

    def close_sheet(self, sheet: Sheet) -> None:
        sheet.close()
        if sheet is self._open:
            self._open = None

    def close(self) -> None:
        if self._open is not None:
            self.close_sheet(self._open)
        n = len(self._names)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SHEET_CT}"/>'
            for i in range(1, n + 1)
        )
        self._zip.writestr(
            "[Content_Types].xml",
            f'{_XML_DECL}<Types xmlns="{_CT_NS}">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_BOOK_CT}"/>{overrides}</Types>',
        )
        self._zip.writestr(
            "_rels/.rels",
            f'{_XML_DECL}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_DOC_REL}" Target="xl/workbook.xml"/></Relationships>',
        )
        sheets = "".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(self._names, start=1)
        )
        self._zip.writestr(
            "xl/workbook.xml",
            f'{_XML_DECL}<workbook xmlns="{_MAIN_NS}"'
            f' xmlns:r="{_REL_NS}"><sheets>{sheets}</sheets></workbook>',
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_SHEET_REL}" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_XML_DECL}<Relationships xmlns="{_PKG_REL_NS}">{rels}</Relationships>',
        )
        self._zip.close()

    def __enter__(self) -> XlsxWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
