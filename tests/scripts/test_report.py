"""The one-line bilingual form of a finding."""

from __future__ import annotations

from livecs.scripts.report import Issue, Location, has_errors


def test_format_yaml_line() -> None:
    issue = Issue(
        "error",
        "lint.unknown_variable",
        "未知变量 {prise}",
        "unknown variable {prise}",
        Location("library.yaml", line=12, column="reply"),
    )
    assert issue.format() == (
        "library.yaml: 错误 error: 第12行 reply: 未知变量 {prise} / line 12 reply: unknown variable {prise}"
    )
    assert str(issue) == issue.format()


def test_format_sheet_and_column_letter() -> None:
    issue = Issue("warning", "x", "中", "en", Location("a.xlsx", "scripts", 3, "reply", "G"))
    assert issue.format() == "a.xlsx [scripts]: 警告 warning: 第3行 reply (G): 中 / line 3 reply (G): en"
    bare = Issue("error", "x", "中", "en", Location("a.xlsx", "products", 4, "", "D"))
    assert "第4行 D列: 中" in bare.format()
    assert Issue("error", "x", "中", "en").format() == "错误 error: 中 / en"


def test_to_dict_and_has_errors() -> None:
    warn = Issue("warning", "w", "中", "en", Location("f", line=1))
    err = Issue("error", "e", "中", "en")
    assert warn.to_dict()["line"] == 1 and warn.to_dict()["text"] == warn.format()
    assert not has_errors([warn]) and has_errors([warn, err])
