"""Shared triage fixtures: the merged default settings and a fresh engine per test; a comment factory."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from livecs.config import load_settings
from livecs.models import Comment, MemberTier
from livecs.triage.engine import TriageEngine
from livecs.triage.model import MODEL_FILE, LinearModel
from livecs.triage.settings import TriageSettings


@pytest.fixture(scope="session")
def base_config() -> TriageSettings:
    return load_settings(environ={}).triage


@pytest.fixture(scope="session")
def model() -> LinearModel:
    return LinearModel.load(MODEL_FILE)


@pytest.fixture
def engine(base_config: TriageSettings, model: LinearModel) -> TriageEngine:
    return TriageEngine(base_config, model=model)


CommentFactory = Callable[..., Comment]


@pytest.fixture
def make_comment() -> CommentFactory:
    counter = iter(range(1_000_000))

    def make(
        text: str,
        *,
        user: str = "u1",
        room: str = "r1",
        ts: float = 1000.0,
        tier: MemberTier = MemberTier.NONE,
    ) -> Comment:
        return Comment(
            comment_id=f"c{next(counter)}", platform="test", room=room, user_id=user, nickname="",
            text=text, ts=ts, member_tier=tier,
        )  # fmt: skip

    return make
