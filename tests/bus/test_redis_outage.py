"""The Redis bus through an outage: a private ``redis-server`` (no persistence) killed and restarted under it.

While Redis is away ``comments`` publishes are buffered up to ``outage_buffer`` records, then refused with
:class:`BusUnavailable` (nothing kept); depths report nothing instead of crashing; the status says ``down``.
When Redis is back (empty), the stages, streams and groups are re-created, what it lost is sent again and
a reader gets every record without anyone re-declaring anything.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from livecs.bus.base import BusUnavailable, Delivery
from livecs.bus.redis import RedisBus
from tests.bus.conftest import comments, fast_settings
from tests.chaos_support import PrivateRedis

TOPIC = "comments"
STAGE = "process"


async def read_all(bus: RedisBus, want: int, timeout: float = 15.0) -> list[Delivery]:
    got: dict[str, Delivery] = {}
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < want and asyncio.get_running_loop().time() < deadline:
        try:
            batch = await bus.read(TOPIC, STAGE, "c", 100, 50)
        except BusUnavailable:
            await asyncio.sleep(0.05)
            continue
        for d in batch:
            got[d.record.comment_id] = d  # type: ignore[union-attr]
        await bus.ack(TOPIC, STAGE, batch)
    return list(got.values())


async def test_outage_buffers_within_bounds_then_everything_is_delivered_after_a_restart(
    tmp_path: Path,
) -> None:
    with PrivateRedis(tmp_path) as redis:
        bus = RedisBus(redis.url, fast_settings(outage_buffer=100, batch_size=10))
        await bus.start()
        try:
            await bus.declare(TOPIC, STAGE)
            await bus.publish(TOPIC, "r1", "s", comments(20, "r1"))
            assert len(await read_all(bus, 20)) == 20
            assert await bus.outstanding(TOPIC) == 0  # read and acknowledged: the ledger let them go
            await bus.publish(TOPIC, "r1", "s", comments(5, "r1", start=20))  # sent, never read
            assert await bus.outstanding(TOPIC) == 5

            redis.kill()
            await bus.publish(TOPIC, "r1", "s", comments(90, "r1", start=25))  # buffered
            assert bus.status()["state"] == "down" and bus.status()["buffered"] == 90
            with pytest.raises(BusUnavailable):  # 90 + 20 > 100: refused, nothing of it kept
                await bus.publish(TOPIC, "r1", "s", comments(20, "r1", start=115))
            assert bus.status()["buffered"] == 90
            assert await bus.depths() == {}  # no crash while Redis is away
            with pytest.raises(BusUnavailable):
                await bus.read(TOPIC, STAGE, "c", 10, 10)
            assert not await bus.offer("results", "r1", "s", comments(1, "r1"))
            assert await bus.outstanding(TOPIC) == 95

            redis.start()  # empty: streams, groups, room and stage sets are gone
            got = await read_all(bus, 95)
            assert sorted(d.record.comment_id for d in got) == sorted(  # type: ignore[union-attr]
                c.comment_id for c in comments(95, "r1", start=20)
            )
            assert await bus.outstanding(TOPIC) == 0
            status = bus.status()
            assert status["state"] == "ok" and status["outages"] == 1 and status["resyncs"] == 1
            assert status["buffered"] == 0
            assert (await bus.depths()).get(f"{TOPIC}/{STAGE}") == 0
        finally:
            await bus.close()


async def test_a_stop_during_an_outage_takes_back_what_redis_may_have_lost(tmp_path: Path) -> None:
    with PrivateRedis(tmp_path) as redis:
        bus = RedisBus(redis.url, fast_settings(batch_size=10))
        await bus.start()
        try:
            await bus.declare(TOPIC, STAGE)
            await bus.publish(TOPIC, "r1", "s", comments(12, "r1"))  # sent, not yet acknowledged
            redis.kill()
            await bus.publish(TOPIC, "r1", "s", comments(8, "r1", start=12))  # buffered
            back = await bus.abandon(TOPIC)
            assert sorted(d.record.comment_id for d in back) == sorted(  # type: ignore[union-attr]
                c.comment_id for c in comments(20, "r1")
            )
            assert await bus.outstanding(TOPIC) == 0 and bus.status()["buffered"] == 0
        finally:
            await bus.close()
