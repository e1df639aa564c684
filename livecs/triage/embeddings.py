"""Character n-gram embeddings learned from unlabelled comments (training time only; numpy).

Each n-gram feature of the model (character 1–3-grams) gets a short dense vector from the characters it keeps
company with in unlabelled text: a count matrix (n-gram × context character, counted once per comment, the
n-gram's own characters left out), positive PMI with smoothed context counts (Levy, Goldberg & Dagan 2015),
then a truncated SVD. N-grams that occur in the same kind of comment (露营车 and 钓台, both asked about
beside 多少/有货/链接) land close together, whether or not a labelled comment ever contained them.

The trainer uses the vectors as a low-rank part of a linear head (the sentiment head, chosen by room-CV):
the score of a comment is its sparse weights plus (sum of its n-grams' vectors) × V. As the sum is linear,
V is folded back into one weight row per n-gram (``vector @ V``), so the runtime model stays one sparse
gather and n-grams seen only in unlabelled text still carry a learned weight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


def is_ngram(feature: str) -> bool:
    """Character n-gram features (not the ``#tag``/``I:`` ones): what gets a vector."""
    return 0 < len(feature) <= 3 and not feature.startswith("#") and feature[:2] != "I:"


@dataclass(frozen=True)
class NgramEmbeddings:
    names: list[str]  # n-gram feature names
    vectors: np.ndarray  # len(names) × dim, float32, rows scaled so a typical comment's sum has norm ≈ 1


def learn_embeddings(
    feature_lists: Iterable[list[str]],
    dim: int = 64,
    contexts: int = 1_500,
    min_count: int = 5,
    smoothing: float = 0.75,
) -> NgramEmbeddings:
    """PPMI-SVD vectors for the n-grams seen in at least ``min_count`` of the unlabelled comments.

    ``contexts``: the most frequent single characters used as context; ``smoothing``: the exponent of the
    context distribution (0.75 gives rare contexts less pull)."""
    lists = [[f for f in feats if is_ngram(f)] for feats in feature_lists]
    lists = [fl for fl in lists if fl]
    counts = Counter(f for fl in lists for f in fl)
    names = sorted(f for f, n in counts.items() if n >= min_count)
    index = {f: i for i, f in enumerate(names)}
    chars = [f for f, _ in Counter(f for fl in lists for f in fl if len(f) == 1).most_common(contexts)]
    char_index = {c: i for i, c in enumerate(chars)}
    n_ctx = len(chars)
    cooc = np.zeros((len(names), n_ctx), dtype=np.float32)
    pair_rows: list[np.ndarray] = []
    pair_cols: list[np.ndarray] = []
    pending = 0

    def flush() -> None:
        nonlocal pending
        if not pair_rows:
            return
        flat = np.concatenate(pair_rows) * n_ctx + np.concatenate(pair_cols)
        cooc.reshape(-1)[:] += np.bincount(flat, minlength=cooc.size).astype(np.float32)
        pair_rows.clear()
        pair_cols.clear()
        pending = 0

    for fl in lists:
        rows = np.fromiter((index[f] for f in fl if f in index), dtype=np.int64)
        cols = np.fromiter((char_index[f] for f in fl if f in char_index), dtype=np.int64)
        if not len(rows) or not len(cols):
            continue
        pair_rows.append(np.repeat(rows, len(cols)))
        pair_cols.append(np.tile(cols, len(rows)))
        pending += len(rows) * len(cols)
        if pending > 20_000_000:
            flush()
    flush()
    # An n-gram's own characters are in every comment it is in: no information, left out.
    for i, name in enumerate(names):
        for ch in set(name):
            j = char_index.get(ch)
            if j is not None:
                cooc[i, j] = 0.0
    row_sum = cooc.sum(axis=1, keepdims=True)
    ctx = cooc.sum(axis=0) ** smoothing
    ctx_p = ctx / max(float(ctx.sum()), 1e-9)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log((cooc / np.maximum(row_sum, 1e-9)) / np.maximum(ctx_p, 1e-12)[None, :])
    ppmi = np.where(cooc > 0, np.maximum(pmi, 0.0), 0.0).astype(np.float64)
    del pmi
    # Truncated SVD through the small context × context Gram matrix.
    gram = ppmi.T @ ppmi
    eigval, eigvec = np.linalg.eigh(gram)
    top = np.argsort(eigval)[::-1][:dim]
    singular = np.sqrt(np.maximum(eigval[top], 1e-12))
    vectors = (ppmi @ eigvec[:, top]) / np.sqrt(singular)[None, :]  # U · S^½
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-9)
    mean_ngrams = float(np.mean([sum(f in index for f in fl) for fl in lists])) if lists else 1.0
    vectors /= np.sqrt(max(mean_ngrams, 1.0))
    return NgramEmbeddings(names, vectors.astype(np.float32))
