"""N-gram vectors from unlabelled text, and their low-rank part folded into the linear heads."""

from __future__ import annotations

import numpy as np

from livecs.triage.embeddings import is_ngram, learn_embeddings
from livecs.triage.features import text_features
from livecs.triage.lexicon import LexiconHits
from livecs.triage.train import TrainSettings, _to_matrix, train_softmax

# Two goods asked about the same ways, and two kinds of cheering: no line shares a character across groups.
_GOODS = ("苹果", "香蕉", "葡萄", "橙子")
_ASKS = ("多少钱", "有货吗", "怎么卖", "几斤发", "甜不甜")
_CHEERS = ("哈哈哈", "嘿嘿嘿", "冲冲冲")
_TAILS = ("主播好看", "晚上好呀", "太逗了啊")


def _corpus() -> list[list[str]]:
    lines = [g + a for g in _GOODS for a in _ASKS] + [c + t for c in _CHEERS for t in _TAILS]
    return [text_features(line, LexiconHits()) for line in lines * 3]


def _cosine(vectors: np.ndarray, names: list[str], a: str, b: str) -> float:
    va, vb = vectors[names.index(a)], vectors[names.index(b)]
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def test_only_character_ngrams_get_a_vector() -> None:
    assert is_ngram("苹果") and is_ngram("^苹") and is_ngram("吗$")
    assert not is_ngram("#q") and not is_ngram("I:product") and not is_ngram("四个字啊")


def test_ngrams_of_the_same_kind_of_comment_land_close() -> None:
    learned = learn_embeddings(_corpus(), dim=4, contexts=50, min_count=2)
    assert learned.vectors.shape == (len(learned.names), 4)
    assert _cosine(learned.vectors, learned.names, "苹果", "香蕉") > 0.9
    assert (
        _cosine(learned.vectors, learned.names, "苹果", "香蕉")
        > _cosine(learned.vectors, learned.names, "苹果", "哈哈") + 0.5
    )


def test_an_ngram_never_labelled_gets_a_weight_through_its_vector() -> None:
    learned = learn_embeddings(_corpus(), dim=4, contexts=50, min_count=2)
    index = {name: i for i, name in enumerate(learned.names)}
    # Labelled: only the 苹果 / 葡萄 questions (class 0) and the 哈哈 cheers (class 1); 香蕉 never appears.
    rows = [[index["苹果"]], [index["葡萄"]], [index["哈哈"]], [index["嘿嘿"]]]
    labels = np.array([0, 0, 1, 1])
    settings = TrainSettings(epochs=150, learning_rate=0.05)
    plain, _ = train_softmax(_to_matrix(rows), labels, np.ones(4), len(learned.names), 2, settings)
    folded, _ = train_softmax(
        _to_matrix(rows), labels, np.ones(4), len(learned.names), 2, settings, learned.vectors * 3
    )
    banana = index["香蕉"]
    assert plain[banana, 0] == plain[banana, 1] == 0.0  # no labelled row: nothing learned without vectors
    assert folded[banana, 0] - folded[banana, 1] > 0.5  # with them: leans to the goods' class
