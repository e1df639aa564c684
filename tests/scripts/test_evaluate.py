"""Evaluation helpers: pairs, the keyword stand-in triage, the triage choice, the 300-script bench library."""

from __future__ import annotations

import json
import random
from pathlib import Path

from livecs.models import Intent, Sentiment
from livecs.scripts.evaluate import (
    KeywordFallbackTriage,
    bench,
    comment_for,
    library_files_near,
    load_pairs,
    make_triager,
    scaled_library,
)
from livecs.scripts.library import Library
from livecs.scripts.matcher import ScriptMatcher

from .conftest import APPAREL


def test_load_pairs_and_library_files(tmp_path: Path) -> None:
    path = tmp_path / "match_pairs.jsonl"
    path.write_text(
        json.dumps({"q": "包邮吗", "expected": "free_shipping"}, ensure_ascii=False)
        + "\n\n"
        + json.dumps({"q": "多少钱", "expected": ["a", "b"], "on_air": 3}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    pairs = load_pairs(path)
    assert [(p.expected, p.on_air) for p in pairs] == [(("free_shipping",), None), (("a", "b"), 3)]
    assert [p.name for p in library_files_near(APPAREL / "match_pairs.jsonl")] == [
        "catalogue.yaml",
        "coupons.yaml",
        "library.yaml",
    ]


def test_keyword_fallback_triage(apparel_library: Library) -> None:
    triage = KeywordFallbackTriage(ScriptMatcher(apparel_library, rng=random.Random(0)))
    t = triage(comment_for("包邮吗", 0), 0.0)
    assert (t.intent, t.sentiment) == (Intent.LOGISTICS, Sentiment.NEU)
    angry = triage(comment_for("骗子 差评", 1), 0.0)
    assert (angry.intent, angry.sentiment, angry.emotion.value) == (Intent.COMPLAINT, Sentiment.NEG, "angry")
    assert triage(comment_for("", 2), 0.0).intent is Intent.CHITCHAT


def test_make_triager_modes(apparel_library: Library) -> None:
    matcher = ScriptMatcher(apparel_library)
    _, name = make_triager(matcher, "keyword")
    assert name.startswith("keyword fallback")
    _, auto = make_triager(matcher, "auto")
    assert auto  # the engine when it starts, else the stand-in, and it says which


def test_scaled_library_and_bench(apparel_library: Library) -> None:
    lib = scaled_library(apparel_library, 120)
    assert len(lib.scripts) == 120 and len({s.id for s in lib.scripts}) == 120
    result = bench(apparel_library, ["包邮吗", "165/110斤穿什么码"], rounds=1)
    assert result.scripts == 300 and result.comments == 2
    assert result.median_us_unique > 0 and result.median_us_cached > 0
