"""Every format round-trips to the same model; spreadsheets are read safely (formulas, macros, encodings)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl

from livecs.scripts.library import Library
from livecs.scripts.loaders import dump_yaml, library_tables, write_csv_dir, write_xlsx
from livecs.scripts.validate import load_bytes, load_files

from .conftest import APPAREL, SKINCARE, yaml_files

REGENERATE = (
    "regenerate with: python run.py scripts export scripts_library/apparel "
    "--csv-dir scripts_library/apparel/csv --xlsx scripts_library/apparel/apparel.xlsx"
)


def _same(a: Library, b: Library) -> None:
    assert a.model_dump() == b.model_dump(), REGENERATE


def test_checked_in_xlsx_and_csv_are_the_apparel_library(apparel_library: Library) -> None:
    xlsx = load_files([APPAREL / "apparel.xlsx"])
    assert xlsx.library is not None, [i.format() for i in xlsx.issues]
    _same(apparel_library, xlsx.library)
    csv = load_files(sorted((APPAREL / "csv").glob("*.csv")))
    assert csv.library is not None, [i.format() for i in csv.issues]
    _same(apparel_library, csv.library)


def test_round_trip_every_format(tmp_path: Path, skincare_library: Library) -> None:
    yaml_path = tmp_path / "lib.yaml"
    yaml_path.write_text(dump_yaml(skincare_library), encoding="utf-8")
    _same(skincare_library, load_files([yaml_path]).library)
    csv_files = write_csv_dir(skincare_library, tmp_path / "csv")
    _same(skincare_library, load_files(csv_files).library)
    xlsx = write_xlsx(skincare_library, tmp_path / "lib.xlsx")
    _same(skincare_library, load_files([xlsx]).library)


def test_split_files_merge_like_one(tmp_path: Path) -> None:
    merged = "\n".join(p.read_text(encoding="utf-8") for p in yaml_files(SKINCARE))
    one = tmp_path / "all.yaml"
    one.write_text(merged, encoding="utf-8")
    assert load_files([one]).library.model_dump() == load_files(yaml_files(SKINCARE)).library.model_dump()


def _xlsx_bytes(library: Library, mutate) -> bytes:  # type: ignore[no-untyped-def]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for section, rows in library_tables(library).items():
        ws = wb.create_sheet(section)
        for row in rows:
            ws.append(row)
    mutate(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_formula_cell_is_an_error_and_never_evaluated(apparel_library: Library) -> None:
    def put_formula(wb: openpyxl.Workbook) -> None:
        wb["products"]["D2"] = "=100+29"

    result = load_bytes([("shop.xlsx", _xlsx_bytes(apparel_library, put_formula))])
    assert result.library is None
    formula = [i for i in result.issues if i.code == "xlsx_formula"]
    assert len(formula) == 1
    loc = formula[0].location
    assert (loc.file, loc.sheet, loc.line, loc.column_letter) == ("shop.xlsx", "products", 2, "D")
    assert "=100+29" in formula[0].format()


def test_text_starting_with_equals_is_written_as_text(tmp_path: Path, apparel_library: Library) -> None:
    scripts = list(apparel_library.scripts)
    scripts[0] = scripts[0].model_copy(update={"reply": "=不是公式"})
    lib = apparel_library.model_copy(update={"scripts": scripts})
    loaded = load_files([write_xlsx(lib, tmp_path / "eq.xlsx")])
    assert loaded.library is not None
    assert loaded.library.scripts[0].reply == "=不是公式"


def test_macro_workbook_refused(apparel_library: Library) -> None:
    raw = _xlsx_bytes(apparel_library, lambda wb: None)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 16)
    result = load_bytes([("shop.xlsx", buf.getvalue())])
    assert [i.code for i in result.issues if i.severity == "error"] == ["xlsx_macro"]
    assert load_bytes([("shop.xlsm", raw)]).issues[0].code == "format_refused"


def test_csv_gb18030_and_chinese_headers() -> None:
    text = "编号,意图,关键词,回复,口播\nbaoyou,物流,包邮|运费,全场包邮,包邮\n"
    info = "key,value\nname,测试店\n"
    result = load_bytes([("话术.csv", text.encode("gb18030")), ("library.csv", info.encode("utf-8"))])
    assert result.library is not None, [i.format() for i in result.issues]
    script = result.library.scripts[0]
    assert script.id == "baoyou"
    assert script.keywords == ["包邮", "运费"]


def test_exclude_words_column() -> None:
    """排除词 (issue 12): a spreadsheet column like the keywords one."""
    text = "编号,意图,关键词,排除词,回复\nzengpin,价格优惠,赠品|送什么,手表|线下,送双肩包一个\n"
    info = "key,value\nname,测试店\n"
    result = load_bytes([("话术.csv", text.encode("utf-8")), ("library.csv", info.encode("utf-8"))])
    assert result.library is not None, [i.format() for i in result.issues]
    assert result.library.scripts[0].exclude == ["手表", "线下"]


def test_unknown_column_and_sheet_reported(apparel_library: Library) -> None:
    def rename(wb: openpyxl.Workbook) -> None:
        wb["scripts"]["G1"] = "replly"
        wb.create_sheet("备忘").append(["随便写写"])

    result = load_bytes([("shop.xlsx", _xlsx_bytes(apparel_library, rename))])
    codes = {i.code for i in result.issues}
    assert "unknown_column" in codes
    assert "unknown_sheet" in codes


def test_formula_reported_once_with_column(apparel_library: Library) -> None:
    def put_formula(wb: openpyxl.Workbook) -> None:
        wb["products"]["D3"] = "=SUM(1,2)"

    result = load_bytes([("shop.xlsx", _xlsx_bytes(apparel_library, put_formula))])
    row3 = [i for i in result.issues if i.location.sheet == "products" and i.location.line == 3]
    assert [i.code for i in row3] == ["xlsx_formula"]  # no second "price missing" for the same cell
    assert "price (D)" in row3[0].format()


# --- bounded uploads (issue 11) ------------------------------------------------------------------------
UPLOAD_BUDGET_S = 2.0
UPLOAD_BUDGET_BYTES = 100 * 1024 * 1024


def _codes(result: object) -> list[str]:
    return [i.code for i in result.issues]  # type: ignore[attr-defined]


def _measured(files: list[tuple[str, bytes]]) -> tuple[list[str], float, int]:
    """Codes of an upload's check, its wall time, and its peak traced memory (a second run)."""
    import time
    import tracemalloc

    from livecs.scripts.validate import check_bytes

    started = time.perf_counter()
    codes = [i.code for i in check_bytes(files).issues]
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        check_bytes(files)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return codes, elapsed, peak


def test_a_million_row_csv_is_refused_while_streaming() -> None:
    """Regression: 1,000,000 one-cell rows (2 MB) took 87 s and 1.47 GB: rows were counted after parsing."""
    from .uploads import million_row_csv

    codes, elapsed, peak = _measured([("scripts.csv", million_row_csv())])
    assert codes[0] == "too_many_rows"
    assert elapsed < UPLOAD_BUDGET_S and peak < UPLOAD_BUDGET_BYTES, (elapsed, peak)


def test_a_900k_row_xlsx_is_refused_while_streaming() -> None:
    """Regression: a 130 KB workbook of 900,000 rows took 164 s and 1.3 GB."""
    from .uploads import row_bomb_xlsx

    data = row_bomb_xlsx()
    assert len(data) < 200_000
    codes, elapsed, peak = _measured([("shop.xlsx", data)])
    assert codes[0] == "too_many_rows"
    assert elapsed < UPLOAD_BUDGET_S and peak < UPLOAD_BUDGET_BYTES, (elapsed, peak)


def test_blank_rows_wide_rows_and_cell_totals_stop_reading() -> None:
    from livecs.scripts.settings import ScriptsSettings

    cfg = ScriptsSettings()
    blank = ("reply\n" + "\n" * 2_000_000).encode()  # 2 MB of blank rows: bounded too
    codes, elapsed, _ = _measured([("scripts.csv", blank)])
    assert codes[0] == "too_many_rows" and elapsed < UPLOAD_BUDGET_S
    wide = ("reply," + ",".join(f"c{i}" for i in range(100)) + "\na\n").encode()
    assert _codes(load_bytes([("scripts.csv", wide)], cfg))[0] == "too_many_columns"
    wide_row = ("reply\n" + "a" + ",b" * 100 + "\n").encode()
    assert _codes(load_bytes([("scripts.csv", wide_row)], cfg))[0] == "too_many_columns"
    cfg.limits.max_cells = 10
    many = ("reply,keywords\n" + "a,b\n" * 6).encode()
    assert "too_many_cells" in _codes(load_bytes([("scripts.csv", many)], cfg))


def test_xlsx_limits_while_streaming(apparel_library: Library) -> None:
    from livecs.scripts.settings import ScriptsSettings

    cfg = ScriptsSettings()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "scripts"
    ws.append(["reply"])
    ws.cell(row=2, column=500, value="far away")  # a cell beyond the column limit
    buf = io.BytesIO()
    wb.save(buf)
    assert _codes(load_bytes([("wide.xlsx", buf.getvalue())], cfg)) == ["too_many_columns"]
    cfg.limits.max_xlsx_elements = 50
    assert "xlsx_too_complex" in _codes(
        load_bytes([("shop.xlsx", _xlsx_bytes(apparel_library, lambda wb: None))], cfg)
    )
    # a DTD (entity tricks) is refused
    buf = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_xlsx_bytes(apparel_library, lambda wb: None))) as src,
        zipfile.ZipFile(buf, "w") as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
                data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + body
            dst.writestr(info.filename, data)
    assert _codes(load_bytes([("dtd.xlsx", buf.getvalue())])) == ["xlsx_corrupt"]


def test_yaml_nodes_are_counted_before_loading() -> None:
    from livecs.scripts.settings import ScriptsSettings

    flat = ("scripts:\n- id: x\n  keywords:\n" + "  - a\n" * 800_000).encode()  # 4.8 MB, 800,000 nodes
    codes, elapsed, peak = _measured([("shop.yaml", flat)])
    assert codes == ["yaml_too_large"]
    assert elapsed < UPLOAD_BUDGET_S and peak < UPLOAD_BUDGET_BYTES, (elapsed, peak)
    cfg = ScriptsSettings()
    cfg.limits.max_yaml_nodes = 5
    assert _codes(load_bytes([("shop.yaml", b"scripts:\n- {id: a, reply: b}\n")], cfg)) == ["yaml_too_large"]
