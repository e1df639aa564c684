"""``python run.py train``: fit the learned heads on the hand-written and template examples (and, for
sentiment, the training part of the real review sets) and write ``data/model.npz``.

Never reads the development set. Review rows whose text hash puts them in the evaluation part
(:func:`livecs.triage.examples.review_split`) are skipped, so ``eval`` on the review CSVs scores unseen rows.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from livecs.config import load_settings
from livecs.triage.analyze import TextAnalyzer, load_analyzer_parts
from livecs.triage.embeddings import learn_embeddings
from livecs.triage.examples import (
    LabelledExample,
    dev_split,
    iter_reviews,
    load_hand_examples,
    load_jsonl,
    review_split,
    stable_bucket,
)
from livecs.triage.features import INTENT_FEATURE_PREFIX, text_features
from livecs.triage.lexicon import load_lexicon_data
from livecs.triage.model import EMOTION_LABELS, INTENT_LABELS, MODEL_FILE, SENTIMENT_LABELS, LinearModel
from livecs.triage.real_data import REAL_DIR, ROOMS_FILE, SHARED_LABELS, RealData, load_real_data
from livecs.triage.template_examples import synthetic_examples

DEFAULT_REVIEWS_DIR = REAL_DIR
DEV_FILE = REAL_DIR.parent / "dev_comments.jsonl"  # CV scores its tune half only
REVIEW_FILES = ("online_shopping_10_cats.csv", "waimai_10k.csv")


@dataclass
class TrainSettings:
    reviews_dir: Path | None = DEFAULT_REVIEWS_DIR
    reviews_per_file: int = 12_000  # sampled from each file's training part
    review_min_count: int = 3  # review-only features seen fewer times are dropped
    # Weight of all reviews relative to the danmaku examples in the sentiment head. 0.25 was chosen by --cv 5
    # on the hand-written data; with 16,282 real labels the room-CV prefers less (sentiment, random sample of
    # 1,599: 0.5 → 1,401, 0.25 → 1,404, 0.1 → 1,408, 0.05 → 1,412, 0.02 → 1,411, 0 → 1,419): reviews are
    # long, two-class and of another domain. 0 costs 8 points on the held-out reviews (0.80, below snownlp),
    # 0.05 one (0.872), so 0.05. They also feed the n-gram vectors and the vocabulary.
    review_weight: float = 0.05
    hand_weight: float = 3.0  # a hand-written example counts this many template examples (chosen by --cv 5)
    epochs: int = 200
    learning_rate: float = 0.05
    l2: float = 1e-4
    l2_intent: float | None = None  # per-head L2 (None: ``l2``)
    l2_sentiment: float | None = None
    l2_emotion: float | None = 1e-3  # chosen by --cv 5 (1e-5…3e-3 tried)
    emotion_hand_boost: float = 3.0  # extra weight of hand-written rows in the emotion head (--cv 5)
    emotion_epochs: int | None = None
    seed: int = 13
    real_labels: bool = True  # join the real rooms' labels (../shared + data/real_labels) when present
    real_weight: float = 8.0  # a real labelled comment counts this many template examples (room-CV: 3 → 8)
    # Intent prior from unlabelled real rooms (EM, Saerens et al. 2002): the heads are trained class-balanced,
    # i.e. with a flat prior, while a real room is mostly chit-chat and product talk. The intent bias moves by
    # ``prior_strength`` × log(real prior / flat prior); 0 keeps the flat prior (room-CV chose the value).
    prior_strength: float = 0.3
    prior_sample: int = 20_000  # unlabelled real comments the prior is estimated on
    # N-gram vectors from unlabelled text (livecs/triage/embeddings.py) as a low-rank part of the heads named
    # in ``embedding_heads``, folded into per-n-gram weights; 0 turns it off. Room-CV (all labels): sentiment
    # head only, dim 64, scale 3: sentiment 0.851 → 0.862, the rest unchanged; on the intent head too, intent
    # accuracy 0.792 → 0.784 and P0 precision 0.79 → 0.72 (scale 1: no gain), so the intent head has none.
    embedding_dim: int = 64
    embedding_contexts: int = 1_500
    embedding_min_count: int = 5
    embedding_l2: float = 1e-4
    embedding_scale: float = 3.0  # the vectors' scale (a comment's summed vector has norm ≈ this)
    embedding_heads: tuple[str, ...] = ("sentiment",)  # the heads that get the low-rank part


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
    embeddings: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch Adam on an L2-regularised multinomial logistic regression over binary sparse features.

    With ``embeddings`` (n_features × dim, zero rows for features without a vector) each row also gets the
    dense input (sum of its features' vectors) × V, trained jointly; V is folded into the returned weights
    (``weights + embeddings @ V``), so the model stays one sparse sum."""
    weights = np.zeros((n_features, n_classes), dtype=np.float64)
    dense = low_rank = lr_m1 = lr_m2 = None
    if embeddings is not None:
        dense = np.add.reduceat(embeddings[matrix.indices].astype(np.float64), matrix.indptr[:-1], axis=0)
        dense[np.diff(matrix.indptr) == 0] = 0.0
        low_rank = np.zeros((embeddings.shape[1], n_classes))
        lr_m1 = np.zeros_like(low_rank)
        lr_m2 = np.zeros_like(low_rank)
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
        if dense is not None:
            logits += dense @ low_rank
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
        if dense is not None and low_rank is not None and lr_m1 is not None and lr_m2 is not None:
            lr_grad = dense.T @ delta + settings.embedding_l2 * low_rank
            lr_m1 = beta1 * lr_m1 + (1 - beta1) * lr_grad
            lr_m2 = beta2 * lr_m2 + (1 - beta2) * lr_grad * lr_grad
            low_rank -= settings.learning_rate * (lr_m1 / correction1) / (np.sqrt(lr_m2 / correction2) + eps)
    if embeddings is not None and low_rank is not None:
        weights = weights + embeddings.astype(np.float64) @ low_rank
    return weights, bias


def _balanced(labels: np.ndarray, base: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.bincount(labels, weights=base, minlength=n_classes)
    per_class = np.where(counts > 0, base.sum() / (n_classes * np.maximum(counts, 1e-9)), 0.0)
    weighted: np.ndarray = base * per_class[labels]
    return weighted


def load_training_examples(seed: int) -> list[LabelledExample]:
    return load_hand_examples() + list(synthetic_examples(seed))


@dataclass
class PreparedData:
    """Featurised training material (shared by :func:`train` and :func:`cross_validate`)."""

    examples: list[LabelledExample]
    features: list[list[str]]
    reviews: list[tuple[list[str], bool]]
    vocabulary: dict[str, int]
    featurize: Callable[[str], list[str]]
    real: RealData | None = None
    # Unlabelled text for the n-gram vectors: (room or "" for a review, features), distinct texts.
    corpus: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class FittedHeads:
    weights: np.ndarray
    intent_bias: np.ndarray
    sentiment_bias: np.ndarray
    emotion_bias: np.ndarray
    extra_names: list[str] = field(default_factory=list)  # n-grams after the vocabulary's (vectors only)

    def model(self, vocabulary: dict[str, int]) -> LinearModel:
        names = [""] * len(vocabulary)
        for name, i in vocabulary.items():
            names[i] = name
        names += self.extra_names
        return LinearModel(names, self.weights, self.intent_bias, self.sentiment_bias, self.emotion_bias)


def prepare(settings: TrainSettings, log: Callable[[str], object] = print) -> PreparedData:
    config = load_settings().triage
    lexicon_data = load_lexicon_data()
    normalizer, lexicon, _ = load_analyzer_parts(lexicon_data, config)

    def featurize(text: str) -> list[str]:
        norm = normalizer.normalize(text)
        return text_features(norm.text, lexicon.scan(norm.text))

    examples = load_training_examples(settings.seed)
    real = load_real_data()  # also scored by room-held-out validation when not trained on
    if real is not None and settings.real_labels:
        real_examples = real.examples()
        examples += real_examples
        n_rooms = len({e.room for e in real_examples})
        skipped = f" (skipped {dict(real.skipped)})" if real.skipped else ""
        log(
            f"real labels: {len(real_examples)} comments of {n_rooms} rooms joined from {ROOMS_FILE}{skipped}"
        )
    elif real is None and settings.real_labels:
        log(f"real labels: {ROOMS_FILE} not found — training on the hand-written and template data only")
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
    corpus: list[tuple[str, list[str]]] = []
    if settings.embedding_dim > 0:
        seen: set[str] = set()
        for row in real.rows if real is not None else []:
            if row.text and row.text not in seen:
                seen.add(row.text)
                corpus.append((row.room, featurize(row.text)))
        corpus += [("", feats) for feats, _ in reviews]
        log(f"unlabelled text for the n-gram vectors: {len(corpus)} distinct comments and reviews")
    return PreparedData(examples, danmaku_feats, reviews, vocabulary, featurize, real, corpus)


def _embedding_table(
    data: PreparedData, settings: TrainSettings, exclude_rooms: frozenset[str]
) -> tuple[np.ndarray, list[str]] | None:
    """The n-gram vectors as rows aligned with the vocabulary (plus the n-grams it lacks, appended)."""
    if settings.embedding_dim <= 0 or not data.corpus:
        return None
    learned = learn_embeddings(
        (feats for room, feats in data.corpus if room not in exclude_rooms),
        dim=settings.embedding_dim,
        contexts=settings.embedding_contexts,
        min_count=settings.embedding_min_count,
    )
    extra = [name for name in learned.names if name not in data.vocabulary]
    table = np.zeros((len(data.vocabulary) + len(extra), learned.vectors.shape[1]), dtype=np.float32)
    position = {name: i for i, name in enumerate(extra, start=len(data.vocabulary))}
    for name, vector in zip(learned.names, learned.vectors, strict=True):
        table[data.vocabulary[name] if name in data.vocabulary else position[name]] = vector
    return table * np.float32(settings.embedding_scale), extra


def _with(settings: TrainSettings, l2: float | None) -> TrainSettings:
    return replace(settings, l2=settings.l2 if l2 is None else l2)


def fit_heads(
    data: PreparedData,
    settings: TrainSettings,
    use: np.ndarray | None = None,
    log: Callable[[str], object] = print,
    reuse: FittedHeads | None = None,
    exclude_rooms: frozenset[str] = frozenset(),
) -> FittedHeads:
    """Train the three heads on the examples selected by the boolean mask ``use`` (all when None).

    With ``reuse``, the intent and sentiment heads are taken from it and only the emotion head is trained
    (cheap per-head tuning in cross-validation). With ``settings.embedding_dim``, the n-gram vectors are
    learned from the unlabelled text outside ``exclude_rooms`` and join the heads in ``embedding_heads``."""
    started = time.perf_counter()
    vocabulary = data.vocabulary
    n_features = len(vocabulary)
    table_extra = _embedding_table(data, settings, exclude_rooms) if reuse is None else None
    table, extra = table_extra if table_extra is not None else (None, [])
    if table is not None:
        n_features = len(table)
        log(f"n-gram vectors: {len(table)} rows, {len(extra)} n-grams seen only in unlabelled text "
            f"({time.perf_counter() - started:.1f}s)")  # fmt: skip
    picked = [i for i in range(len(data.examples)) if use is None or use[i]]
    examples = [data.examples[i] for i in picked]
    danmaku_feats = [data.features[i] for i in picked]

    def indices(feats: list[str], extra: str | None = None) -> list[int]:
        out = [vocabulary[f] for f in feats if f in vocabulary]
        if extra is not None:
            out.append(vocabulary[extra])
        return out

    def base_weight(e: LabelledExample) -> float:
        if e.source == "real":
            return settings.real_weight
        return settings.hand_weight if e.source == "hand" else 1.0

    n_i, n_s = len(INTENT_LABELS), len(SENTIMENT_LABELS)
    if reuse is None:
        base = np.array([base_weight(e) for e in examples])
        intent_y = np.array([INTENT_LABELS.index(e.intent) for e in examples])
        intent_matrix = _to_matrix([indices(f) for f in danmaku_feats])
        w_intent, b_intent = train_softmax(
            intent_matrix, intent_y, _balanced(intent_y, base, n_i), n_features, n_i,
            _with(settings, settings.l2_intent), table if "intent" in settings.embedding_heads else None,
        )  # fmt: skip
        log(f"intent head trained ({time.perf_counter() - started:.1f}s)")

        # Sentiment head: danmaku (gold intent feature) + reviews (predicted intent feature).
        def predicted_intent(feats: list[str]) -> str:
            scores = w_intent[indices(feats)].sum(axis=0) + b_intent
            return INTENT_LABELS[int(np.argmax(scores))]

        sent_rows = [
            indices(f, INTENT_FEATURE_PREFIX + e.intent) for f, e in zip(danmaku_feats, examples, strict=True)
        ]
        sent_y = [SENTIMENT_LABELS.index(e.sentiment) for e in examples]
        sent_w = list(_balanced(np.array(sent_y), base, n_s))
        if data.reviews and settings.review_weight > 0:
            each = settings.review_weight * float(np.sum(sent_w)) / len(data.reviews)
            for feats, positive in data.reviews:
                sent_rows.append(indices(feats, INTENT_FEATURE_PREFIX + predicted_intent(feats)))
                sent_y.append(SENTIMENT_LABELS.index("pos" if positive else "neg"))
                sent_w.append(each)
        w_sent, b_sent = train_softmax(
            _to_matrix(sent_rows), np.array(sent_y), np.array(sent_w), n_features, n_s,
            _with(settings, settings.l2_sentiment),
            table if "sentiment" in settings.embedding_heads else None,
        )  # fmt: skip
        log(f"sentiment head trained on {len(sent_rows)} rows ({time.perf_counter() - started:.1f}s)")
    else:
        w_intent, b_intent = reuse.weights[:, :n_i], reuse.intent_bias
        w_sent, b_sent = reuse.weights[:, n_i : n_i + n_s], reuse.sentiment_bias
        extra = reuse.extra_names
        n_features = len(reuse.weights)

    # Emotion head: negative danmaku examples with an emotion.
    emo = [(f, e) for f, e in zip(danmaku_feats, examples, strict=True) if e.sentiment == "neg" and e.emotion]
    emo_y = np.array([EMOTION_LABELS.index(e.emotion) for _, e in emo])
    emo_base = np.array(
        [base_weight(e) * settings.emotion_hand_boost ** (e.source == "hand") for _, e in emo]
    )
    w_emo, b_emo = train_softmax(
        _to_matrix([indices(f, INTENT_FEATURE_PREFIX + e.intent) for f, e in emo]),
        emo_y, _balanced(emo_y, emo_base, len(EMOTION_LABELS)), n_features, len(EMOTION_LABELS),
        replace(_with(settings, settings.l2_emotion), epochs=settings.emotion_epochs or settings.epochs),
    )  # fmt: skip
    log(f"emotion head trained on {len(emo)} rows ({time.perf_counter() - started:.1f}s)")
    weights = np.concatenate([w_intent, w_sent, w_emo], axis=1)
    return FittedHeads(weights, b_intent, b_sent, b_emo, extra)


def estimate_intent_prior(
    heads: FittedHeads, vocabulary: dict[str, int], feature_lists: list[list[str]], iterations: int = 50
) -> np.ndarray:
    """The intent prior of unlabelled comments by EM over the heads' posteriors (trained flat)."""
    n_i = len(INTENT_LABELS)
    w = heads.weights[:, :n_i]
    logits = np.array([w[[vocabulary[f] for f in fl if f in vocabulary]].sum(axis=0) for fl in feature_lists])
    logits = logits + heads.intent_bias
    logits -= logits.max(axis=1, keepdims=True)
    base = np.exp(logits)
    base /= base.sum(axis=1, keepdims=True)
    prior = np.full(n_i, 1.0 / n_i)
    for _ in range(iterations):
        adjusted = base * (prior * n_i)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        prior = adjusted.mean(axis=0)
    return np.asarray(prior)


def apply_intent_prior(
    data: PreparedData,
    heads: FittedHeads,
    settings: TrainSettings,
    exclude_rooms: frozenset[str] = frozenset(),
    log: Callable[[str], object] = print,
) -> FittedHeads:
    """Shift the intent bias toward the prior of the unlabelled real rooms (not ``exclude_rooms``)."""
    if settings.prior_strength <= 0 or data.real is None:
        return heads
    texts = [r.text for r in data.real.rows if r.room not in exclude_rooms and r.text]
    random.Random(settings.seed).shuffle(texts)
    vocabulary = data.vocabulary | {n: i for i, n in enumerate(heads.extra_names, start=len(data.vocabulary))}
    prior = estimate_intent_prior(
        heads, vocabulary, [data.featurize(t) for t in texts[: settings.prior_sample]]
    )
    shift = settings.prior_strength * np.log(np.maximum(prior, 1e-4) * len(INTENT_LABELS))
    log(
        "intent prior of real rooms: "
        + ", ".join(f"{label} {p:.3f}" for label, p in zip(INTENT_LABELS, prior, strict=True))
    )
    return replace(heads, intent_bias=heads.intent_bias + shift)


def train(
    settings: TrainSettings, out_path: Path = MODEL_FILE, log: Callable[[str], object] = print
) -> dict[str, float]:
    started = time.perf_counter()
    data = prepare(settings, log)
    heads = apply_intent_prior(data, fit_heads(data, settings, log=log), settings, log=log)
    model = heads.model(data.vocabulary)
    model.save(out_path)
    size = out_path.stat().st_size
    elapsed = time.perf_counter() - started
    n_features = len(model.index)
    log(f"wrote {out_path} ({n_features} features, {size / 1e6:.2f} MB) in {elapsed:.1f}s")
    return {"features": float(n_features), "bytes": float(size), "seconds": time.perf_counter() - started}


# --- cross-validation ---------------------------------------------------------------------------------


def _analyzer(model: LinearModel) -> TextAnalyzer:
    config = load_settings().triage
    normalizer, lexicon, spam_rules = load_analyzer_parts(load_lexicon_data(), config)
    return TextAnalyzer(normalizer, lexicon, model, spam_rules, config.intent)


def score_rows(analyzer: TextAnalyzer, rows: list[LabelledExample]) -> list[tuple[str, str, str]]:
    """(intent, sentiment, emotion) predicted by the text-only analysis (rules included) for each row."""
    out = []
    for row in rows:
        a = analyzer.analyze_normalized(analyzer.normalizer.normalize(row.text))
        out.append((a.intent.value, a.sentiment.value, a.emotion.value))
    return out


def metrics(rows: list[LabelledExample], preds: list[tuple[str, str, str]]) -> dict[str, float]:
    """The dev-set figures (intent macro-F1, sentiment/emotion accuracy, spam P/R, complaint recall)."""
    from livecs.triage.evaluate import macro_f1, prf

    gold = [r.intent for r in rows]
    pred = [p[0] for p in preds]
    neg = [(r.emotion, p[2]) for r, p in zip(rows, preds, strict=True) if r.sentiment == "neg"]
    spam = prf(gold, pred, "spam")
    n = max(len(rows), 1)
    return {
        "n": float(len(rows)),
        "intent_f1": round(macro_f1(gold, pred), 4),
        "sentiment": round(sum(r.sentiment == p[1] for r, p in zip(rows, preds, strict=True)) / n, 4),
        "emotion": round(sum(g == p for g, p in neg) / max(len(neg), 1), 4),
        "spam_p": round(spam.precision, 4),
        "spam_r": round(spam.recall, 4),
        "complaint_r": round(prf(gold, pred, "complaint").recall, 4),
    }


def objective(m: dict[str, float]) -> float:
    """One number to compare model choices: the mean of the five headline figures (spam as F1)."""
    p, r = m["spam_p"], m["spam_r"]
    spam_f1 = 2 * p * r / (p + r) if p + r else 0.0
    return round((m["intent_f1"] + m["sentiment"] + m["emotion"] + spam_f1 + m["complaint_r"]) / 5, 4)


def cross_validate(
    settings: TrainSettings,
    k: int = 5,
    validation: list[LabelledExample] | None = None,
    log: Callable[[str], object] = print,
    data: PreparedData | None = None,
    emotion_variants: dict[str, TrainSettings] | None = None,
) -> dict[str, Any]:
    """k-fold CV: fold ``i`` trains on the hand-written examples outside fold ``i`` (plus every template
    example) and validates on hand fold ``i`` and on fold ``i`` of ``validation`` (the dev **tune** half by
    default: never trained on, only scored). Predictions are pooled over folds; returns ``hand`` and
    ``tune`` metrics and their objectives. ``emotion_variants`` retrains only the emotion head per variant
    (name -> settings) on each fold and reports those too."""
    if validation is None:
        validation = [r for r in load_jsonl(DEV_FILE) if dev_split(r.text) == "tune"]
    data = data or prepare(settings, log)
    hand_fold = np.array(
        [stable_bucket(e.text, k) if e.source == "hand" else -1 for e in data.examples], dtype=np.int64
    )
    val_fold = [stable_bucket(r.text, k) for r in validation]
    variants = {"base": settings, **(emotion_variants or {})}
    preds: dict[str, dict[str, list[tuple[int, tuple[str, str, str]]]]] = {
        name: {"hand": [], "tune": []} for name in variants
    }
    started = time.perf_counter()
    for fold in range(k):
        use = hand_fold != fold
        heads = fit_heads(data, settings, use, log=lambda _m: None)
        hand_idx = [i for i in range(len(data.examples)) if hand_fold[i] == fold]
        val_idx = [i for i, f in enumerate(val_fold) if f == fold]
        for name, variant in variants.items():
            fitted = heads if name == "base" else fit_heads(data, variant, use, lambda _m: None, reuse=heads)
            analyzer = _analyzer(fitted.model(data.vocabulary))
            hand_rows = [data.examples[i] for i in hand_idx]
            preds[name]["hand"] += list(zip(hand_idx, score_rows(analyzer, hand_rows), strict=True))
            val_rows = [validation[i] for i in val_idx]
            preds[name]["tune"] += list(zip(val_idx, score_rows(analyzer, val_rows), strict=True))
        log(f"fold {fold + 1}/{k} done ({time.perf_counter() - started:.0f}s)")
    out: dict[str, Any] = {}
    for name in variants:
        hand = sorted(preds[name]["hand"])
        tune = sorted(preds[name]["tune"])
        m_hand = metrics([data.examples[i] for i, _ in hand], [p for _, p in hand])
        m_tune = metrics([validation[i] for i, _ in tune], [p for _, p in tune])
        out[name] = {
            "hand": m_hand,
            "tune": m_tune,
            "objective_hand": objective(m_hand),
            "objective_tune": objective(m_tune),
        }
    return out


def format_cv(result: dict[str, Any]) -> str:
    lines = [f"{'variant':14} {'set':5} {'intentF1':>8} {'sent':>6} {'emo':>6} {'spamP':>6} {'spamR':>6} "
             f"{'complR':>6} {'obj':>6}"]  # fmt: skip
    for name, r in result.items():
        for part in ("hand", "tune"):
            m = r[part]
            lines.append(
                f"{name:14} {part:5} {m['intent_f1']:8.3f} {m['sentiment']:6.3f} {m['emotion']:6.3f} "
                f"{m['spam_p']:6.3f} {m['spam_r']:6.3f} {m['complaint_r']:6.3f} {r['objective_' + part]:6.3f}"
            )
    return "\n".join(lines)


# --- room-held-out validation on real rooms ------------------------------------------------------------


def room_folds(sizes: dict[str, int], k: int) -> list[frozenset[str]]:
    """Whole rooms dealt into ``k`` folds, biggest first, round-robin (stable, roughly balanced)."""
    folds: list[set[str]] = [set() for _ in range(k)]
    for i, room in enumerate(sorted(sizes, key=lambda r: (-sizes[r], r))):
        folds[i % k].add(room)
    return [frozenset(f) for f in folds]


def room_cross_validate(
    settings: TrainSettings,
    k: int = 4,
    log: Callable[[str], object] = print,
    data: PreparedData | None = None,
    worst: int = 20,
    variants: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Hold out whole rooms: fold ``i`` trains on everything except the real labels of its rooms, then
    replays those rooms in context (ingest validation → the pipeline's processor) and scores their labels.
    Predictions are pooled over folds; also the alarm rates of the held-out rooms. ``variants`` (name →
    ``{"section.key": value}`` engine-config overrides) are replayed with the same trained folds; the result
    has one entry per variant (``base`` = the configuration as it is)."""
    from livecs.processor.live import LiveProcessor
    from livecs.triage.engine import TriageEngine
    from livecs.triage.rooms import Label, Outcome, labelled_measures, missed, replay

    data = data or prepare(settings, log)
    if data.real is None:
        raise ValueError(f"room cross-validation needs the real rooms: {ROOMS_FILE} not found")
    real = data.real
    sizes = Counter(r.room for r in real.rows)
    folds = room_folds(dict(sizes), k)
    config = load_settings().triage
    configs = {"base": config} | {name: config.with_overrides(o) for name, o in (variants or {}).items()}
    pairs: dict[str, list[tuple[Outcome, Label]]] = {name: [] for name in configs}
    counts: dict[str, Counter[str]] = {name: Counter() for name in configs}
    started = time.perf_counter()
    for i, fold_rooms in enumerate(folds):
        use = np.array([not (e.source == "real" and e.room in fold_rooms) for e in data.examples])
        heads = fit_heads(data, settings, use, log=lambda _m: None, exclude_rooms=fold_rooms)
        heads = apply_intent_prior(data, heads, settings, exclude_rooms=fold_rooms, log=lambda _m: None)
        model = heads.model(data.vocabulary)
        rows = [r for r in real.rows if r.room in fold_rooms]
        for name, variant_config in configs.items():
            processor = LiveProcessor(TriageEngine(variant_config, model), None)
            outcomes = replay(rows, lambda c, now: processor.process(c, now).triage)  # noqa: B023
            for o in outcomes:
                if o.triage is None:
                    continue
                counts[name]["comments"] += 1
                counts[name][o.triage.priority.value] += 1
                label = real.labels.get((o.row.room, o.row.row))
                if label is not None:
                    pairs[name].append((o, label))
        log(f"room fold {i + 1}/{k} ({len(fold_rooms)} rooms, {len(rows)} comments) done "
            f"({time.perf_counter() - started:.0f}s)")  # fmt: skip
    out: dict[str, Any] = {"folds": [sorted(f) for f in folds]}
    for name in configs:
        measures, false_alarms = labelled_measures(pairs[name], worst)
        shared = [(o, lab) for o, lab in pairs[name] if lab.source == SHARED_LABELS.name]
        n = max(counts[name]["comments"], 1)
        out[name] = {
            "comments": counts[name]["comments"],
            "p0_per_1000": round(1000 * counts[name]["P0"] / n, 2),
            "p1_per_1000": round(1000 * counts[name]["P1"] / n, 2),
            "mod_per_1000": round(1000 * counts[name]["mod"] / n, 2),
            "all_labels": measures,
            "shared_800": labelled_measures(shared, 0)[0] if shared else None,
            "worst_false_alarms": false_alarms,
            "missed": missed(pairs[name]),
        }
    return out


def format_room_cv(results: dict[str, Any]) -> str:
    return "\n\n".join(
        f"== {name}\n" + _format_room_cv(result) for name, result in results.items() if name != "folds"
    )


def _format_room_cv(result: dict[str, Any]) -> str:
    from livecs.triage.rooms import _fmt_ratio

    lines = [
        f"held-out rooms: {result['comments']} comments; P0 {result['p0_per_1000']}/1000, "
        f"P1 {result['p1_per_1000']}/1000, mod {result['mod_per_1000']}/1000"
    ]
    for name in ("all_labels", "shared_800"):
        lab = result.get(name)
        if not lab:
            continue
        lines += [
            f"{name}: labelled {lab['labelled']} (random {lab['random_sample']})",
            f"  false P0 /1000 calm  {_fmt_ratio(lab['false_p0_per_1000_calm'])}",
            f"  P0 precision         {_fmt_ratio(lab['p0_precision'], True)}",
            f"  P0 recall            {_fmt_ratio(lab['p0_recall'], True)}",
            f"  intent acc (random)  {_fmt_ratio(lab['intent_accuracy_random'], True)}",
            f"  sentiment (random)   {_fmt_ratio(lab['sentiment_accuracy_random'], True)}",
            f"  intent macro-F1      {lab['intent_macro_f1']:.3f}",
            f"  moderation precision {_fmt_ratio(lab['moderation_precision'], True)}",
            f"  spam recall          {_fmt_ratio(lab['spam_recall'], True)}",
        ]
    if result.get("worst_false_alarms"):
        lines.append("worst false alarms:")
        for f in result["worst_false_alarms"]:
            lines.append(
                f"  [{f['room']}#{f['row']}] {f['text'][:50]} | {f['engine']} | {f['gold']} | {f['why']}"
            )
    return "\n".join(lines)
