"""The one home of the "no real comment text in the repository" check: normalising, the real texts, the lines.

The real comments beside the repository (``../shared/data/real`` or ``$LIVECS_SHARED/data/real``) have no
licence, so none of them may be a line of ours. This module holds what :mod:`tests.test_no_real_text` needs:

* :func:`normalise` — the comparison form (NFKC, lower case, whitespace, punctuation and symbols removed);
* :func:`load_real_texts` — every real comment and review in that form, once (about a second);
* :func:`repository_lines` — every comment-like line of the repository's text files, with where it is;
* :func:`exemption` — why a line is not held to the rule (too short, a repeated unit, a bare word, a name).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: lines of fewer normalised characters are language (有S码吗, 几号链接), not copying
MIN_CHARS = 6
#: the real files and the column holding their text: the selling rooms, the Bilibili room, the two review sets
REAL_FILES = {
    "commerce_rooms_dev.csv": "text",
    "bilibili_room11365_danmaku.csv": "text",
    "online_shopping_10_cats.csv": "review",
    "waimai_10k.csv": "review",
}
#: fields that hold names (shop, product, coupon names and product aliases): a viewer typing a bare product
#: name (ace5pro) is naming it, not being copied
NAME_FIELDS = frozenset({"name", "aliases"})
#: file kinds read, by suffix; the XLSX and CSV exports of a library are checked through the YAML they are
#: tested to match (the CSV is read anyway, it is cheap), binary fixtures through the code that writes them
TEXT_SUFFIXES = frozenset({".yaml", ".yml", ".csv", ".json", ".jsonl", ".txt", ".py", ".js", ".html", ".md"})
_SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"})
#: quoted examples in prose (Markdown, comment lines of the training files): 「…」, "…", `…`
_QUOTED = re.compile(r"「([^」\n]+)」|\"([^\"\n]+)\"|`([^`\n]+)`|“([^”\n]+)”")
#: string literals of JavaScript and HTML (good enough for an equality check: no line is missed for it)
_JS_STRING = re.compile(
    r"\"([^\"\n\\]*(?:\\.[^\"\n\\]*)*)\"|'([^'\n\\]*(?:\\.[^'\n\\]*)*)'|`([^`\\]*(?:\\.[^`\\]*)*)`"
)
_LATIN_WORD = re.compile(r"[a-z]+")


@cache
def _dropped() -> dict[int, None]:
    """``str.translate`` table deleting whitespace, punctuation (P), symbols (S) and separators (Z)."""
    return dict.fromkeys(
        cp
        for cp in range(sys.maxunicode + 1)
        if chr(cp).isspace() or unicodedata.category(chr(cp))[0] in "PSZ"
    )


def normalise(text: str) -> str:
    """The comparison form: NFKC, lower case, without whitespace, punctuation or symbols."""
    return unicodedata.normalize("NFKC", text).lower().translate(_dropped())


def exemption(text: str, normalised: str) -> str | None:
    """Why ``text`` (normalised ``normalised``) is not held to the rule, or None when it is."""
    if len(normalised) < MIN_CHARS:
        return "short"
    for size in range(1, MIN_CHARS):
        if len(normalised) % size == 0 and normalised == normalised[:size] * (len(normalised) // size):
            return "repeated unit"  # 哈哈哈哈哈哈, 666666, 拍了拍了拍了: the unit is the content
    if _LATIN_WORD.fullmatch(normalised) and not any(ch.isspace() for ch in text.strip()):
        return "one latin word"  # surprise, noooooo: a word of the language
    return None


def missing_real_files(real_dir: Path) -> list[Path]:
    return [real_dir / name for name in REAL_FILES if not (real_dir / name).exists()]


class RealTexts(dict[str, str]):
    """Normalised real text → the real file it is in; its repr never shows the text (a failing test prints
    its fixtures' values, and the text must not reach a log either)."""

    def __repr__(self) -> str:
        return f"<{len(self)} normalised real texts>"


def load_real_texts(real_dir: Path) -> RealTexts:
    """Every real comment and review of :data:`REAL_FILES` of :data:`MIN_CHARS` or more normalised characters,
    normalised, mapped to the file it is in (the first one)."""
    texts = RealTexts()
    for name, column in REAL_FILES.items():
        with (real_dir / name).open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            index = next(reader).index(column)
            for row in reader:
                if index < len(row) and len(key := normalise(row[index])) >= MIN_CHARS:
                    texts.setdefault(key, name)
    return texts


@dataclass(frozen=True)
class Line:
    """One comment-like line of a repository file; ``where`` says where without quoting it."""

    path: str
    where: str
    text: str
    is_name: bool = False


def repository_files(root: Path = ROOT) -> list[Path]:
    """The text files of the repository: tracked and not ignored (``git ls-files``), else the tree."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        paths = [root / p for p in sorted(set(out.split("\0"))) if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in sorted(root.rglob("*")) if not _SKIP_DIRS & set(p.relative_to(root).parts)]
    return [p for p in paths if p.suffix in TEXT_SUFFIXES and p.is_file()]


def repository_lines(root: Path = ROOT) -> Iterator[Line]:
    for path in repository_files(root):
        yield from file_lines(path, path.relative_to(root).as_posix())


def file_lines(path: Path, rel: str) -> Iterator[Line]:
    """The comment-like lines of one file, by kind; multi-line strings give one line per line."""
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix
    if suffix in (".yaml", ".yml"):
        fields = _yaml_fields(text)
    elif suffix == ".csv":
        fields = _csv_fields(text)
    elif suffix in (".json", ".jsonl"):
        fields = _json_fields(text, suffix == ".jsonl")
    elif suffix == ".txt":
        fields = _txt_fields(text)
    elif suffix == ".py":
        fields = _python_fields(text)
    elif suffix == ".md":
        fields = _quoted_fields(text)
    else:
        fields = _js_fields(text)
    for where, value, is_name in fields:
        for part in value.splitlines():
            if part.strip():
                yield Line(rel, where, part, is_name)


Field = tuple[str, str, bool]  # (where, text, is_name)


def _yaml_fields(text: str) -> Iterator[Field]:
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):  # as the project reads them (libyaml
        # rejects a line of lexicon.yaml that the pure-Python loader reads)
        if document is not None:
            yield from _yaml_node(document, "")


def _yaml_node(node: yaml.Node, key: str) -> Iterator[Field]:
    if isinstance(node, yaml.ScalarNode):
        if isinstance(node.value, str):
            yield f"line {node.start_mark.line + 1} ({key or 'value'})", node.value, key in NAME_FIELDS
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _yaml_node(item, key)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield from _yaml_node(k, "key")
            yield from _yaml_node(v, k.value if isinstance(k, yaml.ScalarNode) else key)


def _csv_fields(text: str) -> Iterator[Field]:
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    for number, row in enumerate(rows, start=2):
        for column, cell in zip(header, row, strict=False):
            for value in cell.split("|"):
                yield f"row {number} ({column})", value, column in NAME_FIELDS


def _json_fields(text: str, lines: bool) -> Iterator[Field]:
    records = (
        [(n, json.loads(raw)) for n, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
        if lines
        else [(1, json.loads(text))]
    )
    for number, record in records:
        yield from _json_value(record, f"line {number}", "")


def _json_value(value: object, where: str, key: str) -> Iterator[Field]:
    if isinstance(value, str):
        yield f"{where} ({key or 'value'})", value, key in NAME_FIELDS
    elif isinstance(value, list):
        for item in value:
            yield from _json_value(item, where, key)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _json_value(v, where, str(k))


def _txt_fields(text: str) -> Iterator[Field]:
    """Training files: every line is a comment, except ``#`` lines, whose quoted examples are checked."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            for quoted in _QUOTED.finditer(line):
                yield f"line {number} (quoted)", next(g for g in quoted.groups() if g), False
        else:
            yield f"line {number}", line, False


def _python_fields(text: str) -> Iterator[Field]:
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield f"line {node.lineno}", node.value, False


def _quoted_fields(text: str) -> Iterator[Field]:
    """Prose: only its quoted examples."""
    for number, line in enumerate(text.splitlines(), start=1):
        for quoted in _QUOTED.finditer(line):
            yield f"line {number} (quoted)", next(g for g in quoted.groups() if g), False


def _js_fields(text: str) -> Iterator[Field]:
    number, counted = 1, 0
    for match in _JS_STRING.finditer(text):
        number, counted = number + text.count("\n", counted, match.start()), match.start()
        yield f"line {number}", next((g for g in match.groups() if g is not None), ""), False
