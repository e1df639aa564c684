"""Shared ingest fixtures: a real :class:`Ingestor` whose bus is an in-memory list, and small helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import pytest

from livecs.ingest.settings import RecordLimits
from livecs.ingest.sink import Ingestor
from livecs.ingest.validate import Validator
from livecs.metrics import Counters
from livecs.models import Comment, LiveEvent, Record

#: text cap used by the collecting sink, small so truncation is easy to provoke
TEST_MAX_TEXT_CHARS = 50


@dataclass
class Collected:
    """A real ingest sink plus everything it published, in order."""

    sink: Ingestor
    counters: Counters
    published: list[tuple[str, str, Record]] = field(default_factory=list)
    sessions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def records(self) -> list[Record]:
        return [r for _, _, r in self.published]

    @property
    def comments(self) -> list[Comment]:
        return [r for r in self.records if isinstance(r, Comment)]

    @property
    def events(self) -> list[LiveEvent]:
        return [r for r in self.records if isinstance(r, LiveEvent)]

    @property
    def comment_ids(self) -> list[str]:
        return [c.comment_id for c in self.comments]


def make_collected(limits: RecordLimits | None = None, default_room: str | None = None) -> Collected:
    counters = Counters()
    published: list[tuple[str, str, Record]] = []
    sessions: list[tuple[str, str]] = []

    async def publish(room: str, session_id: str, records: Sequence[Comment | LiveEvent]) -> None:
        published.extend((room, session_id, r) for r in records)

    async def session_for(room: str, source: str) -> str:
        if (room, source) not in sessions:
            sessions.append((room, source))
        return f"s-{room}"

    sink = Ingestor(
        Validator(limits or RecordLimits(max_text_chars=TEST_MAX_TEXT_CHARS)),
        publish,
        session_for,
        counters,
        default_room=default_room,
    )
    return Collected(sink, counters, published, sessions)


@pytest.fixture
def make_sink() -> Callable[..., Collected]:
    """Factory: ``make_sink(limits=None, default_room=None)`` → a fresh :class:`Collected`."""
    return make_collected


@pytest.fixture
def collected() -> Collected:
    """A real :class:`Ingestor` (text cap :data:`TEST_MAX_TEXT_CHARS`) publishing into a list."""
    return make_collected()


#: how often :func:`until` re-checks its condition
POLL_S = 0.01


async def until(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Wait (polling) until ``condition()`` holds; fail the test after ``within_s`` seconds."""
    for _ in range(int(within_s / POLL_S)):
        if condition():
            return
        await asyncio.sleep(POLL_S)
    pytest.fail(f"condition not met within {within_s} s")


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    """``await wait_until(lambda: …, within_s=5)``."""
    return until
