"""The Redis Streams bus on the real test server: layout, trimming, backpressure, bad entries, reclaiming.

Beyond the shared contract (``test_bus_contract.py``): per-room streams and registries, one entry per
published chunk that a read never splits, MAXLEN trimming that never removes unread entries, lag bounds in
records whatever the entry size, undecodable and trimmed entries counted and acknowledged, and a consumer
that dies mid-stream — in this process and as a real OS process killed with SIGKILL — whose pending entries
another consumer reclaims, with every comment recorded exactly once.
"""

from __future__ import annotations

import asyncio
import collections
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


async def pending_entries(client: aioredis.Redis, rooms: list[str], stage: str = STAGE) -> int:
    total = 0
    for room in rooms:
        total += int((await client.xpending(keys.stream(TOPIC, room), keys.group(stage)))["pending"])
    return total


def entry_size(fields: dict[bytes, bytes]) -> int:
    """Records in one stream entry (a batch envelope, or an older single-record one)."""
    env = orjson.loads(fields[ENVELOPE_FIELD])
    return len(env["r"]) if "r" in env else 1


async def pending(client: aioredis.Redis, rooms: list[str], stage: str = STAGE) -> int:
    """Records in the entries ``stage`` has read and not acknowledged."""
    total = 0
    for room in rooms:
        stream = keys.stream(TOPIC, room)
        for p in await client.xpending_range(stream, keys.group(stage), min="-", max="+", count=100_000):
            entries: Any = await client.xrange(stream, p["message_id"], p["message_id"])
            ((_, fields),) = entries
            total += entry_size(fields)
    return total


async def entry_sizes(client: aioredis.Redis, room: str, topic: str = TOPIC) -> dict[str, int]:
    """``{entry id: records}`` of a room's stream, oldest first."""
    entries: Any = await client.xrange(keys.stream(topic, room))
    return {entry_id.decode(): entry_size(fields) for entry_id, fields in entries}


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
    assert await redis_client.xlen(keys.stream(TOPIC, "r1")) == 1  # one publish, one chunk, one entry
    assert await redis_client.xlen(keys.stream(TOPIC, "r2")) == 1
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
    assert set(env) == {"s", "t", "r"}
    assert env["s"] == "s-2"
    assert env["r"] == [orjson.loads(orjson.dumps(encode_record(c))) for c in comments(2, "r2")]


async def test_a_publisher_creates_declared_groups_on_a_new_room_first(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    consumer = await make_redis_bus()
    await consumer.declare(TOPIC, STAGE)
    publisher = await make_redis_bus()  # another process, knows nothing of the stage
    await publisher.publish(TOPIC, "fresh", "s", comments(4, "fresh"))
    (group,) = await redis_client.xinfo_groups(keys.stream(TOPIC, "fresh"))
    assert (group["name"], group["lag"]) == (keys.group(STAGE).encode(), 1)  # one entry of 4 records
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
        for start in range(0, 20, 5):  # entries of 5 records: a read of 10 takes up to two
            await bus.publish(TOPIC, room, "s", comments(5, room, start))
    sizes: list[int] = []
    seen: list[str] = []
    while batch := await bus.read(TOPIC, STAGE, "c", 10, 50):
        sizes.append(len(batch))
        seen += cids(batch)
        await bus.ack(TOPIC, STAGE, batch)
    assert max(sizes) <= 10
    assert all(size % 5 == 0 for size in sizes)  # whole entries
    assert sorted(seen) == sorted(c.comment_id for room in rooms for c in comments(20, room))
    one_room = await make_redis_bus()  # a busy room among idle ones still fills a batch in one call
    await one_room.declare(TOPIC, "other")
    await bus.publish(TOPIC, "r3", "s", comments(100, "r3", start=20))
    await one_room.read(TOPIC, "other", "c", 1000, 50)  # catch up on the history
    await bus.publish(TOPIC, "r3", "s", comments(100, "r3", start=120))
    assert len(await one_room.read(TOPIC, "other", "c", 100, 50)) == 100


async def test_a_batch_of_500_records_is_one_entry_read_whole(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    bus = await make_redis_bus(batch_size=500)
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r1", "s", comments(500))
    sizes = await entry_sizes(redis_client, "r1")
    assert list(sizes.values()) == [500]
    (group,) = await redis_client.xinfo_groups(keys.stream(TOPIC, "r1"))
    assert group["lag"] == 1
    reader = await make_redis_bus(batch_size=500)  # knows nothing of the entry sizes yet
    got = await reader.read(TOPIC, STAGE, "c", 10, 100)  # count 10, but an entry is never split
    assert cids(got) == [c.comment_id for c in comments(500)]
    assert {d.id for d in got} == set(sizes)
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 500}
    assert await pending_entries(redis_client, ["r1"]) == 1
    await reader.ack(TOPIC, STAGE, got)  # 500 deliveries, one XACK of one id
    assert await pending_entries(redis_client, ["r1"]) == 0
    assert await reader.read(TOPIC, STAGE, "c", 10, 50) == []
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 0}


async def test_count_never_splits_an_entry(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    publisher = await make_redis_bus(batch_size=40)
    await publisher.declare(TOPIC, STAGE)
    rooms = ["r1", "r2"]
    plan = [7, 1, 13, 29, 2, 50, 3, 40, 11, 1, 1, 36]  # 50 goes as 40 + 10
    for room in rooms:
        start = 0
        for n in plan:
            await publisher.publish(TOPIC, room, "s", comments(n, room, start))
            start += n
    # keyed by (room, entry id): two room streams can hand out the same id in the same millisecond
    sizes = {(room, i): n for room in rooms for i, n in (await entry_sizes(redis_client, room)).items()}
    assert len(sizes) == 2 * (len(plan) + 1)
    readers = [await make_redis_bus(batch_size=40), await make_redis_bus(batch_size=40)]
    got: list[Delivery] = []
    reads = 0
    read_of: dict[tuple[str, str], int] = {}
    for reads in range(1, 200):
        bus = readers[reads % 2]
        batch = await bus.read(TOPIC, STAGE, f"c{reads % 2}", (1, 5, 10, 20, 60)[reads % 5], 20)
        if not batch and len(got) == 2 * sum(plan):
            break
        per_entry = collections.Counter((d.room, d.id) for d in batch)
        assert per_entry == {i: sizes[i] for i in per_entry}, "a read holds every record of its entries"
        for i in per_entry:
            assert read_of.setdefault(i, reads) == reads, "an entry comes back in one read only"
        got += batch
        await bus.ack(TOPIC, STAGE, batch)
    for room in rooms:
        mine = [d for d in got if d.room == room]
        assert cids(mine) == [c.comment_id for c in comments(sum(plan), room)]  # once each, in order
    assert await pending_entries(redis_client, rooms) == 0


async def test_lag_bound_counts_records_whatever_the_entry_size(make_redis_bus: RedisBusFactory) -> None:
    bus = await make_redis_bus(max_lag=20, lag_check_interval_s=0.001)
    await bus.declare(TOPIC, STAGE)
    for i in range(20):  # twenty entries of one record
        assert await bus.offer(TOPIC, "r1", "s", comments(1, start=i)) is True
    assert await bus.offer(TOPIC, "r1", "s", comments(1, start=20)) is False
    first = await bus.read(TOPIC, STAGE, "c", 100, 50)
    assert cids(first) == [c.comment_id for c in comments(20)]
    await bus.ack(TOPIC, STAGE, first)
    assert await bus.offer(TOPIC, "r2", "s", comments(20, "r2")) is True  # one entry of twenty records
    assert await bus.offer(TOPIC, "r2", "s", comments(1, "r2", 20)) is False
    blocked = asyncio.create_task(bus.publish(TOPIC, "r2", "s", comments(5, "r2", 20)))
    await asyncio.sleep(0.2)
    assert not blocked.done()
    got = await bus.read(TOPIC, STAGE, "c", 5, 50)  # the whole entry of 20
    assert cids(got) == [c.comment_id for c in comments(20, "r2")]
    await bus.ack(TOPIC, STAGE, got)
    await asyncio.wait_for(blocked, 3)
    assert cids(await bus.read(TOPIC, STAGE, "c", 100, 50)) == [c.comment_id for c in comments(5, "r2", 20)]


# -- bounds ---------------------------------------------------------------------------------------------


async def test_maxlen_trimming_is_applied(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    bus = await make_redis_bus(stream_maxlen=1000, results_queue_size=150, batch_size=10)
    config: Any = await redis_client.config_get("stream-node-max-entries")
    node = int(config["stream-node-max-entries"])
    # MAXLEN counts records: in entries it is maxlen / records per entry (an estimate; here always 10)
    assert (bus.maxlen_entries(TOPIC, 1.0), bus.maxlen_entries(TOPIC, 10.0)) == (1000, 100)
    await bus.publish(TOPIC, "r1", "s", comments(5000))  # no stage declared: nothing to wait for
    await bus.publish("results", "r1", "s", comments(5000))
    kept = await entry_sizes(redis_client, "r1")
    assert set(kept.values()) == {10}
    assert 1000 <= sum(kept.values()) <= 1000 + node * 10
    assert bus.maxlen("results") == 1500
    kept = await entry_sizes(redis_client, "r1", "results")
    assert 1500 <= sum(kept.values()) <= 1500 + node * 10
    info = await redis_client.xinfo_stream(keys.stream(TOPIC, "r1"))
    assert info["entries-added"] == 500


async def test_lag_bounds_stay_below_maxlen(make_redis_bus: RedisBusFactory) -> None:
    bus = await make_redis_bus(stream_maxlen=1000, max_lag=5000, results_queue_size=40)
    assert bus.lag_bound(TOPIC) == 1000  # a misconfigured max_lag cannot let trimming eat unread entries
    assert bus.lag_bound("results") == 40
    assert (await make_redis_bus(max_lag=300)).lag_bound(TOPIC) == 300


async def test_trimming_never_removes_unread_entries_of_a_slow_stage(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    # entries of 5 records: MAXLEN ~200 entries, lag bound 400 records ~80 entries
    publisher = await make_redis_bus(stream_maxlen=1000, max_lag=400, batch_size=5)
    consumer = await make_redis_bus(stream_maxlen=1000, max_lag=400, batch_size=5)
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
    assert (await redis_client.xinfo_stream(keys.stream(TOPIC, "r1")))["entries-added"] == total // 5
    assert max_len * 5 < 2000  # trimmed all along (in records)


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
    c2, c3, c4 = (encode_record(c) for c in comments(3, start=2))
    bad = {"k": "comment", "d": {"comment_id": "x"}}
    for fields in (  # 9 undecodable: 7 whole entries, and one entry of 2 bad records
        {ENVELOPE_FIELD: b"\xff not json"},
        {b"other": b"field"},
        {ENVELOPE_FIELD: orjson.dumps([1, 2])},
        {ENVELOPE_FIELD: orjson.dumps({"s": "s", "t": 1.0, "r": "not a list"})},
        {ENVELOPE_FIELD: orjson.dumps({"t": 1.0, "r": [c2]})},
        {ENVELOPE_FIELD: orjson.dumps({"s": "s", "t": 1.0, "r": [{"k": "no-such-kind", "d": {}}, bad]})},
        {ENVELOPE_FIELD: orjson.dumps({"s": "s", "t": 1.0, **bad})},
        {ENVELOPE_FIELD: orjson.dumps({"t": 1.0, **c2})},
    ):
        await redis_client.xadd(stream, fields)  # type: ignore[arg-type]
    # an older single-record entry still reads; a batch keeps its good records around a bad one (1 more)
    await redis_client.xadd(stream, {ENVELOPE_FIELD: orjson.dumps({"s": "s", "t": 1.0, **c2})})
    await redis_client.xadd(stream, {ENVELOPE_FIELD: orjson.dumps({"s": "s", "t": 1.0, "r": [c3, bad, c4]})})
    await bus.publish(TOPIC, "r1", "s", comments(2, start=5))
    got = await bus.read(TOPIC, STAGE, "c", 100, 100)
    assert cids(got) == [c.comment_id for c in comments(7)]
    assert bus.dropped == {DROP_UNDECODABLE: 10}
    assert await pending_entries(redis_client, ["r1"]) == 4  # the bad ones are already acknowledged
    await bus.ack(TOPIC, STAGE, got)
    assert await pending_entries(redis_client, ["r1"]) == 0
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 0}


async def test_pending_entries_trimmed_before_their_ack_are_dropped_and_counted(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    dead = await make_redis_bus()
    await dead.declare(TOPIC, STAGE)
    for start in range(0, 10, 2):
        await dead.publish(TOPIC, "r1", "s", comments(2, start=start))  # five entries
    assert len(await dead.read(TOPIC, STAGE, "dead", 10, 100)) == 10
    await dead.close()
    await redis_client.xtrim(keys.stream(TOPIC, "r1"), maxlen=0, approximate=False)
    await asyncio.sleep(0.25)  # > reclaim_idle_ms
    heir = await make_redis_bus()
    assert await heir.read(TOPIC, STAGE, "heir", 100, 50) == []
    assert heir.dropped == {DROP_TRIMMED: 5}  # counted in entries (their records are gone with them)
    assert await pending(redis_client, ["r1"]) == 0


async def test_reading_again_after_the_streams_were_flushed(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    bus = await make_redis_bus()
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r1", "s", comments(2))
    first = await bus.read(TOPIC, STAGE, "c", 10, 50)
    assert len(first) == 2
    await bus.ack(TOPIC, STAGE, first)
    await redis_client.flushdb()  # the streams and their groups are gone; the bus's caches are not
    await bus.publish(TOPIC, "r1", "s", comments(3, start=2))
    got: list[Delivery] = []
    for _ in range(5):
        batch = await bus.read(TOPIC, STAGE, "c", 10, 50)
        await bus.ack(TOPIC, STAGE, batch)
        got += batch
    # every new record arrives once; the two of before the flush may come again (at least once) if the bus
    # saw that Redis lost its data (the epoch check, every second) before it saw their acknowledgement
    new = [c.comment_id for c in comments(3, start=2)]
    assert [i for i in cids(got) if i in new] == new
    assert set(cids(got)) <= {c.comment_id for c in comments(5)}
    for _ in range(100):  # what the flush may have lost is sent again, read and acknowledged: nothing left
        if not await bus.outstanding(TOPIC):
            break
        await bus.ack(TOPIC, STAGE, await bus.read(TOPIC, STAGE, "c", 10, 50))
    assert await bus.outstanding(TOPIC) == 0


# -- a consumer dies mid-stream -------------------------------------------------------------------------


async def test_killed_consumer_entries_are_reclaimed_and_recorded_exactly_once(
    make_redis_bus: RedisBusFactory, redis_client: aioredis.Redis
) -> None:
    rooms = ["r1", "r2"]
    per_room = 150
    n = per_room * len(rooms)
    publisher = await make_redis_bus(batch_size=10)  # entries of 10 records
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
    assert heir.dead_lettered == 0  # delivered twice: well below max_deliveries


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
    assert stats == {
        "deliveries": n,
        "inserted": n - stalled,
        "duplicates": stalled,
        "dropped": {},
        "dead_lettered": 0,
    }

    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT comment_id, room FROM comments").fetchall()
    assert len(rows) == n
    assert sorted(rows) == sorted((c.comment_id, room) for room in rooms for c in comments(per_room, room))
    assert await pending(redis_client, rooms) == 0
    assert await publisher.depths() == {f"{TOPIC}/{STAGE}": 0}
