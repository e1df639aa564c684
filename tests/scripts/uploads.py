"""Hostile uploads made in the test (issue 11): a 1,000,000-row CSV and a ~130 KB XLSX of 900,000 rows."""

from __future__ import annotations

import io
import zipfile

import openpyxl

MILLION = 1_000_000
XLSX_ROWS = 900_000


def million_row_csv(rows: int = MILLION) -> bytes:
    """A scripts CSV of one-cell rows (2 MB)."""
    return ("reply\n" + "a\n" * rows).encode()


def row_bomb_xlsx(rows: int = XLSX_ROWS, sheet: str = "scripts") -> bytes:
    """A workbook whose sheet repeats one identical row ``rows`` times: it deflates to about 130 KB."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["reply"])
    ws.append(["a"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                head, rest = text.split("<sheetData>")
                _, tail = rest.split("</sheetData>")
                head = head.replace('<dimension ref="A1:A2" />', f'<dimension ref="A1:A{rows + 1}" />')
                row = '<row><c t="inlineStr"><is><t>a</t></is></c></row>'
                body = '<row><c t="inlineStr"><is><t>reply</t></is></c></row>' + row * rows
                data = (head + "<sheetData>" + body + "</sheetData>" + tail).encode()
            z.writestr(info.filename, data)
    return out.getvalue()
