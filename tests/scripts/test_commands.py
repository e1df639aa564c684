"""CLI: scripts check / import / export / bench and eval-scripts, through the same register() the CLI uses."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from livecs.scripts import commands

from .conftest import APPAREL


def run(argv: list[str]) -> int:
    return commands.main(argv)


def test_register_on_a_parent_parser() -> None:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["scripts", "check", "x.yaml"])
    assert args.func is commands.cmd_check
    assert parser.parse_args(["eval-scripts", "p.jsonl", "--json"]).func is commands.cmd_eval


def test_check_ok_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scripts", "check", str(APPAREL)]) == 0
    assert "0 errors" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        'library: {name: x}\nscripts:\n  - {id: a, intents: [product], reply: "{prise}", on_air: "x"}\n',
        encoding="utf-8",
    )
    assert run(["scripts", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "第3行 reply: 未知变量 {prise}" in out and "line 3 reply: unknown variable {prise}" in out


def test_import_and_export(tmp_path: Path) -> None:
    out = tmp_path / "lib.yaml"
    assert run(["scripts", "import", str(APPAREL / "apparel.xlsx"), "--out", str(out)]) == 0
    assert (
        run(
            [
                "scripts",
                "export",
                str(out),
                "--csv-dir",
                str(tmp_path / "csv"),
                "--xlsx",
                str(tmp_path / "a.xlsx"),
            ]
        )
        == 0
    )
    again = tmp_path / "again.yaml"
    assert (
        run(["scripts", "import", *map(str, sorted((tmp_path / "csv").glob("*.csv"))), "--out", str(again)])
        == 0
    )
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_eval_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["eval-scripts", str(APPAREL / "match_pairs.jsonl"), "--triage", "keyword", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"top1", "top3", "n"}
    assert result["n"] >= 150 and result["top1"] >= 0.9 and result["top3"] >= 0.97
    assert "keyword fallback" in result["triage"]
