"""The pipeline on a Redis that goes away and comes back (a private ``redis-server``): the webhook's submits
are kept while the outage buffer has room and refused (503) beyond, the counters (GET /api/stats, the
panel's ingest line) show the outage, and after the restart every accepted comment is recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from livecs.bus.redis import RedisBus
from livecs.ingest.sink import Unavailable
from livecs.pipeline import Pipeline
from livecs.store import Store
from tests.chaos_support import PrivateRedis
from tests.test_pipeline import KeywordProcessor, make_settings
from tests.test_pipeline_stop import objs


async def wait_until(cond: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_the_pipeline_rides_out_a_redis_restart_and_shows_it(tmp_path: Path) -> None:
    s = make_settings(tmp_path, block_ms=50, outage_buffer=500)
    s.pipeline.depth_refresh_s = 0.05
    with PrivateRedis(tmp_path) as redis:
        bus = RedisBus(redis.url, s.bus)
        await bus.start()
        p = Pipeline(s, bus, Store(s.store), KeywordProcessor(), default_room="r1")  # type: ignore[arg-type]
        await p.start()
        try:
            assert await p.sink.submit_objects(objs(100, "a"), source="webhook", wait=False) == 100
            await wait_until(lambda: p.counters.recorded == 100)
            redis.kill()
            await wait_until(lambda: p.counters.snapshot()["bus_status"]["state"] == "down")
            assert p.counters.snapshot()["sources"]["bus(redis)"] == "down"  # the panel's ingest line
            assert await p.sink.submit_objects(objs(400, "b"), source="webhook", wait=False) == 400  # kept
            with pytest.raises(Unavailable):  # beyond the outage buffer: 503, nothing accepted
                await p.sink.submit_objects(objs(200, "c"), source="webhook", wait=False)
            assert p.counters.accepted == 500 and p.counters.refused == 200
            redis.start()
            await wait_until(lambda: p.counters.recorded == 500)
            await wait_until(lambda: p.counters.snapshot()["bus_status"]["state"] == "ok")
            assert p.counters.sources["bus(redis)"] == "running"
            # the refused ones come again: accepted now, not duplicates
            assert await p.sink.submit_objects(objs(200, "c"), source="webhook", wait=False) == 200
        finally:
            await p.stop()
            await bus.close()
            await p.store.close()
    assert p.counters.recorded == 700 and p.counters.lost == 0 and p.counters.untriaged == 0
