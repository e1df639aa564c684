"""Bus test helpers: sample records of every type, fast settings, and bus factories that clean up.

The Redis factories depend on the ``redis_client`` fixture, so the test database is flushed before and after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from livecs.bus.base import Bus
from livecs.bus.memory import MemoryBus
from livecs.bus.redis import RedisBus
from livecs.config import BusSettings
from livecs.models import (
    ActionKind,
    Comment,
    Emotion,
    EventKind,
    Intent,
    LiveEvent,
    MemberTier,
    OperatorAction,
    Priority,
    Record,
    Sentiment,
    Suggestion,
    Triage,
)

#: Settings that keep the bus tests quick: short waits, fast lag checks and reclaims.
FAST: dict[str, Any] = {
    "block_ms": 50,
    "batch_size": 100,
    "lag_check_interval_s": 0.02,
    "reclaim_idle_ms": 200,
    "reclaim_interval_s": 0.05,
}

BusFactory = Callable[..., Awaitable[Bus]]
RedisBusFactory = Callable[..., Awaitable[RedisBus]]


def fast_settings(**overrides: Any) -> BusSettings:
    return BusSettings(**{**FAST, **overrides})


def comment(i: int, room: str = "r1") -> Comment:
    return Comment(
        comment_id=f"{room}-c{i}",
        platform="douyin",
        room=room,
        user_id=f"u{i % 7}",
        nickname=f"观众{i}",
        text=f"链接{i % 5}还有货吗？",
        ts=1_700_000_000.0 + i / 10,
        member_tier=MemberTier(i % 5),
        fan_level=i % 20,
        received_at=1_700_000_000.5 + i / 10,
    )


def comments(n: int, room: str = "r1", start: int = 0) -> list[Comment]:
    return [comment(i, room) for i in range(start, start + n)]


def every_record_type(room: str = "r1") -> list[Record]:
    """One record of each kind, with enums, lists, nested dicts, unicode and ``None``."""
    return [
        Comment(
            comment_id="c-1",
            platform="douyin",
            room=room,
            user_id="u-1",
            nickname="小红🌸",
            text="3号链接什么时候发货？\n急",
            ts=1_700_000_000.25,
            member_tier=MemberTier.VIP,
            fan_level=12,
            truncated=True,
            extras={"badge": ["舰长", 3], "raw": {"x": None, "y": 1.5}},
            received_at=1_700_000_000.5,
        ),
        LiveEvent(
            event_id="e-1",
            platform="kuaishou",
            room=room,
            kind=EventKind.ORDER_PAID,
            ts=1_700_000_001.0,
            user_id="u-2",
            nickname="买家",
            member_tier=MemberTier.FAN,
            data={"order_id": "o-9", "link": 3, "quantity": 2, "amount": 59.8},
            received_at=1_700_000_001.5,
        ),
        Triage(
            comment_id="c-1",
            room=room,
            normalized="3号链接什么时候发货",
            intent=Intent.LOGISTICS,
            intent_confidence=0.91,
            sentiment=Sentiment.NEG,
            sentiment_score=0.2,
            emotion=Emotion.ANXIOUS,
            cluster_id="k-4",
            cluster_size=17,
            priority=Priority.P1,
            sla_deadline=None,
            reasons=["logistics keyword", "member VIP"],
        ),
        Suggestion(
            suggestion_id="s-1",
            room=room,
            comment_id="c-1",
            priority=Priority.MOD,
            reply="亲，3号链接48小时内发货哦～",
            script_id="ship-48h",
            score=0.8,
            why=["intent logistics"],
            created_at=1_700_000_002.0,
        ),
        OperatorAction(
            action_id="a-1",
            room=room,
            operator="op-1",
            kind=ActionKind.ISSUE_COUPON,
            target_id="s-1",
            ts=1_700_000_003.0,
            text="已发券",
            coupon_rule_id="cr-5",
            user_id="u-1",
            delivery_status="sent",
        ),
    ]


@pytest.fixture
async def make_redis_bus(redis_client: Any, redis_url: str) -> AsyncIterator[RedisBusFactory]:
    """Started :class:`RedisBus` instances on the flushed test database (closed after the test)."""
    made: list[RedisBus] = []

    async def make(**overrides: Any) -> RedisBus:
        bus = RedisBus(redis_url, fast_settings(**overrides))
        await bus.start()
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


@pytest.fixture(params=["memory", "redis"])
def bus_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis_client")  # flushes the test database around the test
    return str(request.param)


@pytest.fixture
async def make_bus(bus_kind: str, redis_url: str) -> AsyncIterator[BusFactory]:
    """A factory for the bus under test (parametrised: in-process and Redis). Instances share one Redis DB;
    in-process instances are independent, so contract tests use a single instance."""
    made: list[Bus] = []

    async def make(**overrides: Any) -> Bus:
        settings = fast_settings(**overrides)
        bus: Bus = MemoryBus(settings) if bus_kind == "memory" else RedisBus(redis_url, settings)
        await bus.start()
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()
