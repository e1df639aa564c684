"""Validation and lint findings: where (file, sheet, line/row, column) and what, in Chinese and English.

``Issue.format()`` gives the one-line form merchants see::

    apparel.xlsx [scripts] 第12行 reply: 未知变量 {prise} / line 12 reply: unknown variable {prise}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

IssueSeverity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: ``line`` is the YAML line or the spreadsheet/CSV row (1-based, header = row 1)."""

    file: str = ""
    sheet: str = ""
    line: int | None = None
    column: str = ""
    column_letter: str = ""

    def with_column(self, column: str, column_letter: str = "") -> Location:
        return Location(self.file, self.sheet, self.line, column, column_letter)


@dataclass(frozen=True, slots=True)
class Issue:
    """One error or warning. ``code`` is stable (tests and the console key on it)."""

    severity: IssueSeverity
    code: str
    zh: str
    en: str
    location: Location = field(default_factory=Location)
    item_id: str = ""

    def format(self) -> str:
        loc = self.location
        head = loc.file
        if loc.sheet:
            head += f" [{loc.sheet}]"
        col = loc.column
        if col and loc.column_letter:
            col = f"{col} ({loc.column_letter})"
        elif loc.column_letter:
            col = f"{loc.column_letter}列"
        zh_pos = f"第{loc.line}行" if loc.line is not None else ""
        en_pos = f"line {loc.line}" if loc.line is not None else ""
        zh_parts = " ".join(p for p in (zh_pos, f"{col}:" if col else "") if p)
        en_parts = " ".join(p for p in (en_pos, f"{col}:" if col else "") if p)
        tag = "错误 error" if self.severity == "error" else "警告 warning"
        zh = f"{zh_parts} {self.zh}".strip()
        en = f"{en_parts} {self.en}".strip()
        return f"{head}: {tag}: {zh} / {en}" if head else f"{tag}: {zh} / {en}"

    def __str__(self) -> str:
        return self.format()

    def to_dict(self) -> dict[str, object]:
        loc = self.location
        return {
            "severity": self.severity,
            "code": self.code,
            "zh": self.zh,
            "en": self.en,
            "file": loc.file,
            "sheet": loc.sheet,
            "line": loc.line,
            "column": loc.column,
            "item_id": self.item_id,
            "text": self.format(),
        }


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity == "error" for i in issues)
