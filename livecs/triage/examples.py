"""Labelled data: the hand-written training file, taxonomy JSONL files, real review CSVs (hash-split).

Review rows are split by a stable hash of their text: :func:`review_split` says which rows the trainer may
use and which are kept for evaluation, so ``eval`` never scores a review the model was trained on.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from livecs.paths import TRIAGE_DATA_DIR
from livecs.triage.model import EMOTION_LABELS, INTENT_LABELS, SENTIMENT_LABELS

EXAMPLES_FILE = TRIAGE_DATA_DIR / "examples.txt"
EXAMPLES_GLOB = "examples*.txt"  # every hand-written training file (examples.txt, examples_<slice>.txt)
# Share of review rows held out for evaluation (by text hash); the rest may be used for training.
REVIEW_EVAL_BUCKETS = 1  # out of REVIEW_HASH_BUCKETS
REVIEW_HASH_BUCKETS = 5


@dataclass(frozen=True, slots=True)
class LabelledExample:
    text: str
    intent: str
    sentiment: str
    emotion: str = ""
    source: str = "hand"
    room: str = ""  # real labelled comments: their room (room-held-out validation groups by it)


@dataclass(frozen=True, slots=True)
class LabelledReview:
    text: str
    positive: bool


def stable_bucket(text: str, buckets: int) -> int:
    """A bucket in ``range(buckets)`` from the MD5 of the text (stable across runs and machines)."""
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:4], "big") % buckets


def review_split(text: str) -> str:
    """``"eval"`` for held-out review rows, ``"train"`` for the rest."""
    return "eval" if stable_bucket(text, REVIEW_HASH_BUCKETS) < REVIEW_EVAL_BUCKETS else "train"


def dev_split(text: str) -> str:
    """Development-set half: ``"tune"`` (errors may be inspected) or ``"heldout"`` (never tuned on)."""
    return "tune" if hashlib.md5(text.encode("utf-8")).digest()[0] % 2 == 0 else "heldout"


def hand_example_files() -> list[Path]:
    """The hand-written training files, in a stable order."""
    return sorted(TRIAGE_DATA_DIR.glob(EXAMPLES_GLOB))


def load_hand_examples(path: Path | None = None) -> list[LabelledExample]:
    """Parse ``## intent sentiment [emotion]`` sections of one comment a line (all hand files by default).

    A header with an unknown label, or an emotion on a non-negative section, is an error naming the file
    and line.
    """
    if path is None:
        return [example for file in hand_example_files() for example in load_hand_examples(file)]
    out: list[LabelledExample] = []
    intent, sentiment, emotion = "", "neu", ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("##")):
            continue
        if line.startswith("## "):
            parts = line[3:].split()
            intent, sentiment = parts[0], parts[1] if len(parts) > 1 else ""
            emotion = parts[2] if len(parts) > 2 else ""
            if (
                intent not in INTENT_LABELS
                or sentiment not in SENTIMENT_LABELS
                or len(parts) > 3
                or (emotion and (emotion not in EMOTION_LABELS or sentiment != "neg"))
            ):
                raise ValueError(f"{path.name}:{number}: bad section header {line!r}")
            continue
        if intent:
            out.append(LabelledExample(line, intent, sentiment, emotion, "hand"))
    return out


def load_jsonl(path: str | Path) -> list[LabelledExample]:
    """Taxonomy-format JSON Lines (``text``, ``intent``, ``sentiment``, ``emotion``); blank lines skipped."""
    out: list[LabelledExample] = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{line_no}: not JSON ({exc})") from exc
            out.append(
                LabelledExample(
                    str(row.get("text", "")),
                    str(row.get("intent", "")),
                    str(row.get("sentiment", "")),
                    str(row.get("emotion", "") or ""),
                    "file",
                )
            )
    return out


def iter_reviews(path: str | Path) -> Iterator[LabelledReview]:
    """Rows of a ``label,review`` CSV (other columns ignored); BOMs stripped, empty reviews skipped."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("review") or "").replace("\ufeff", "").strip()
            label = (row.get("label") or "").strip()
            if text and label in ("0", "1"):
                yield LabelledReview(text, label == "1")
