"""Fixtures for the scripts tests: the sample libraries, loaded once, and hand-built comments/triage."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from livecs.models import Comment, Emotion, Intent, MemberTier, Priority, Sentiment, Triage
from livecs.scripts.library import Library
from livecs.scripts.matcher import ScriptMatcher
from livecs.scripts.validate import load_files

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "scripts_library"
APPAREL = SAMPLES / "apparel"
SKINCARE = SAMPLES / "skincare"
NOW = 1_750_000_000.0


def yaml_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


@pytest.fixture(scope="session")
def apparel_library() -> Library:
    result = load_files(yaml_files(APPAREL))
    assert result.library is not None, [i.format() for i in result.issues]
    return result.library


@pytest.fixture(scope="session")
def skincare_library() -> Library:
    result = load_files(yaml_files(SKINCARE))
    assert result.library is not None, [i.format() for i in result.issues]
    return result.library


@pytest.fixture
def apparel_matcher(apparel_library: Library) -> ScriptMatcher:
    lib = apparel_library.model_copy(deep=True)
    return ScriptMatcher(lib, rng=random.Random(42))


def make_comment(
    text: str,
    *,
    tier: MemberTier = MemberTier.NONE,
    nickname: str = "小鱼",
    cid: str = "c1",
    **extras: object,
) -> Comment:
    return Comment(
        comment_id=cid,
        platform="test",
        room="room1",
        user_id="u1",
        nickname=nickname,
        text=text,
        ts=NOW,
        member_tier=tier,
        extras=dict(extras),
    )


def make_triage(
    text: str,
    intent: Intent,
    sentiment: Sentiment = Sentiment.NEU,
    emotion: Emotion = Emotion.NONE,
    cluster_size: int = 1,
) -> Triage:
    return Triage(
        comment_id="c1",
        room="room1",
        normalized=text,
        intent=intent,
        intent_confidence=0.9,
        sentiment=sentiment,
        sentiment_score=0.2 if sentiment is Sentiment.NEG else 0.5,
        emotion=emotion,
        cluster_id="k1",
        cluster_size=cluster_size,
        priority=Priority.P2,
    )
