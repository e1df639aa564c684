"""Stopping the pipeline loses nothing accepted (issue 11): doors closed first, drain, untriaged recording
past the deadline, a forced stop, an ingest-only process, refused input that is not a duplicate on retry."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from livecs.bus.base import BusUnavailable
from livecs.bus.memory import MemoryBus
from livecs.config import Settings
from livecs.ingest.sink import Unavailable
from livecs.models import Comment, Record
from livecs.pipeline import Pipeline
from livecs.processor.base import Processed
from livecs.store import Store, count_rows, list_sessions
from tests.test_pipeline import KeywordProcessor, make_settings


class SlowProcessor(KeywordProcessor):
    """Triage that takes ``delay_s`` per comment (blocking, like a heavy model)."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def process(self, comment: Comment, now: float) -> Processed:
        time.sleep(self.delay_s)
        return super().process(comment, now)


def slow_pipeline(s: Settings, delay_s: float = 0.002) -> Pipeline:
    return Pipeline(s, MemoryBus(s.bus), Store(s.store), SlowProcessor(delay_s), default_room="r1")  # type: ignore[arg-type]


def objs(n: int, prefix: str = "m") -> list[dict[str, str]]:
    return [{"id": f"{prefix}{i}", "text": f"有S码吗 {i}", "user_id": f"u{i % 7}"} for i in range(n)]


def rows(s: Settings, table: str) -> int:
    with Store(s.store).reader() as conn:
        [session] = list_sessions(conn)
        return count_rows(conn, table, session.session_id)


async def test_stop_past_its_deadline_records_the_rest_untriaged_and_closes_the_doors(tmp_path: Path) -> None:
    s = make_settings(tmp_path, batch_size=50)
    p = slow_pipeline(s)
    await p.start()
    await p.sink.submit_objects(objs(2000), source="test")
    await p.stop(drain_timeout=0.3)
    c = p.counters
    assert c.accepted == 2000 and c.recorded == 2000 and c.lost == 0
    assert 0 < c.untriaged < 2000  # some were triaged in time, the rest recorded untriaged
    assert rows(s, "comments") == 2000 and rows(s, "untriaged") == c.untriaged
    assert rows(s, "triage") == 2000 - c.untriaged
    with pytest.raises(Unavailable) as refused:
        await p.sink.submit_objects(objs(1, "late"), source="test")
    assert refused.value.reason == "stopping"
    with Store(s.store).reader() as conn:
        [session] = list_sessions(conn)
    assert session.ended_at is not None
    assert session.stats["untriaged"] == c.untriaged and session.stats["record"]["comments"] == 2000
    await p.store.close()


async def test_force_skips_the_drain_and_still_records_everything(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livecs.pipeline")
    s = make_settings(tmp_path, batch_size=50)
    p = slow_pipeline(s, delay_s=0.005)
    await p.start()
    await p.sink.submit_objects(objs(1500), source="test")
    stopping = asyncio.create_task(p.stop(drain_timeout=60))
    await asyncio.sleep(1.3)
    assert "stop: draining — " in caplog.text  # the progress line, every second
    started = time.monotonic()
    p.force()  # a second Ctrl-C
    await asyncio.wait_for(stopping, 10)
    assert time.monotonic() - started < 5
    assert p.counters.recorded == 1500 and p.counters.untriaged > 0 and p.counters.lost == 0
    assert rows(s, "comments") == 1500
    await p.store.close()


async def test_an_ingest_only_process_on_the_memory_bus_records_what_it_accepted(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    p = slow_pipeline(s)
    await p.start(workers=0)
    await p.sink.submit_objects(objs(300), source="test")
    await p.stop(drain_timeout=0.2)
    assert p.counters.recorded == 300 and p.counters.untriaged == 300 and p.counters.lost == 0
    assert rows(s, "comments") == 300
    await p.store.close()


async def test_a_stop_is_idempotent_and_a_second_call_waits_for_the_first(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    p = slow_pipeline(s)
    await p.start()
    await p.sink.submit_objects(objs(200), source="test")
    await asyncio.gather(p.stop(), p.stop())
    assert p.counters.recorded == 200
    await p.store.close()


class FlakyBus(MemoryBus):
    """A memory bus whose publishes fail with :class:`BusUnavailable` while ``down``."""

    down = False

    async def publish(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> None:
        if self.down and topic == "comments":
            raise BusUnavailable("test outage")
        await super().publish(topic, room, session_id, records)


async def test_refused_input_is_not_accepted_and_its_retry_is_not_a_duplicate(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    bus = FlakyBus(s.bus)
    p = Pipeline(s, bus, Store(s.store), KeywordProcessor(), default_room="r1")  # type: ignore[arg-type]
    await p.start()
    bus.down = True
    with pytest.raises(Unavailable) as refused:  # the webhook: answer now (503)
        await p.sink.submit_objects(objs(10), source="webhook", wait=False)
    assert refused.value.reason == "bus_unavailable"
    assert p.counters.accepted == 0 and p.counters.refused == 10
    paused = asyncio.create_task(p.sink.submit_objects(objs(5, "w"), source="replay"))  # waits
    await asyncio.sleep(0.2)
    assert not paused.done() and p.counters.sources["replay"] == "paused"
    bus.down = False
    assert await asyncio.wait_for(paused, 5) == 5
    assert p.counters.sources["replay"] == "running"
    assert await p.sink.submit_objects(objs(10), source="webhook", wait=False) == 10  # not duplicates
    await p.stop()
    assert p.counters.recorded == 15 and p.counters.rejected.get("duplicate", 0) == 0
    await p.store.close()


async def test_a_cancelled_memory_read_is_cancelled_and_takes_no_record() -> None:
    """The hub hang of issue 11: ``wait_for`` swallowed the cancel of a read whose record had just arrived
    (and the reader went on forever). Now the cancel wins and the record stays queued."""
    bus = MemoryBus()
    await bus.declare("results", "console")
    reader = asyncio.create_task(bus.read("results", "console", "c", 10, 5000))
    await asyncio.sleep(0.05)  # waiting on the empty queue
    await bus.publish("results", "r1", "s", [Comment("x1", "sim", "r1", "u", "n", "hi", 0.0)])
    reader.cancel()  # in the same turn as the record's arrival
    with pytest.raises(asyncio.CancelledError):
        await reader
    got = await bus.read("results", "console", "c", 10, 100)
    assert [d.record.comment_id for d in got] == ["x1"]  # type: ignore[union-attr]


class SlowPublishBus(MemoryBus):
    """A memory bus whose comments publishes take a while (a Redis round trip under load)."""

    async def publish(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> None:
        if topic == "comments":
            await asyncio.sleep(0.3)
        await super().publish(topic, room, session_id, records)


async def test_a_stop_waits_for_a_submit_already_under_way(tmp_path: Path) -> None:
    """Found by the Redis chaos test: a webhook request past the door but not yet on the bus when the drain
    looked was published after the workers had stopped. Its records now count as outstanding."""
    s = make_settings(tmp_path)
    p = Pipeline(s, SlowPublishBus(s.bus), Store(s.store), KeywordProcessor(), default_room="r1")  # type: ignore[arg-type]
    await p.start()
    submit = asyncio.create_task(p.sink.submit_objects(objs(50), source="webhook", wait=False))
    await asyncio.sleep(0.05)  # inside publish
    await p.stop(drain_timeout=5)
    assert await submit == 50
    assert p.counters.recorded == 50 and p.counters.lost == 0 and p.counters.untriaged == 0
    await p.store.close()
