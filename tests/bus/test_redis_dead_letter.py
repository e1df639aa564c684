"""Poison entries on the Redis bus: bounded deliveries, then the room's dead-letter stream.

An entry that is never acknowledged is handed out at most ``max_deliveries`` times (the first read plus
reclaims); the next reclaim copies it, whole and with where it came from, to ``keys.dead_letter(room)`` and
acknowledges it. Healthy entries and a dead consumer's entries below the limit flow as before.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
import redis.asyncio as aioredis

from livecs import keys
from livecs.bus.base import Delivery
from livecs.bus.redis import DL_DELIVERIES, DL_GROUP, DL_ID, DL_STREAM, RedisBus
from livecs.config import ConfigError, load_settings

from .conftest import RedisBusFactory, comments

TOPIC = "comments"
STAGE = "store"
#: Reclaim quickly: an unacknowledged entry is claimed again 100 ms after its last delivery.
QUICK: dict[str, Any] = {"reclaim_idle_ms": 100, "reclaim_interval_s": 0.02, "max_deliveries": 2}
DEADLINE_S = 2.5


def cids(deliveries: list[Delivery]) -> list[str]:
    return [getattr(d.record, "comment_id", "") for d in deliveries]


async def entries(client: aioredis.Redis, stream: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    got: Any = await client.xrange(stream)
    return [(entry_id, fields) for entry_id, fields in got]


async def pending(client: aioredis.Redis, room: str) -> int:
    return int((await client.xpending(keys.stream(TOPIC, room), keys.group(STAGE)))["pending"])


@pytest.mark.redis
async def test_a_never_acked_entry_is_dead_lettered_after_max_deliveries(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = await make_redis_bus(**QUICK)
    await bus.declare(TOPIC, STAGE)
    poison, *healthy = comments(4)
    await bus.publish(TOPIC, "r1", "s-1", [poison])  # one entry
    await bus.publish(TOPIC, "r1", "s-1", healthy)  # another
    stream = keys.stream(TOPIC, "r1")
    (poison_entry, healthy_entry) = await entries(redis_client, stream)

    poison_deliveries = 0
    healthy_seen: list[str] = []
    caplog.set_level(logging.WARNING, logger="livecs.bus.redis")
    deadline = time.monotonic() + DEADLINE_S
    while bus.dead_lettered == 0 and time.monotonic() < deadline:
        batch = await bus.read(TOPIC, STAGE, "worker", 10, 20)
        bad = [d for d in batch if cids([d]) == [poison.comment_id]]
        good = [d for d in batch if d not in bad]
        poison_deliveries += len(bad)  # crashes the worker: never acknowledged
        healthy_seen += cids(good)
        await bus.ack(TOPIC, STAGE, good)

    assert bus.dead_lettered == 1
    assert bus.health()["dead_lettered"] == 1  # what the pipeline copies into its counters ("bus")
    assert poison_deliveries == 2  # the first read and one reclaim, then no more
    assert healthy_seen == [c.comment_id for c in healthy]  # delivered once, acknowledged
    assert await pending(redis_client, "r1") == 0  # XPENDING empty: the poison entry is acknowledged
    ((_, dead),) = await entries(redis_client, keys.dead_letter("r1"))
    assert dead == {
        **poison_entry[1],  # the original fields, byte for byte (the payload)
        DL_STREAM: stream.encode(),
        DL_ID: poison_entry[0],
        DL_GROUP: keys.group(STAGE).encode(),
        DL_DELIVERIES: b"2",
    }
    assert healthy_entry[1] != poison_entry[1]
    assert bus.dropped == {}
    warnings = [r for r in caplog.records if "dead-letter" in r.getMessage()]
    assert len(warnings) == 1 and poison_entry[0].decode() in warnings[0].getMessage()
    await asyncio.sleep(0.15)  # past reclaim_idle_ms: nothing left to hand out or dead-letter
    assert await bus.read(TOPIC, STAGE, "worker", 10, 20) == []
    assert bus.dead_lettered == 1
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 0}


@pytest.mark.redis
async def test_a_dead_consumers_entries_below_the_limit_are_still_reclaimed(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    dead = await make_redis_bus(**QUICK)
    await dead.declare(TOPIC, STAGE)
    await dead.publish(TOPIC, "r1", "s", comments(5))
    assert len(await dead.read(TOPIC, STAGE, "dead", 10, 50)) == 5  # delivery 1, never acknowledged
    await dead.close()
    heir = await make_redis_bus(**QUICK)
    got: list[Delivery] = []
    deadline = time.monotonic() + DEADLINE_S
    while not got and time.monotonic() < deadline:
        got = await heir.read(TOPIC, STAGE, "heir", 10, 20)
    assert cids(got) == [c.comment_id for c in comments(5)]  # delivery 2 = max_deliveries: handed out
    await heir.ack(TOPIC, STAGE, got)
    assert heir.dead_lettered == 0
    assert await pending(redis_client, "r1") == 0
    assert await redis_client.exists(keys.dead_letter("r1")) == 0


@pytest.mark.redis
async def test_the_dead_letter_stream_is_capped_and_keeps_whole_entries(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = await make_redis_bus(
        reclaim_idle_ms=50, reclaim_interval_s=0.02, max_deliveries=1, dead_letter_maxlen=10, batch_size=3
    )
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r2", "s", comments(450, "r2"))  # 150 entries of 3 records
    taken = await bus.read(TOPIC, STAGE, "worker", 1000, 50)
    assert len(taken) == 450  # delivered once each, never acknowledged
    caplog.set_level(logging.WARNING, logger="livecs.bus.redis")
    await asyncio.sleep(0.08)
    assert await bus.read(TOPIC, STAGE, "worker", 1000, 20) == []  # max_deliveries=1: none comes back
    assert bus.dead_lettered == 150  # entries, moved in one sweep
    assert await pending(redis_client, "r2") == 0
    kept = await entries(redis_client, keys.dead_letter("r2"))
    assert 10 <= len(kept) < 150  # approximate MAXLEN: whole radix-tree nodes are trimmed
    originals = dict(await entries(redis_client, keys.stream(TOPIC, "r2")))
    for _, fields in kept:
        assert fields[b"e"] == originals[fields[DL_ID]][b"e"]  # whole entries: all three records
        assert fields[DL_DELIVERIES] == b"1"
    assert kept[-1][1][DL_ID] == list(originals)[-1]  # the newest survive
    assert len([r for r in caplog.records if "dead-letter" in r.getMessage()]) == 1  # throttled


async def test_max_deliveries_is_configurable_and_validated() -> None:
    assert load_settings(environ={}).bus.max_deliveries == 5
    settings = load_settings(environ={"LIVECS_BUS__MAX_DELIVERIES": "3"})
    assert settings.bus.max_deliveries == 3
    assert RedisBus("redis://127.0.0.1:6379/15", settings.bus).settings.max_deliveries == 3
    with pytest.raises(ConfigError) as exc:
        load_settings(environ={"LIVECS_BUS__MAX_DELIVERIES": "0"})
    assert "bus.max_deliveries" in str(exc.value) and "LIVECS_BUS__MAX_DELIVERIES" in str(exc.value)
    with pytest.raises(ConfigError, match="LIVECS_BUS__DEAD_LETTER_MAXLEN"):
        load_settings(environ={"LIVECS_BUS__DEAD_LETTER_MAXLEN": "0"})


@pytest.mark.redis
async def test_an_entry_whose_copy_fails_stays_pending_until_it_can_be_copied(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = await make_redis_bus(reclaim_idle_ms=50, reclaim_interval_s=0.02, max_deliveries=1)
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r3", "s", comments(2, "r3"))
    await redis_client.set(keys.dead_letter("r3"), "not a stream")  # XADD fails with WRONGTYPE
    assert len(await bus.read(TOPIC, STAGE, "worker", 10, 50)) == 2
    caplog.set_level(logging.WARNING, logger="livecs.bus.redis")
    await asyncio.sleep(0.08)
    assert await bus.read(TOPIC, STAGE, "worker", 10, 20) == []  # not handed out again...
    assert bus.dead_lettered == 0
    assert await pending(redis_client, "r3") == 1  # ...and not acknowledged without its copy
    assert any("stays pending" in r.getMessage() for r in caplog.records)
    await redis_client.delete(keys.dead_letter("r3"))
    await asyncio.sleep(0.08)
    assert await bus.read(TOPIC, STAGE, "worker", 10, 20) == []
    assert bus.dead_lettered == 1
    assert await pending(redis_client, "r3") == 0
    ((_, dead),) = await entries(redis_client, keys.dead_letter("r3"))
    assert dead[DL_DELIVERIES] == b"2"  # the claim of the failed attempt is counted too
