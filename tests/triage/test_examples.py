"""Training data: the hand-written file parses, splits are stable, no development-set line is copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from livecs.paths import SHARED_DIR
from livecs.triage.examples import dev_split, load_hand_examples, load_jsonl, review_split
from livecs.triage.model import EMOTION_LABELS, INTENT_LABELS, SENTIMENT_LABELS
from livecs.triage.template_examples import synthetic_examples

DEV_FILE = SHARED_DIR / "data" / "dev_comments.jsonl"


def test_hand_examples_use_taxonomy_labels() -> None:
    examples = load_hand_examples()
    assert len(examples) > 1000
    for e in examples:
        assert e.intent in INTENT_LABELS and e.sentiment in SENTIMENT_LABELS
        assert e.emotion in ("", *EMOTION_LABELS)
        assert not e.emotion or e.sentiment == "neg"


def test_splits_are_stable() -> None:
    assert review_split("质量很好") == review_split("质量很好")
    assert {dev_split(f"问题{i}") for i in range(50)} == {"tune", "heldout"}


@pytest.mark.skipif(
    not DEV_FILE.exists() and os.environ.get("CI") != "true",
    reason="development set not present (../shared is beside the repo in CI, where this never skips)",
)
def test_no_development_line_in_training_data() -> None:
    dev = {r.text for r in load_jsonl(DEV_FILE)}
    training = [e.text for e in load_hand_examples()] + [e.text for e in synthetic_examples(13)]
    assert [t for t in training if t in dev] == []


def test_synthetic_emotion_examples_cover_every_negative_emotion() -> None:
    emotional = [e for e in synthetic_examples(13) if e.emotion]
    assert {e.emotion for e in emotional} >= {"anxious", "confused", "disappointed", "angry"}
    assert all(e.sentiment == "neg" for e in emotional)
    assert {e.intent for e in emotional if e.emotion == "anxious"} >= {"logistics", "payment", "chitchat"}


def test_every_hand_file_is_loaded_and_bad_headers_are_named(tmp_path: Path) -> None:
    from livecs.triage.examples import hand_example_files

    files = hand_example_files()
    assert files[0].name.startswith("examples") and all(f.suffix == ".txt" for f in files)
    assert len(load_hand_examples()) == sum(len(load_hand_examples(f)) for f in files)
    bad = tmp_path / "examples_bad.txt"
    bad.write_text("## product neu\n有S码吗\n## produkt neu\n几号链接\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"examples_bad\.txt:3"):
        load_hand_examples(bad)
    bad.write_text("## product neu confused\n有S码吗\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"examples_bad\.txt:1"):
        load_hand_examples(bad)
