"""The Redis Streams bus on the real test server: layout, trimming, backpressure, bad entries, reclaiming.

Beyond the shared contract (``test_bus_contract.py``): per-room streams and registries, MAXLEN trimming that
never removes unread entries, undecodable and trimmed entries counted and acknowledged, and a consumer that
dies mid-stream — in this process and as a real OS process killed with SIGKILL — whose pending entries
another consumer reclaims, with every comment recorded exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from livecs import keys
from livecs.bus.base import Delivery, open_bus
from livecs.bus.redis import DROP_TRIMMED, DROP_UNDECODABLE, ENVELOPE_FIELD, RedisBus, RedisBusError
from livecs.models import Comment, encode_record

from .conftest import RedisBusFactory, comments, fast_settings

pytestmark = pytest.mark.redis

TOPIC = "comments"
STAGE = "store"
ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("_consumer_proc.py")
PROC_TIMEOUT_S = 15.0


async def pending(client: aioredis.Redis, rooms: list[str], stage: str = STAGE) -> int:
    total = 0
    for room in rooms:
        total += int((await client.xpending(keys.stream(TOPIC, room), keys.group(stage)))["pending"])
    return total


def cids(deliveries: list[Delivery]) -> list[str]:
    return [d.record.comment_id for d in deliveries if isinstance(d.record, Comment)]


# -- connection -----------------------------------------------------------------------------------------


async def test_open_bus_with_a_url_is_redis(redis_client: aioredis.Redis, redis_url: str) -> None:
    bus = await open_bus(redis_url, fast_settings())
    try:
        assert isinstance(bus, RedisBus)
        assert bus.name == "redis"
    finally:
        await bus.close()
        await bus.close()  # idempotent


async def test_unreachable_server_is_a_clear_error_naming_the_url() -> None:
    bus = RedisBus("redis://:hunter2@127.0.0.1:1/0", fast_settings())
    with pytest.raises(RedisBusError, match=r"127\.0\.0\.1:1") as err:
        await bus.start()
    assert "hunter2" not in str(err.value)
    with pytest.raises(RuntimeError, match="not started"):
        await bus.depths()


# -- layout ---------------------------------------------------------------------------------------------


async def test_one_stream_per_room_registered_for_discovery(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    bus = await make_redis_bus()
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r1", "s-1", comments(3, "r1"))
    await bus.publish(TOPIC, "r2", "s-2", comments(2, "r2"))
    await bus.publish("results", "r1", "s-1", comments(1, "r1"))
    assert await redis_client.xlen(keys.stream(TOPIC, "r1")) == 3
    assert await redis_client.xlen(keys.stream(TOPIC, "r2")) == 2
    assert await redis_client.smembers(keys.rooms(TOPIC)) == {b"r1", b"r2"}
    assert await redis_client.smembers(keys.ROOMS) == {b"r1", b"r2"}  # rooms with an input stream
    assert await redis_client.smembers(keys.TOPICS) == {TOPIC.encode(), b"results"}
    assert await redis_client.smembers(keys.stages(TOPIC)) == {STAGE.encode()}
    for room in ("r1", "r2"):
        groups = await redis_client.xinfo_groups(keys.stream(TOPIC, room))
        assert [g["name"] for g in groups] == [keys.group(STAGE).encode()]
    entries: Any = await redis_client.xrange(keys.stream(TOPIC, "r2"), count=1)
    ((_, fields),) = entries
    assert list(fields) == [ENVELOPE_FIELD]
    env = orjson.loads(fields[ENVELOPE_FIELD])
    assert set(env) == {"s", "t", "k", "d"}
    assert (env["s"], env["k"], env["d"]["comment_id"]) == ("s-2", "comment", "r2-c0")


async def test_a_publisher_creates_declared_groups_on_a_new_room_first(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    consumer = await make_redis_bus()
    await consumer.declare(TOPIC, STAGE)
    publisher = await make_redis_bus()  # another process, knows nothing of the stage
    await publisher.publish(TOPIC, "fresh", "s", comments(4, "fresh"))
    (group,) = await redis_client.xinfo_groups(keys.stream(TOPIC, "fresh"))
    assert (group["name"], group["lag"]) == (keys.group(STAGE).encode(), 4)
    assert cids(await consumer.read(TOPIC, STAGE, "c", 10, 100)) == [
        c.comment_id for c in comments(4, "fresh")
    ]


async def test_a_group_declared_later_reads_what_was_published_before(
    make_redis_bus: RedisBusFactory,
) -> None:
    bus = await make_redis_bus()
    await bus.publish(TOPIC, "r1", "s", comments(5))
    await bus.declare(TOPIC, "late")
    assert cids(await bus.read(TOPIC, "late", "c", 10, 100)) == [c.comment_id for c in comments(5)]


async def test_a_running_reader_discovers_a_new_room(make_redis_bus: RedisBusFactory) -> None:
    reader = await make_redis_bus()
    await reader.declare(TOPIC, STAGE)
    await reader.publish(TOPIC, "old", "s", comments(1, "old"))
    first = await reader.read(TOPIC, STAGE, "c", 10, 50)
    assert len(first) == 1
    await reader.ack(TOPIC, STAGE, first)  # (unacknowledged, it would come back after reclaim_idle_ms)
    publisher = await make_redis_bus()
    await publisher.publish(TOPIC, "new", "s", comments(3, "new"))
    got: list[Delivery] = []
    deadline = time.monotonic() + 3
    while len(got) < 3 and time.monotonic() < deadline:
        got += await reader.read(TOPIC, STAGE, "c", 10, 50)
    assert cids(got) == [c.comment_id for c in comments(3, "new")]


async def test_read_count_is_respected_across_many_rooms(make_redis_bus: RedisBusFactory) -> None:
    bus = await make_redis_bus()
    await bus.declare(TOPIC, STAGE)
    rooms = [f"r{i}" for i in range(7)]
    for room in rooms:
        await bus.publish(TOPIC, room, "s", comments(20, room))
    sizes: list[int] = []
    seen: list[str] = []
    while batch := await bus.read(TOPIC, STAGE, "c", 10, 50):
        sizes.append(len(batch))
        seen += cids(batch)
        await bus.ack(TOPIC, STAGE, batch)
    assert max(sizes) <= 10
    assert sorted(seen) == sorted(c.comment_id for room in rooms for c in comments(20, room))
    one_room = await make_redis_bus()  # a busy room among idle ones still fills a batch in one call
    await one_room.declare(TOPIC, "other")
    await bus.publish(TOPIC, "r3", "s", comments(100, "r3", start=20))
    await one_room.read(TOPIC, "other", "c", 1000, 50)  # catch up on the history
    await bus.publish(TOPIC, "r3", "s", comments(100, "r3", start=120))
    assert len(await one_room.read(TOPIC, "other", "c", 100, 50)) == 100


# -- bounds ---------------------------------------------------------------------------------------------


async def test_maxlen_trimming_is_applied(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    bus = await make_redis_bus(stream_maxlen=1000, results_queue_size=150, batch_size=1000)
    config: Any = await redis_client.config_get("stream-node-max-entries")
    node = int(config["stream-node-max-entries"])
    await bus.publish(TOPIC, "r1", "s", comments(5000))  # no stage declared: nothing to wait for
    await bus.publish("results", "r1", "s", comments(5000))
    assert 1000 <= await redis_client.xlen(keys.stream(TOPIC, "r1")) <= 1000 + node
    assert bus.maxlen("results") == 1500
    assert 1500 <= await redis_client.xlen(keys.stream("results", "r1")) <= 1500 + node
    info = await redis_client.xinfo_stream(keys.stream(TOPIC, "r1"))
    assert info["entries-added"] == 5000


async def test_lag_bounds_stay_below_maxlen(make_redis_bus: RedisBusFactory) -> None:
    bus = await make_redis_bus(stream_maxlen=1000, max_lag=5000, results_queue_size=40)
    assert bus.lag_bound(TOPIC) == 1000  # a misconfigured max_lag cannot let trimming eat unread entries
    assert bus.lag_bound("results") == 40
    assert (await make_redis_bus(max_lag=300)).lag_bound(TOPIC) == 300


async def test_trimming_never_removes_unread_entries_of_a_slow_stage(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    publisher = await make_redis_bus(stream_maxlen=1000, max_lag=400)
    consumer = await make_redis_bus(stream_maxlen=1000, max_lag=400)
    await consumer.declare(TOPIC, STAGE)
    total = 4000
    got: list[Delivery] = []

    async def slow_stage() -> None:
        while len(got) < total:
            batch = await consumer.read(TOPIC, STAGE, "c", 50, 50)
            await asyncio.sleep(0.003)
            await consumer.ack(TOPIC, STAGE, batch)
            got.extend(batch)

    reader = asyncio.create_task(slow_stage())
    max_len = 0
    for start in range(0, total, 200):
        await publisher.publish(TOPIC, "r1", "s", comments(200, start=start))
        max_len = max(max_len, await redis_client.xlen(keys.stream(TOPIC, "r1")))
    await asyncio.wait_for(reader, 10)
    assert cids(got) == [c.comment_id for c in comments(total)]  # all of them, once, in order
    assert consumer.dropped == {}
    assert max_len < 2000  # trimmed all along


async def test_publisher_counts_its_own_appends_between_lag_checks(make_redis_bus: RedisBusFactory) -> None:
    bus = await make_redis_bus(max_lag=10, lag_check_interval_s=60)
    await bus.declare(TOPIC, STAGE)
    assert await bus.offer(TOPIC, "r1", "s", comments(10)) is True
    assert await bus.offer(TOPIC, "r1", "s", comments(1, start=10)) is False  # no re-read needed to know


# -- bad and lost entries -------------------------------------------------------------------------------


async def test_undecodable_entries_are_counted_and_acknowledged(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    bus = await make_redis_bus()
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r1", "s", comments(2))
    stream = keys.stream(TOPIC, "r1")
    good = encode_record(comments(1)[0])
    for fields in (
        {ENVELOPE_FIELD: b"\xff not json"},
        {b"other": b"field"},
        {ENVELOPE_FIELD: orjson.dumps([1, 2])},
        {ENVELOPE_FIELD: orjson.dumps({"s": "s", "t": 1.0, "k": "no-such-kind", "d": {}})},
        {ENVELOPE_FIELD: orjson.dumps({"s": "s", "t": 1.0, "k": "comment", "d": {"comment_id": "x"}})},
        {ENVELOPE_FIELD: orjson.dumps({"t": 1.0, **good})},
    ):
        await redis_client.xadd(stream, fields)  # type: ignore[arg-type]
    await bus.publish(TOPIC, "r1", "s", comments(2, start=2))
    got = await bus.read(TOPIC, STAGE, "c", 100, 100)
    assert cids(got) == [c.comment_id for c in comments(4)]
    assert bus.dropped == {DROP_UNDECODABLE: 6}
    assert await pending(redis_client, ["r1"]) == 4  # the bad ones are already acknowledged
    await bus.ack(TOPIC, STAGE, got)
    assert await pending(redis_client, ["r1"]) == 0
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 0}


async def test_pending_entries_trimmed_before_their_ack_are_dropped_and_counted(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    dead = await make_redis_bus()
    await dead.declare(TOPIC, STAGE)
    await dead.publish(TOPIC, "r1", "s", comments(10))
    assert len(await dead.read(TOPIC, STAGE, "dead", 10, 100)) == 10
    await dead.close()
    await redis_client.xtrim(keys.stream(TOPIC, "r1"), maxlen=0, approximate=False)
    await asyncio.sleep(0.25)  # > reclaim_idle_ms
    heir = await make_redis_bus()
    assert await heir.read(TOPIC, STAGE, "heir", 100, 50) == []
    assert heir.dropped == {DROP_TRIMMED: 10}
    assert await pending(redis_client, ["r1"]) == 0


async def test_reading_again_after_the_streams_were_flushed(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    bus = await make_redis_bus()
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r1", "s", comments(2))
    assert len(await bus.read(TOPIC, STAGE, "c", 10, 50)) == 2
    await redis_client.flushdb()  # the streams and their groups are gone; the bus's caches are not
    await bus.publish(TOPIC, "r1", "s", comments(3, start=2))
    got: list[Delivery] = []
    for _ in range(5):
        got += await bus.read(TOPIC, STAGE, "c", 10, 50)
    assert cids(got) == [c.comment_id for c in comments(3, start=2)]


# -- a consumer dies mid-stream -------------------------------------------------------------------------


async def test_killed_consumer_entries_are_reclaimed_and_recorded_exactly_once(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    rooms = ["r1", "r2"]
    per_room = 150
    n = per_room * len(rooms)
    publisher = await make_redis_bus()
    await publisher.declare(TOPIC, STAGE)
    for room in rooms:
        await publisher.publish(TOPIC, room, "s", comments(per_room, room))
    record: dict[str, Comment] = {}  # the idempotent sink: keyed by comment id
    writes = 0

    def store(batch: list[Delivery]) -> None:
        nonlocal writes
        for d in batch:
            assert isinstance(d.record, Comment)
            writes += 1
            record.setdefault(d.record.comment_id, d.record)

    doomed = await make_redis_bus()
    taken = await doomed.read(TOPIC, STAGE, "doomed", 120, 100)
    assert len(taken) == 120
    store(taken[:60])  # stored half, then died before storing the rest and before any ack
    await doomed.close()
    assert await pending(redis_client, rooms) == 120

    heir = await make_redis_bus()  # reclaim_idle_ms=200, reclaim_interval_s=0.05
    delivered = 0
    deadline = time.monotonic() + 10
    while (len(record) < n or await pending(redis_client, rooms)) and time.monotonic() < deadline:
        batch = await heir.read(TOPIC, STAGE, "heir", 50, 50)  # small batches: the reclaim spans reads
        store(batch)
        await heir.ack(TOPIC, STAGE, batch)
        delivered += len(batch)
    assert len(record) == n
    assert set(record) == {c.comment_id for room in rooms for c in comments(per_room, room)}
    assert delivered == n  # 180 never read + the 120 of the dead consumer
    assert writes == n + 60  # the 60 stored twice were recorded once
    assert await pending(redis_client, rooms) == 0
    assert await heir.depths() == {f"{TOPIC}/{STAGE}": 0}
    assert heir.dropped == {}


def _make_record_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE comments (comment_id TEXT PRIMARY KEY, room TEXT, session_id TEXT)")


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), *args, stdout=asyncio.subprocess.PIPE, env=env, cwd=str(ROOT)
    )


@pytest.mark.slow
async def test_sigkilled_consumer_process_is_finished_by_another_exactly_once(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis, redis_url: str, tmp_path: Path
) -> None:
    rooms = ["r1", "r2"]
    per_room = 600
    n = per_room * len(rooms)
    db_path = tmp_path / "record.db"
    _make_record_db(db_path)
    publisher = await make_redis_bus()
    await publisher.declare(TOPIC, STAGE)
    for room in rooms:
        await publisher.publish(TOPIC, room, "s", comments(per_room // 2, room))

    doomed = await _spawn(redis_url, str(db_path), "worker-a", str(n), "--stall")
    assert doomed.stdout is not None
    line = await asyncio.wait_for(doomed.stdout.readline(), PROC_TIMEOUT_S)
    assert line.startswith(b"STALLED"), line
    stalled = int(line.split()[1])
    doomed.send_signal(signal.SIGKILL)  # mid-stream: its batch is stored but not acknowledged
    assert await doomed.wait() == -signal.SIGKILL
    assert stalled > 0
    assert await pending(redis_client, rooms) == stalled

    heir = await _spawn(redis_url, str(db_path), "worker-b", str(n))
    for room in rooms:  # the broadcast goes on while the heir works
        await publisher.publish(TOPIC, room, "s", comments(per_room // 2, room, start=per_room // 2))
    out, _ = await asyncio.wait_for(heir.communicate(), PROC_TIMEOUT_S)
    assert heir.returncode == 0, out
    stats: dict[str, Any] = orjson.loads(out.splitlines()[-1])
    assert stats == {"deliveries": n, "inserted": n - stalled, "duplicates": stalled, "dropped": {}}

    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT comment_id, room FROM comments").fetchall()
    assert len(rows) == n
    assert sorted(rows) == sorted((c.comment_id, room) for room in rooms for c in comments(per_room, room))
    assert await pending(redis_client, rooms) == 0
    assert await publisher.depths() == {f"{TOPIC}/{STAGE}": 0}
