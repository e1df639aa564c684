"""Real labelled comments: labels shipped in the repository, joined with the real rooms beside it.

The real rooms (``../shared/data/real/commerce_rooms_dev.csv``) carry no licence, so their text never enters
the repository. Labels are stored keyed by room and row with a short hash of the text
(``data/real_labels/*.jsonl``: ``{"room", "row", "text_sha1", "intent", "sentiment", "emotion", ...}``) and
joined with the rooms file at training and evaluation time when it is present; the shared annotator's file
(``commerce_dev_labels.jsonl``, which carries its text) is read from beside it. Without ``../shared`` the
trainer falls back to the hand-written data and says so.

The shared folder is ``../shared`` beside the repository, or ``$LIVECS_SHARED`` when set (a worktree or a
checkout somewhere else): :data:`SHARED_DIR`, read once at import.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from livecs.paths import SHARED_DIR, TRIAGE_DATA_DIR
from livecs.triage.examples import LabelledExample
from livecs.triage.rooms import Label, RoomRow, read_labels, read_rooms

REAL_DIR = SHARED_DIR / "data" / "real"
ROOMS_FILE = REAL_DIR / "commerce_rooms_dev.csv"
SHARED_LABELS = REAL_DIR / "commerce_dev_labels.jsonl"
LABELS_DIR = TRIAGE_DATA_DIR / "real_labels"


def label_files(include_shared: bool = True) -> list[Path]:
    """The label files in join order (later files win): the shared annotator's, then ours."""
    files = [SHARED_LABELS] if include_shared and SHARED_LABELS.exists() else []
    return files + sorted(LABELS_DIR.glob("*.jsonl"))


@dataclass
class RealData:
    rows: list[RoomRow]
    labels: dict[tuple[str, int], Label]
    skipped: Counter[str]

    def examples(self, exclude_rooms: frozenset[str] = frozenset()) -> list[LabelledExample]:
        by_key = {(r.room, r.row): r for r in self.rows}
        return [
            LabelledExample(by_key[key].text, lab.intent, lab.sentiment, lab.emotion, "real", key[0])
            for key, lab in sorted(self.labels.items(), key=lambda kv: kv[0][1])
            if key[0] not in exclude_rooms and key in by_key
        ]


def load_real_data(rooms_file: Path = ROOMS_FILE, files: list[Path] | None = None) -> RealData | None:
    """The rooms and their labels, or None when the rooms file is not there."""
    if not rooms_file.exists():
        return None
    rows = read_rooms(rooms_file)
    labels, skipped = read_labels(files if files is not None else label_files(), rows)
    return RealData(rows, labels, skipped)
