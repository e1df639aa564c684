"""The same pipeline code on Redis Streams: ingest and workers in separate pipelines, exactly-once record."""

import asyncio
from pathlib import Path

import orjson
import redis.asyncio as aioredis

from livecs.bus.redis import RedisBus
from livecs.config import Settings, load_settings
from livecs.models import Comment, Intent, LiveEvent, Sentiment, Triage
from livecs.pipeline import Pipeline
from livecs.processor.base import Processed
from livecs.store import Store, count_rows, list_sessions


class EchoProcessor:
    def process(self, comment: Comment, now: float) -> Processed:
        return Processed(
            Triage(comment.comment_id, comment.room, comment.text, Intent.CHITCHAT, 1.0, Sentiment.NEU, 0.5)
        )

    def on_event(self, event: LiveEvent, now: float) -> None:
        return None


def settings_for(tmp_path: Path, redis_url: str) -> Settings:
    s = load_settings(environ={})
    s.store.path = str(tmp_path / "rec.db")
    s.redis_url = redis_url
    s.bus.batch_size = 50
    s.bus.block_ms = 50
    return s


async def test_ingest_and_workers_in_separate_pipelines(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis
) -> None:
    s = settings_for(tmp_path, redis_url)
    ingest = Pipeline(s, RedisBus(redis_url, s.bus), Store(s.store), None, default_room="r1")
    workers = [Pipeline(s, RedisBus(redis_url, s.bus), Store(s.store), EchoProcessor()) for _ in range(2)]
    for p in [ingest, *workers]:
        await p.bus.start()
    for w in workers:
        await w.start(workers=1)
    await ingest.start(workers=0)
    comments = [{"id": f"m{i}", "text": f"多少钱 {i % 10}", "room": f"r{i % 3}"} for i in range(600)]
    assert await ingest.sink.submit_payload(orjson.dumps(comments + comments[:100]), source="t") == 600
    assert ingest.counters.rejected["duplicate"] == 100

    async def all_recorded() -> None:
        while sum(w.counters.recorded for w in workers) < 600:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(all_recorded(), 20)
    assert all(w.counters.processed > 0 for w in workers), "both workers took a share"
    for p in [*workers, ingest]:
        await p.stop(drain_timeout=0.1)
        await p.bus.close()
    conn = ingest.store.reader()
    sessions = list_sessions(conn)
    assert {x.room for x in sessions} == {"r0", "r1", "r2"}
    assert sum(count_rows(conn, "comments", x.session_id) for x in sessions) == 600
    assert sum(count_rows(conn, "triage", x.session_id) for x in sessions) == 600
    assert all(x.source == "t" for x in sessions)
    for p in [ingest, *workers]:
        await p.store.close()
