"""The learned part of triage: three linear softmax heads (intent; sentiment, emotion) on shared features.

Weights live in ``data/model.npz`` (written by ``python run.py train``). Sentiment and emotion heads also see
the predicted intent as one extra feature (``I:<intent>``).
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import add, sub, truediv
from pathlib import Path

import numpy as np

from livecs.paths import TRIAGE_DATA_DIR
from livecs.triage.features import INTENT_FEATURE_PREFIX

_add_reduce = np.add.reduce
MODEL_FILE = TRIAGE_DATA_DIR / "model.npz"
INTENT_LABELS = (
    "product", "price_promo", "order", "logistics", "payment",
    "after_sales", "complaint", "buy_signal", "chitchat", "spam",
)  # fmt: skip
SENTIMENT_LABELS = ("pos", "neu", "neg")
EMOTION_LABELS = ("angry", "anxious", "confused", "disappointed")


def softmax(logits: list[float]) -> list[float]:
    """Plain-Python softmax (faster than numpy for a handful of classes; C-level maps, no Python loop)."""
    exps = list(map(math.exp, map(sub, logits, repeat(max(logits)))))
    return list(map(truediv, exps, repeat(sum(exps))))


def argmax(values: list[float]) -> int:
    """Index of the first largest value."""
    return values.index(max(values))


class LinearModel:
    """Feature-name vocabulary + one weight matrix (intent | sentiment | emotion columns)."""

    def __init__(
        self,
        vocabulary: list[str],
        weights: np.ndarray,
        intent_bias: np.ndarray,
        sentiment_bias: np.ndarray,
        emotion_bias: np.ndarray,
    ) -> None:
        self.index = {name: i for i, name in enumerate(vocabulary)}
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.intent_bias = intent_bias.astype(np.float32)
        self.sentiment_bias = sentiment_bias.astype(np.float32)
        self.emotion_bias = emotion_bias.astype(np.float32)
        self._intent_bias = [float(x) for x in self.intent_bias]
        self._sentiment_bias = [float(x) for x in self.sentiment_bias]
        self._emotion_bias = [float(x) for x in self.emotion_bias]
        n_intent, n_sent = len(INTENT_LABELS), len(SENTIMENT_LABELS)
        self._intent_cols = slice(0, n_intent)
        self._sent_cols = slice(n_intent, n_intent + n_sent)
        self._emo_cols = slice(n_intent + n_sent, n_intent + n_sent + len(EMOTION_LABELS))
        self._n_intent, self._n_sent = n_intent, n_sent
        zero = [0.0] * self.weights.shape[1]
        self._intent_rows = [
            self.weights[self.index[INTENT_FEATURE_PREFIX + label]].tolist()
            if INTENT_FEATURE_PREFIX + label in self.index
            else zero
            for label in INTENT_LABELS
        ]
        # Hot-path forms: a trailing zero row for unknown features (lookups without a filter) and, per intent,
        # the intent row plus the head's bias for the sentiment and emotion columns.
        n_cols = self.weights.shape[1]
        self._gather = np.vstack([self.weights, np.zeros((1, n_cols), dtype=np.float32)])
        self._unknown_row = len(self.weights)
        mid = n_intent + n_sent
        self._sent_add = [
            [r + b for r, b in zip(row[n_intent:mid], self._sentiment_bias, strict=True)]
            for row in self._intent_rows
        ]
        self._emo_add = [
            [r + b for r, b in zip(row[mid:], self._emotion_bias, strict=True)] for row in self._intent_rows
        ]

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> LinearModel:
        with np.load(path, allow_pickle=False) as data:
            vocabulary = str(data["vocabulary"]).split("\n")
            return cls(
                vocabulary,
                data["weights"],
                data["intent_bias"],
                data["sentiment_bias"],
                data["emotion_bias"],
            )

    def save(self, path: Path = MODEL_FILE) -> None:
        vocabulary = [""] * len(self.index)
        for name, i in self.index.items():
            vocabulary[i] = name
        np.savez_compressed(
            path,
            vocabulary=np.array("\n".join(vocabulary)),
            weights=self.weights.astype(np.float16),
            intent_bias=self.intent_bias,
            sentiment_bias=self.sentiment_bias,
            emotion_bias=self.emotion_bias,
        )

    def feature_sum(self, features: list[str]) -> list[float]:
        """Summed weight rows of the known features (one numpy gather, then plain floats)."""
        if not features:
            return [0.0] * self.weights.shape[1]
        rows = list(map(self.index.get, features, repeat(self._unknown_row)))  # unknown -> the zero row
        return _add_reduce(self._gather.take(rows, axis=0)).tolist()  # type: ignore[no-any-return]

    def intent_logits(self, summed: list[float]) -> list[float]:
        return list(map(add, summed[self._intent_cols], self._intent_bias))

    def affect(self, summed: list[float], intent: int) -> tuple[list[float], list[float]]:
        """Sentiment and emotion probabilities given the chosen intent's index."""
        start, mid = self._n_intent, self._n_intent + self._n_sent
        sentiment = softmax(list(map(add, summed[start:mid], self._sent_add[intent])))
        emotion = softmax(list(map(add, summed[mid:], self._emo_add[intent])))
        return sentiment, emotion


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
