"""The README's layout tree and the package agree: every module is listed, and every listed path exists."""

from __future__ import annotations

import re

from livecs.paths import ROOT

SKIPPED = ("__init__.py", "_pb2.py", "_pb2.pyi")


def _layout_paths() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Layout", 1)[1]
    block = re.search(r"```\n(livecs/.*?)```", section, re.S)
    assert block, "the README's Layout section has no tree"
    paths: set[str] = set()
    stack: list[str] = []
    for line in block.group(1).splitlines():
        name = line.strip().split()[0]
        depth = (len(line) - len(line.lstrip())) // 2
        del stack[depth:]
        path = "".join(stack) + name
        paths.add(path.rstrip("/"))
        if name.endswith("/"):
            stack.append(name)
    return paths


def test_every_module_is_in_the_layout() -> None:
    listed = _layout_paths()
    modules = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "livecs").rglob("*.py")
        if "__pycache__" not in p.parts and not p.name.endswith(SKIPPED)
    }
    assert sorted(modules - listed) == []


def test_every_listed_path_exists() -> None:
    missing = sorted(p for p in _layout_paths() if not (ROOT / p).exists())
    assert missing == []
