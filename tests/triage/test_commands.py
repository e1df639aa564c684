"""The triage commands as the top-level CLI registers them: eval/train/bench triage parse and run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from livecs.triage import commands, evaluate


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    commands.register(p.add_subparsers(dest="command"))
    return p


def test_register_adds_eval_train_bench() -> None:
    p = parser()
    assert p.parse_args(["eval", "x.jsonl", "--json", "--limit", "5"]).func is commands.cmd_eval
    assert p.parse_args(["train", "--no-reviews"]).func is commands.cmd_train
    assert p.parse_args(["bench", "triage", "--n", "10"]).func is commands.cmd_bench_triage


def test_eval_json_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(
        '{"text": "多少钱", "intent": "price_promo", "sentiment": "neu", "emotion": ""}\n', "utf-8"
    )
    monkeypatch.setattr(evaluate, "snownlp_score", lambda text: 0.5)
    args = parser().parse_args(["eval", str(path), "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "intent_macro_f1", "sentiment_accuracy", "emotion_accuracy", "spam_precision", "spam_recall",
        "complaint_recall", "per_intent", "baseline_snownlp_sentiment_accuracy",
        "baseline_keyword_intent_macro_f1", "n",
    ):  # fmt: skip
        assert key in out
    assert out["n"] == 1 and out["intent_macro_f1"] == 1.0


def test_eval_missing_file_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["eval", "/nonexistent/file.jsonl"])
    assert args.func(args) == 2
