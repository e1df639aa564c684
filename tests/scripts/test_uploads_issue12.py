"""Issue 12, merchant uploads: a missing column is reported once while the file's other problems still are;
versions carry a name and a diff against the active one; the ``关键词/同义词|回复`` rules format imports."""

from __future__ import annotations

from pathlib import Path

from livecs.scripts.validate import check_bytes
from livecs.scripts.versions import LibraryRegistry, diff_libraries

from .conftest import APPAREL, yaml_files

LIBRARY = b'library: {name: "\\u6696\\u9633", version: "1"}\n'


def test_missing_column_is_reported_once_and_other_problems_still_show() -> None:
    csv = "id,keywords,reply\ns1,多少钱,{宝宝/亲}多少\ns2,包邮,{prise}包邮\ns3,尺码,好的{\n".encode()
    result = check_bytes([("library.yaml", LIBRARY), ("scripts.csv", csv)])
    assert result.library is None
    missing = [i for i in result.issues if i.code == "missing_column"]
    assert len(missing) == 1 and missing[0].zh == "缺少列 intents" and missing[0].location.line == 1
    assert not any(i.code == "invalid.missing" for i in result.issues)  # not once per row
    codes = {i.code for i in result.issues}
    assert "lint.unknown_variable" in codes  # {prise} on line 3 is still reported
    assert any(i.location.line == 4 and "模板" in i.zh for i in result.issues)  # the unclosed { on line 4


def test_rules_lines_import_with_variants() -> None:
    rules = (
        "# 其他场控工具的规则\n"
        "多少钱/价格/什么价|{宝宝/亲}，现在{price}元\n"
        "包邮/运费｜全国包邮，{宝宝/姐妹}放心拍\n"
        "尺码/什么码|报身高体重，帮你挑码\n"
    ).encode()
    result = check_bytes([("library.yaml", LIBRARY), ("rules.txt", rules)])
    assert result.library is not None, [i.format() for i in result.issues]
    assert result.library.library.name == "暖阳"  # the other file names the library
    by_id = {s.id: s for s in result.library.scripts}
    assert by_id["rule2"].keywords == ["多少钱", "价格", "什么价"]
    assert by_id["rule2"].reply == "{宝宝/亲}，现在{price}元"
    assert [i.value for i in by_id["rule2"].intents] == ["price_promo"]
    assert [i.value for i in by_id["rule3"].intents] == ["logistics"]
    assert [i.value for i in by_id["rule4"].intents] == ["product"]
    assert any(i.code == "rules_intent_guessed" for i in result.issues)
    bad = check_bytes([("rules.txt", "多少钱 现在99元\n".encode())])
    assert bad.library is None and any(i.code == "rule_format" and i.location.line == 1 for i in bad.issues)


def test_versions_carry_a_name_and_a_diff_against_the_active_one(tmp_path: Path) -> None:
    reg = LibraryRegistry(tmp_path / "lib.db", shop="demo")
    files = [(p.name, p.read_bytes()) for p in yaml_files(APPAREL)]
    first = reg.upload(files, uploaded_by="shop", name="六月大促")
    assert first.version_id is not None
    reg.activate(first.version_id)
    catalogue = next(c for n, c in files if n == "catalogue.yaml").decode()
    changed = catalogue.replace(
        "price: 129, original_price: 199, stock: 320", "price: 119, original_price: 199, stock: 300"
    )
    assert changed != catalogue
    library = next(c for n, c in files if n == "library.yaml").decode()
    library = library.replace("  - id: restock\n", "  - id: restock_soon\n")
    second = reg.upload(
        [
            (n, changed.encode() if n == "catalogue.yaml" else library.encode() if n == "library.yaml" else c)
            for n, c in files
        ]
    )
    assert second.version_id is not None
    names = {v.version_id: v.name for v in reg.versions()}
    assert names[first.version_id] == "六月大促"
    assert names[second.version_id] == "暖阳女装旗舰店 2025.06.1"  # default: the library's name and version
    diff = reg.diff(second.version_id)
    assert diff["scripts"]["added"] == ["restock_soon"] and diff["scripts"]["removed"] == ["restock"]
    assert diff["products"]["changed"] == ["NY-D01 价格 129→119 库存 320→300"]
    assert diff["coupons"] == {"added": [], "removed": [], "changed": []}
    assert diff_libraries(None, reg.library(first.version_id))["products"]["added"][:2] == [
        "NY-A01",
        "NY-A02",
    ]
