"""``python run.py train``: fit the learned heads on the hand-written and template examples (and, for
sentiment, the training part of the real review sets) and write ``data/model.npz``.

Never reads the development set. Review rows whose text hash puts them in the evaluation part
(:func:`livecs.triage.examples.review_split`) are skipped, so ``eval`` on the review CSVs scores unseen rows.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livecs.triage.analyze import load_analyzer_parts
from livecs.triage.config import REPO_ROOT, load_config
from livecs.triage.examples import LabelledExample, iter_reviews, load_hand_examples, review_split
from livecs.triage.features import INTENT_FEATURE_PREFIX, text_features
from livecs.triage.lexicon import load_lexicon_data
from livecs.triage.model import EMOTION_LABELS, INTENT_LABELS, MODEL_FILE, SENTIMENT_LABELS, LinearModel
from livecs.triage.synth import synthetic_examples

DEFAULT_REVIEWS_DIR = REPO_ROOT.parent / "shared" / "data" / "real"
REVIEW_FILES = ("online_shopping_10_cats.csv", "waimai_10k.csv")


@dataclass
class TrainSettings:
    reviews_dir: Path | None = DEFAULT_REVIEWS_DIR
    reviews_per_file: int = 12_000  # sampled from each file's training part
    review_min_count: int = 3  # review-only features seen fewer times are dropped
    review_weight: float = 0.5  # total weight of reviews relative to the danmaku examples (sentiment head)
    hand_weight: float = 2.0  # a hand-written example counts this many template examples
    epochs: int = 200
    learning_rate: float = 0.05
    l2: float = 1e-4
    seed: int = 13


@dataclass
class _Matrix:
    indptr: np.ndarray
    indices: np.ndarray
    rows: np.ndarray  # row of each non-zero


def _to_matrix(rows: list[list[int]]) -> _Matrix:
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(indptr[-1]))
    return _Matrix(indptr, indices, np.repeat(np.arange(len(rows)), lengths))


def train_softmax(
    matrix: _Matrix,
    labels: np.ndarray,
    sample_weight: np.ndarray,
    n_features: int,
    n_classes: int,
    settings: TrainSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch Adam on an L2-regularised multinomial logistic regression over binary sparse features."""
    weights = np.zeros((n_features, n_classes), dtype=np.float64)
    bias = np.zeros(n_classes, dtype=np.float64)
    moment1 = np.zeros_like(weights)
    moment2 = np.zeros_like(weights)
    b_m1 = np.zeros_like(bias)
    b_m2 = np.zeros_like(bias)
    n_rows = len(labels)
    onehot = np.zeros((n_rows, n_classes))
    onehot[np.arange(n_rows), labels] = 1.0
    norm_weight = sample_weight / sample_weight.sum()
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, settings.epochs + 1):
        logits = np.empty((n_rows, n_classes))
        for k in range(n_classes):
            logits[:, k] = np.add.reduceat(weights[matrix.indices, k], matrix.indptr[:-1])
        logits += bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        delta = (probs - onehot) * norm_weight[:, None]
        grad = np.empty_like(weights)
        for k in range(n_classes):
            grad[:, k] = np.bincount(matrix.indices, weights=delta[matrix.rows, k], minlength=n_features)
        grad += settings.l2 * weights
        b_grad = delta.sum(axis=0)
        moment1 = beta1 * moment1 + (1 - beta1) * grad
        moment2 = beta2 * moment2 + (1 - beta2) * grad * grad
        b_m1 = beta1 * b_m1 + (1 - beta1) * b_grad
        b_m2 = beta2 * b_m2 + (1 - beta2) * b_grad * b_grad
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        weights -= settings.learning_rate * (moment1 / correction1) / (np.sqrt(moment2 / correction2) + eps)
        bias -= settings.learning_rate * (b_m1 / correction1) / (np.sqrt(b_m2 / correction2) + eps)
    return weights, bias


def _balanced(labels: np.ndarray, base: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.bincount(labels, weights=base, minlength=n_classes)
    per_class = np.where(counts > 0, base.sum() / (n_classes * np.maximum(counts, 1e-9)), 0.0)
    return base * per_class[labels]


def load_training_examples(seed: int) -> list[LabelledExample]:
    return load_hand_examples() + list(synthetic_examples(seed))


def train(settings: TrainSettings, out_path: Path = MODEL_FILE, log=print) -> dict[str, float]:
    started = time.perf_counter()
    config = load_config()
    lexicon_data = load_lexicon_data()
    normalizer, lexicon, _ = load_analyzer_parts(lexicon_data, config)

    def featurize(text: str) -> list[str]:
        norm = normalizer.normalize(text)
        return text_features(norm.text, lexicon.scan(norm.text))

    examples = load_training_examples(settings.seed)
    danmaku_feats = [featurize(e.text) for e in examples]
    log(f"examples: {len(examples)} ({Counter(e.source for e in examples)}), "
        f"intents {dict(Counter(e.intent for e in examples))}")  # fmt: skip

    reviews: list[tuple[list[str], bool]] = []
    if settings.reviews_dir is not None and Path(settings.reviews_dir).is_dir():
        rng = random.Random(settings.seed)
        for name in REVIEW_FILES:
            path = Path(settings.reviews_dir) / name
            if not path.exists():
                continue
            rows = [r for r in iter_reviews(path) if review_split(r.text) == "train"]
            rng.shuffle(rows)
            rows = rows[: settings.reviews_per_file]
            reviews.extend((featurize(r.text), r.positive) for r in rows)
            log(f"reviews: {len(rows)} training rows from {name} (evaluation rows held out by text hash)")
    else:
        log("reviews: none (sentiment head trained on danmaku examples only)")

    review_counts = Counter(f for feats, _ in reviews for f in feats)
    vocabulary: dict[str, int] = {}
    for feats in danmaku_feats:
        for f in feats:
            vocabulary.setdefault(f, len(vocabulary))
    for f, n in review_counts.items():
        if n >= settings.review_min_count:
            vocabulary.setdefault(f, len(vocabulary))
    for label in INTENT_LABELS:
        vocabulary.setdefault(INTENT_FEATURE_PREFIX + label, len(vocabulary))
    n_features = len(vocabulary)

    def indices(feats: list[str], extra: str | None = None) -> list[int]:
        out = [vocabulary[f] for f in feats if f in vocabulary]
        if extra is not None:
            out.append(vocabulary[extra])
        return out

    base = np.array([settings.hand_weight if e.source == "hand" else 1.0 for e in examples])

    # Intent head.
    intent_y = np.array([INTENT_LABELS.index(e.intent) for e in examples])
    intent_matrix = _to_matrix([indices(f) for f in danmaku_feats])
    w_intent, b_intent = train_softmax(
        intent_matrix,
        intent_y,
        _balanced(intent_y, base, len(INTENT_LABELS)),
        n_features,
        len(INTENT_LABELS),
        settings,
    )
    log(f"intent head trained ({time.perf_counter() - started:.1f}s)")

    # Sentiment head: danmaku (gold intent feature) + reviews (predicted intent feature).
    def predicted_intent(feats: list[str]) -> str:
        idx = indices(feats)
        scores = w_intent[idx].sum(axis=0) + b_intent
        return INTENT_LABELS[int(np.argmax(scores))]

    sent_rows = [
        indices(f, INTENT_FEATURE_PREFIX + e.intent) for f, e in zip(danmaku_feats, examples, strict=True)
    ]
    sent_y = [SENTIMENT_LABELS.index(e.sentiment) for e in examples]
    sent_w = list(_balanced(np.array(sent_y), base, len(SENTIMENT_LABELS)))
    if reviews:
        review_total = settings.review_weight * float(np.sum(sent_w))
        each = review_total / len(reviews)
        for feats, positive in reviews:
            sent_rows.append(indices(feats, INTENT_FEATURE_PREFIX + predicted_intent(feats)))
            sent_y.append(SENTIMENT_LABELS.index("pos" if positive else "neg"))
            sent_w.append(each)
    w_sent, b_sent = train_softmax(
        _to_matrix(sent_rows), np.array(sent_y), np.array(sent_w), n_features, len(SENTIMENT_LABELS), settings
    )
    log(f"sentiment head trained on {len(sent_rows)} rows ({time.perf_counter() - started:.1f}s)")

    # Emotion head: negative danmaku examples with an emotion.
    emo = [(f, e) for f, e in zip(danmaku_feats, examples, strict=True) if e.sentiment == "neg" and e.emotion]
    emo_y = np.array([EMOTION_LABELS.index(e.emotion) for _, e in emo])
    emo_base = np.array([settings.hand_weight if e.source == "hand" else 1.0 for _, e in emo])
    w_emo, b_emo = train_softmax(
        _to_matrix([indices(f, INTENT_FEATURE_PREFIX + e.intent) for f, e in emo]),
        emo_y, _balanced(emo_y, emo_base, len(EMOTION_LABELS)), n_features, len(EMOTION_LABELS), settings,
    )  # fmt: skip
    log(f"emotion head trained on {len(emo)} rows ({time.perf_counter() - started:.1f}s)")

    weights = np.concatenate([w_intent, w_sent, w_emo], axis=1)
    names = [""] * n_features
    for name, i in vocabulary.items():
        names[i] = name
    model = LinearModel(names, weights, b_intent, b_sent, b_emo)
    model.save(out_path)
    size = out_path.stat().st_size
    elapsed = time.perf_counter() - started
    log(f"wrote {out_path} ({n_features} features, {size / 1e6:.2f} MB) in {elapsed:.1f}s")
    return {"features": float(n_features), "bytes": float(size), "seconds": time.perf_counter() - started}
