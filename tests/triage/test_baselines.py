"""Without the benchmark-only packages (jieba, snownlp: requirements-dev.txt) the baselines are skipped with a
note saying what to install; nothing fails and no made-up baseline figure is printed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from livecs.triage import baselines, bench, evaluate
from livecs.triage.engine import TriageEngine
from tests.triage.test_evaluate import FIXTURE


def test_missing_names_only_what_cannot_be_imported() -> None:
    assert baselines.missing(["orjson", "no_such_package_livecs"]) == ["no_such_package_livecs"]
    note = baselines.skipped("naive baseline", ["jieba", "snownlp"])
    assert "jieba and snownlp" in note and "requirements-dev.txt" in note


def test_bench_without_jieba_skips_only_the_naive_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jieba", None)  # as if not installed: importing it raises
    with pytest.raises(ImportError):
        bench.naive_processor()
    result = bench.run_bench(n=200, n_unique=50, n_naive=5, real_rooms=False)
    assert result["realistic_per_s"] > 0 and result["unique_per_s"] > 0
    assert result["naive_per_s"] is None and result["realistic_vs_naive"] is None
    assert "jieba" in result["naive_skipped"] and "snownlp" not in result["naive_skipped"]
    text = bench.format_bench(result)
    assert "naive baseline    (naive baseline skipped: jieba not installed" in text
    assert "pip install -r requirements-dev.txt" in text
    assert "None" not in text and "ratios" not in text


def test_eval_without_snownlp_keeps_the_keyword_baseline_and_says_what_to_install(
    tmp_path: Path, engine: TriageEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "snownlp", None)
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FIXTURE) + "\n", encoding="utf-8")
    result = evaluate.run_eval(path, engine=engine)
    assert result["intent_macro_f1"] == 1.0
    assert "baseline_snownlp_sentiment_accuracy" not in result
    assert 0.0 < result["baseline_keyword_intent_macro_f1"] <= 1.0
    assert "snownlp not installed" in result["baseline_skipped"]
    assert "requirements-dev.txt" in evaluate.format_report(result)

    reviews = tmp_path / "reviews.csv"
    rows = [f"1,质量很好，第{i}次回购" for i in range(30)] + [f"0,太差了，用了{i}天就坏了" for i in range(30)]
    reviews.write_text("label,review\n" + "\n".join(rows) + "\n", encoding="utf-8")
    scored = evaluate.run_eval(reviews, engine=engine)
    assert scored["n"] > 0 and scored["baseline_snownlp_binary_accuracy"] is None
    report = evaluate.format_report(scored)
    assert "requirements-dev.txt" in report and "None" not in report
