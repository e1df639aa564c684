"""The eval command's scoring on tiny fixture files: real numbers for labelled JSONL and review CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livecs.triage import evaluate
from livecs.triage.engine import TriageEngine
from livecs.triage.examples import review_split

FIXTURE = [
    {"text": "有M码吗", "intent": "product", "sentiment": "neu", "emotion": ""},
    {"text": "这件多少钱", "intent": "price_promo", "sentiment": "neu", "emotion": ""},
    {"text": "骗子 我要投诉", "intent": "complaint", "sentiment": "neg", "emotion": "angry"},
    {"text": "加微信 abc12345", "intent": "spam", "sentiment": "neu", "emotion": ""},
    {"text": "主播好美", "intent": "chitchat", "sentiment": "pos", "emotion": ""},
    {"text": "这单什么时候发货", "intent": "logistics", "sentiment": "neu", "emotion": ""},
]


def test_prf_and_macro_f1() -> None:
    gold = ["a", "a", "b", "b"]
    pred = ["a", "b", "b", "b"]
    score = evaluate.prf(gold, pred, "b")
    assert score.precision == pytest.approx(2 / 3) and score.recall == 1.0 and score.support == 2
    assert evaluate.keyword_intent("加微信") == "spam" and evaluate.keyword_intent("你好") == "chitchat"


def test_eval_on_labelled_fixture(
    tmp_path: Path, engine: TriageEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in FIXTURE) + "\n", encoding="utf-8")
    monkeypatch.setattr(evaluate, "snownlp_score", lambda text: 0.5)  # keep the unit test fast
    result = evaluate.run_eval(path, engine=engine)
    assert result["n"] == 6
    assert result["intent_macro_f1"] == 1.0 and result["intent_accuracy"] == 1.0
    assert result["sentiment_accuracy"] == 1.0 and result["emotion_accuracy"] == 1.0
    assert (
        result["spam_precision"] == 1.0 and result["spam_recall"] == 1.0 and result["complaint_recall"] == 1.0
    )
    assert result["baseline_snownlp_sentiment_accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert 0.0 < result["baseline_keyword_intent_macro_f1"] <= 1.0
    assert result["confusion"]["product"]["product"] == 1
    assert set(result["per_intent"]) >= {"product", "spam"}
    assert "intent macro-F1" in evaluate.format_report(result)


def test_eval_on_review_csv_scores_only_held_out_rows(
    tmp_path: Path, engine: TriageEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviews = [("1", f"质量很好，非常满意，第{i}次回购") for i in range(40)]
    reviews += [("0", f"太差了，用了{i}天就坏了，退货") for i in range(40)]
    path = tmp_path / "reviews.csv"
    path.write_text(
        "label,review\n" + "\n".join(f"{lab},{txt}" for lab, txt in reviews) + "\n", encoding="utf-8"
    )
    monkeypatch.setattr(evaluate, "snownlp_score", lambda text: 0.9 if "满意" in text else 0.1)
    held_out = [t for _, t in reviews if review_split(t) == "eval"]
    result = evaluate.run_eval(path, engine=engine)
    assert result["n"] == len(held_out) > 0
    assert result["binary_sentiment_accuracy"] == 1.0
    assert result["baseline_snownlp_binary_accuracy"] == 1.0
    limited = evaluate.run_eval(path, engine=engine, limit=3, seed=1)
    assert limited["n"] == 3
