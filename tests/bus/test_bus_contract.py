"""Behaviour both buses share (parametrised: in-process and Redis Streams), so the stages can use either.

Where the buses may differ: in-process every record has its own delivery id; on Redis the records of one
published chunk travel as one stream entry and share its id, and a read returns whole entries only (so
``count`` is approximate there; the tests publish entries no larger than the counts they read with).
"""

from __future__ import annotations

import asyncio
import time

from livecs.bus.base import Bus, Delivery
from livecs.models import Comment

from .conftest import BusFactory, comments, every_record_type

TOPIC = "comments"
STAGE = "process"
SESSION = "sess-1"


async def drain(
    bus: Bus, stage: str = STAGE, consumer: str = "c1", want: int = 0, topic: str = TOPIC
) -> list[Delivery]:
    """Read (and ack) until ``want`` deliveries arrived or a read comes back empty."""
    out: list[Delivery] = []
    while True:
        batch = await bus.read(topic, stage, consumer, 100, 50)
        if not batch:
            return out
        await bus.ack(topic, stage, batch)
        out += batch
        if want and len(out) >= want:
            return out


def ids(deliveries: list[Delivery]) -> list[str]:
    return [d.record.comment_id for d in deliveries if isinstance(d.record, Comment)]


async def test_round_trip_of_every_record_type(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.declare(TOPIC, STAGE)
    records = every_record_type()
    before = time.time()
    await bus.publish(TOPIC, "r1", SESSION, records)
    after = time.time()
    got = await bus.read(TOPIC, STAGE, "c1", 100, 200)
    assert [d.record for d in got] == records
    assert [type(d.record) for d in got] == [type(r) for r in records]
    for d in got:
        assert (d.room, d.session_id) == ("r1", SESSION)
        assert before - 0.01 <= d.published_at <= after + 0.01
    # in-process one id per record; on Redis one entry (the whole publish is one chunk), one id
    assert len({d.id for d in got}) == (1 if bus.name == "redis" else len(records))
    await bus.ack(TOPIC, STAGE, got)
    assert (await bus.depths())[f"{TOPIC}/{STAGE}"] == 0


async def test_two_rooms_keep_their_room_and_order(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.declare(TOPIC, STAGE)
    for start in range(0, 30, 10):
        await bus.publish(TOPIC, "r1", "s-a", comments(10, "r1", start))
        await bus.publish(TOPIC, "r2", "s-b", comments(10, "r2", start))
    got = await drain(bus, want=60)
    assert len(got) == 60
    for room, session in (("r1", "s-a"), ("r2", "s-b")):
        mine = [d for d in got if d.room == room]
        assert ids(mine) == [c.comment_id for c in comments(30, room)]
        assert {d.session_id for d in mine} == {session}


async def test_every_stage_sees_every_record(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.declare(TOPIC, "triage")
    await bus.declare(TOPIC, "archive")
    await bus.publish(TOPIC, "r1", SESSION, comments(25))
    expected = [c.comment_id for c in comments(25)]
    assert ids(await drain(bus, "triage", want=25)) == expected
    assert ids(await drain(bus, "archive", want=25)) == expected


async def test_consumers_of_one_stage_split_the_records(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.declare(TOPIC, STAGE)
    for start in range(0, 20, 4):  # on Redis: five entries of 4 records (a read never splits an entry)
        await bus.publish(TOPIC, "r1", SESSION, comments(4, start=start))
    first = await bus.read(TOPIC, STAGE, "c1", 8, 200)
    second = await bus.read(TOPIC, STAGE, "c2", 100, 200)
    assert len(first) == 8
    assert len(second) == 12
    assert ids(first) + ids(second) == [c.comment_id for c in comments(20)]
    await bus.ack(TOPIC, STAGE, first + second)
    assert await bus.read(TOPIC, STAGE, "c1", 100, 50) == []


async def test_read_waits_at_most_block_ms_when_empty(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.declare(TOPIC, STAGE)
    t0 = time.monotonic()
    assert await bus.read(TOPIC, STAGE, "c1", 10, 100) == []
    assert 0.05 <= time.monotonic() - t0 < 1.5


async def test_read_returns_records_published_while_it_waits(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.declare(TOPIC, STAGE)
    await bus.publish(TOPIC, "r1", SESSION, comments(1))  # the room exists (Redis readers discover rooms)
    await drain(bus)
    reader = asyncio.create_task(bus.read(TOPIC, STAGE, "c1", 10, 2000))
    await asyncio.sleep(0.1)
    await bus.publish(TOPIC, "r1", SESSION, comments(3, start=1))
    got = await asyncio.wait_for(reader, 3)
    assert ids(got) == [c.comment_id for c in comments(3, start=1)]


async def test_publish_waits_while_full_and_resumes_after_reads(make_bus: BusFactory) -> None:
    bound = 20
    bus = await make_bus(queue_size=bound, max_lag=bound)
    await bus.declare(TOPIC, STAGE)
    await asyncio.wait_for(bus.publish(TOPIC, "r1", SESSION, comments(bound)), 2)
    blocked = asyncio.create_task(bus.publish(TOPIC, "r1", SESSION, comments(5, start=bound)))
    await asyncio.sleep(0.3)
    assert not blocked.done(), "publish must wait while the stage is a full bound behind"
    assert await bus.offer(TOPIC, "r1", SESSION, comments(1, start=99)) is False
    first = await bus.read(TOPIC, STAGE, "c1", 10, 200)
    await bus.ack(TOPIC, STAGE, first)
    await asyncio.wait_for(blocked, 3)
    rest = await drain(bus, want=15)
    assert ids(first + rest) == [c.comment_id for c in comments(bound + 5)]


async def test_offer_appends_when_there_is_room(make_bus: BusFactory) -> None:
    bus = await make_bus(queue_size=10, max_lag=10)
    await bus.declare(TOPIC, STAGE)
    assert await bus.offer(TOPIC, "r1", SESSION, comments(6)) is True
    assert await bus.offer(TOPIC, "r1", SESSION, comments(6, start=6)) is False  # all or nothing
    assert await bus.offer(TOPIC, "r1", SESSION, comments(4, start=6)) is True
    assert ids(await drain(bus, want=10)) == [c.comment_id for c in comments(10)]


async def test_depths_count_waiting_records(make_bus: BusFactory) -> None:
    bus = await make_bus()
    await bus.declare(TOPIC, STAGE)
    await bus.declare("results", "console")
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 0, "results/console": 0}
    await bus.publish(TOPIC, "r1", SESSION, comments(7))
    await bus.publish(TOPIC, "r2", SESSION, comments(5, "r2"))
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 12, "results/console": 0}
    await drain(bus, want=12)
    assert await bus.depths() == {f"{TOPIC}/{STAGE}": 0, "results/console": 0}
