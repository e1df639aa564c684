"""``python run.py eval FILE``: score the engine on a labelled file, side by side with two baselines.

- Taxonomy JSON Lines (``text,intent,sentiment,emotion``): per-intent precision/recall/F1, macro-F1,
  sentiment accuracy, emotion accuracy (on gold-negative lines), spam precision/recall, complaint recall,
  confusion matrix; baselines: snownlp sentiment thresholded at 0.4/0.6 and a keyword-only intent rule set.
- Review CSV (``label,review``): binary sentiment accuracy of livecs and of snownlp (≥ 0.5 = positive), on the
  rows held out from training by text hash (``--limit`` samples from those only).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livecs.models import Comment
from livecs.triage import baselines as baselines_mod
from livecs.triage.engine import TriageEngine
from livecs.triage.examples import LabelledExample, dev_split, iter_reviews, load_jsonl, review_split
from livecs.triage.model import INTENT_LABELS

SNOWNLP_NEG_BELOW = 0.4  # baseline: snownlp score below this is negative …
SNOWNLP_POS_ABOVE = 0.6  # … above this positive, neutral in between
BINARY_POSITIVE_FROM = 0.5  # a sentiment score at or above this counts as positive on reviews
EVAL_TIME_GAP_S = 10_000.0  # eval lines are spaced this far apart so no flood/cluster window links them

# The keyword-only baseline: first matching rule wins (a naive rule set, as a merchant would write it).
KEYWORD_BASELINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("spam", ("加v", "加微", "微信", "vx", "qq", "主页", "私我", "http", "www", "兼职")),
    ("complaint", ("骗", "投诉", "12315", "举报", "差评", "垃圾", "假货", "黑店")),
    ("after_sales", ("退货", "退款", "换货", "售后", "坏了", "质量", "保修", "破")),
    ("payment", ("付款", "支付", "花呗", "分期", "信用卡", "发票", "扣款")),
    ("logistics", ("发货", "快递", "物流", "包邮", "顺丰", "几天到", "运费")),
    ("order", ("下单", "订单", "地址", "拍错", "取消", "备注", "合并")),
    ("price_promo", ("多少钱", "价格", "优惠", "券", "便宜", "折", "赠品", "满减", "贵")),
    ("buy_signal", ("拍了", "已拍", "冲", "上车", "买了", "下单了", "要了")),
    ("product", ("码", "尺码", "颜色", "有货", "链接", "材质", "面料", "适合", "吗")),
)


def keyword_intent(text: str) -> str:
    lowered = text.lower()
    for intent, words in KEYWORD_BASELINE:
        if any(w in lowered for w in words):
            return intent
    return "chitchat"


def snownlp_score(text: str) -> float:
    from snownlp import SnowNLP

    try:
        return float(SnowNLP(text).sentiments) if text.strip() else 0.5
    except Exception:  # snownlp fails on some inputs (empty after its own filtering)
        return 0.5


def snownlp_label(score: float) -> str:
    if score < SNOWNLP_NEG_BELOW:
        return "neg"
    if score > SNOWNLP_POS_ABOVE:
        return "pos"
    return "neu"


@dataclass
class PRF:
    precision: float
    recall: float
    f1: float
    support: int


def prf(gold: list[str], pred: list[str], label: str) -> PRF:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, tp + fn)


def macro_f1(gold: list[str], pred: list[str]) -> float:
    labels = [label for label in INTENT_LABELS if label in set(gold)]
    return sum(prf(gold, pred, label).f1 for label in labels) / len(labels) if labels else 0.0


def _accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0


def _sample(rows: list[Any], limit: int | None, seed: int) -> list[Any]:
    if limit is None or limit >= len(rows):
        return rows
    return random.Random(seed).sample(rows, limit)


def evaluate_labelled(
    engine: TriageEngine, rows: list[LabelledExample], baselines: bool = True
) -> dict[str, Any]:
    predictions = []
    started = time.perf_counter()
    for i, row in enumerate(rows):
        comment = Comment(
            comment_id=f"eval-{i}", platform="eval", room="eval", user_id=f"eval-user-{i}",
            nickname="", text=row.text, ts=i * EVAL_TIME_GAP_S,
        )  # fmt: skip
        predictions.append(engine.triage(comment, now=i * EVAL_TIME_GAP_S))
    elapsed = time.perf_counter() - started
    gold_intent = [r.intent for r in rows]
    pred_intent = [t.intent.value for t in predictions]
    per_intent = {}
    for label in INTENT_LABELS:
        score = prf(gold_intent, pred_intent, label)
        per_intent[label] = {
            "precision": round(score.precision, 4), "recall": round(score.recall, 4),
            "f1": round(score.f1, 4), "support": score.support,
        }  # fmt: skip
    negative = [(r, t) for r, t in zip(rows, predictions, strict=True) if r.sentiment == "neg"]
    spam = prf(gold_intent, pred_intent, "spam")
    confusion: dict[str, dict[str, int]] = {g: dict.fromkeys(INTENT_LABELS, 0) for g in INTENT_LABELS}
    for g, p in zip(gold_intent, pred_intent, strict=True):
        if g in confusion:
            confusion[g][p] += 1
    result: dict[str, Any] = {
        "n": len(rows),
        "intent_macro_f1": round(macro_f1(gold_intent, pred_intent), 4),
        "intent_accuracy": round(_accuracy(list(zip(gold_intent, pred_intent, strict=True))), 4),
        "sentiment_accuracy": round(
            _accuracy([(r.sentiment, t.sentiment.value) for r, t in zip(rows, predictions, strict=True)]), 4
        ),
        "emotion_accuracy": round(_accuracy([(r.emotion, t.emotion.value) for r, t in negative]), 4),
        "spam_precision": round(spam.precision, 4),
        "spam_recall": round(spam.recall, 4),
        "complaint_recall": round(prf(gold_intent, pred_intent, "complaint").recall, 4),
        "per_intent": per_intent,
        "confusion": confusion,
        "engine_us_per_comment": round(elapsed / max(len(rows), 1) * 1e6, 1),
    }
    if baselines:
        keyword = [keyword_intent(r.text) for r in rows]
        result["baseline_keyword_intent_macro_f1"] = round(macro_f1(gold_intent, keyword), 4)
        result["baseline_keyword_per_intent"] = {
            label: round(prf(gold_intent, keyword, label).f1, 4) for label in INTENT_LABELS
        }
        lacking = baselines_mod.missing(baselines_mod.SENTIMENT_PACKAGES)
        if lacking:
            result["baseline_skipped"] = baselines_mod.skipped("snownlp sentiment baseline", lacking)
        else:
            snow = [snownlp_label(snownlp_score(r.text)) for r in rows]
            result["baseline_snownlp_sentiment_accuracy"] = round(
                _accuracy([(r.sentiment, s) for r, s in zip(rows, snow, strict=True)]), 4
            )
        kw_spam = prf(gold_intent, keyword, "spam")
        result["baseline_keyword_spam_precision"] = round(kw_spam.precision, 4)
        result["baseline_keyword_spam_recall"] = round(kw_spam.recall, 4)
        result["baseline_keyword_complaint_recall"] = round(prf(gold_intent, keyword, "complaint").recall, 4)
    result["errors"] = [
        {"text": r.text, "gold": [r.intent, r.sentiment, r.emotion],
         "pred": [t.intent.value, t.sentiment.value, t.emotion.value]}
        for r, t in zip(rows, predictions, strict=True)
        if (r.intent, r.sentiment) != (t.intent.value, t.sentiment.value)
        or (r.sentiment == "neg" and r.emotion != t.emotion.value)
    ]  # fmt: skip
    return result


def evaluate_reviews(engine: TriageEngine, path: Path, limit: int | None, seed: int) -> dict[str, Any]:
    all_rows = list(iter_reviews(path))
    held_out = [r for r in all_rows if review_split(r.text) == "eval"]
    rows = _sample(held_out, limit, seed)
    lacking = baselines_mod.missing(baselines_mod.SENTIMENT_PACKAGES)
    livecs_correct = snow_correct = 0
    for row in rows:
        analysis = engine.analyze_text(row.text)
        livecs_correct += (analysis.sentiment_score >= BINARY_POSITIVE_FROM) == row.positive
        if not lacking:
            snow_correct += (snownlp_score(row.text) >= BINARY_POSITIVE_FROM) == row.positive
    n = len(rows)
    result: dict[str, Any] = {
        "n": n,
        "rows_in_file": len(all_rows),
        "held_out_rows": len(held_out),
        "binary_sentiment_accuracy": round(livecs_correct / n, 4) if n else 0.0,
        "baseline_snownlp_binary_accuracy": round(snow_correct / n, 4) if n else 0.0,
        "note": "scored on rows held out from training by text hash (livecs.triage.examples.review_split)",
    }
    if lacking:
        result["baseline_snownlp_binary_accuracy"] = None
        result["baseline_skipped"] = baselines_mod.skipped("snownlp sentiment baseline", lacking)
    return result


def run_eval(
    path: str | Path,
    limit: int | None = None,
    seed: int = 7,
    split: str = "all",
    engine: TriageEngine | None = None,
    baselines: bool = True,
) -> dict[str, Any]:
    file_path = Path(path)
    engine = engine or TriageEngine.from_config()
    if file_path.suffix.lower() == ".csv":
        result = evaluate_reviews(engine, file_path, limit, seed)
        result["kind"] = "reviews"
    else:
        rows = load_jsonl(file_path)
        if split != "all":
            rows = [r for r in rows if dev_split(r.text) == split]
        rows = _sample(rows, limit, seed)
        result = evaluate_labelled(engine, rows, baselines=baselines)
        result["kind"] = "labelled"
        result["split"] = split
    result["file"] = str(file_path)
    return result


def format_report(result: dict[str, Any], show_errors: int = 0) -> str:
    lines = [f"{result['file']}  (n={result['n']})"]
    if result["kind"] == "reviews":
        lines.append(
            f"  held-out rows {result['held_out_rows']} of {result['rows_in_file']}; {result['note']}"
        )
        snow = result["baseline_snownlp_binary_accuracy"]
        lines.append(f"  {'binary sentiment accuracy':32} livecs {result['binary_sentiment_accuracy']:.4f}"
                     + (f"   snownlp {snow:.4f}" if snow is not None else ""))  # fmt: skip
        if result.get("baseline_skipped"):
            lines.append(f"  {result['baseline_skipped']}")
        return "\n".join(lines)
    lines.append(f"  split: {result.get('split', 'all')}")
    kw = result.get("baseline_keyword_per_intent", {})
    lines.append(f"  {'intent':12} {'P':>6} {'R':>6} {'F1':>6} {'n':>4}   {'keyword F1':>10}")
    for label, s in result["per_intent"].items():
        lines.append(f"  {label:12} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:4d}"
                     f"   {kw.get(label, float('nan')):10.3f}")  # fmt: skip

    def row(name: str, ours: str, base: str | None) -> str:
        value = result.get(base) if base else None
        tail = f"   baseline {value:.4f}" if isinstance(value, float) else ""
        return f"  {name:28} livecs {result[ours]:.4f}{tail}"

    lines.append(row("intent macro-F1", "intent_macro_f1", "baseline_keyword_intent_macro_f1"))
    lines.append(row("sentiment accuracy", "sentiment_accuracy", "baseline_snownlp_sentiment_accuracy"))
    lines.append(row("emotion accuracy (neg lines)", "emotion_accuracy", None))
    lines.append(row("spam precision", "spam_precision", "baseline_keyword_spam_precision"))
    lines.append(row("spam recall", "spam_recall", "baseline_keyword_spam_recall"))
    lines.append(row("complaint recall", "complaint_recall", "baseline_keyword_complaint_recall"))
    lines.append("  baselines: snownlp sentiment at 0.4/0.6; keyword-only intent rules")
    if result.get("baseline_skipped"):
        lines.append(f"  {result['baseline_skipped']}")
    lines.append("  confusion (rows gold, columns predicted):")
    short = [label[:5] for label in INTENT_LABELS]
    lines.append("  " + " " * 12 + " ".join(f"{s:>5}" for s in short))
    for gold, counts in result["confusion"].items():
        lines.append(f"  {gold:12}" + " ".join(f"{counts[p]:5d}" for p in INTENT_LABELS))
    for error in result["errors"][:show_errors]:
        lines.append(f"  ✗ {error['text']}  gold={error['gold']} pred={error['pred']}")
    return "\n".join(lines)


__all__ = ["Counter", "format_report", "run_eval"]
