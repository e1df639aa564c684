"""The in-process bus: what it does beyond the shared contract (see ``test_bus_contract.py``)."""

from __future__ import annotations

import asyncio

import pytest

from livecs.bus.base import open_bus
from livecs.bus.memory import MemoryBus

from .conftest import comments, fast_settings


async def test_open_bus_without_url_is_in_process() -> None:
    bus = await open_bus(None, fast_settings())
    assert isinstance(bus, MemoryBus)
    assert bus.name == "memory"
    await bus.close()


async def test_publish_needs_a_declared_stage_and_read_a_declared_stage() -> None:
    bus = MemoryBus(fast_settings())
    with pytest.raises(LookupError):
        await bus.publish("comments", "r1", "s", comments(1))
    await bus.declare("comments", "process")
    with pytest.raises(LookupError):
        await bus.read("comments", "other", "c1", 10, 10)


async def test_stage_declared_later_sees_only_later_records() -> None:
    bus = MemoryBus(fast_settings())
    await bus.declare("comments", "a")
    await bus.publish("comments", "r1", "s", comments(3))
    await bus.declare("comments", "b")
    await bus.publish("comments", "r1", "s", comments(2, start=3))
    assert len(await bus.read("comments", "a", "c", 10, 10)) == 5
    assert [d.record.comment_id for d in await bus.read("comments", "b", "c", 10, 10)] == ["r1-c3", "r1-c4"]  # type: ignore[attr-defined]


async def test_results_topic_is_bounded_by_results_queue_size() -> None:
    bus = MemoryBus(fast_settings(queue_size=100, results_queue_size=3))
    await bus.declare("results", "console")
    await bus.declare("comments", "process")
    assert await bus.offer("results", "r1", "s", comments(3)) is True
    assert await bus.offer("results", "r1", "s", comments(1)) is False
    assert await bus.offer("comments", "r1", "s", comments(50)) is True


async def test_topic_sizes_override_and_slowest_stage_sets_the_pace() -> None:
    bus = MemoryBus(fast_settings(), topic_sizes={"comments": 4})
    await bus.declare("comments", "fast")
    await bus.declare("comments", "slow")
    await bus.publish("comments", "r1", "s", comments(4))
    await bus.read("comments", "fast", "c", 10, 10)  # only one stage caught up
    blocked = asyncio.create_task(bus.publish("comments", "r1", "s", comments(1, start=4)))
    await asyncio.sleep(0.1)
    assert not blocked.done()
    await bus.read("comments", "slow", "c", 1, 10)
    await asyncio.wait_for(blocked, 1)


async def test_depths_drop_on_read_in_process() -> None:
    bus = MemoryBus(fast_settings())
    await bus.declare("comments", "process")
    await bus.publish("comments", "r1", "s", comments(5))
    got = await bus.read("comments", "process", "c", 2, 10)
    assert (await bus.depths())["comments/process"] == 3  # no redelivery in one process: read means taken
    await bus.ack("comments", "process", got)
    assert (await bus.depths())["comments/process"] == 3
