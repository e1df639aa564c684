"""The pipeline on the in-process bus: exactly-once record, counted rejects, backpressure, shedding."""

import asyncio
from pathlib import Path

import orjson
import pytest

from livecs.bus.memory import MemoryBus
from livecs.config import Settings, load_settings
from livecs.models import Comment, Intent, LiveEvent, Priority, Sentiment, Triage
from livecs.pipeline import Pipeline
from livecs.processor.base import Processed
from livecs.store import Store, count_rows, list_sessions


class KeywordProcessor:
    """A tiny deterministic processor for pipeline tests (the real one is tested in tests/triage)."""

    def __init__(self) -> None:
        self.events: list[LiveEvent] = []

    def process(self, comment: Comment, now: float) -> Processed:
        if comment.text == "boom":
            raise RuntimeError("processor bug")
        intent = Intent.BUY_SIGNAL if "拍了" in comment.text else Intent.CHITCHAT
        priority = Priority.P0 if "骗子" in comment.text else Priority.P3
        return Processed(
            Triage(
                comment.comment_id,
                comment.room,
                comment.text,
                intent,
                1.0,
                Sentiment.NEU,
                0.5,
                priority=priority,
            )
        )

    def on_event(self, event: LiveEvent, now: float) -> None:
        self.events.append(event)


def make_settings(tmp_path: Path, **bus: int) -> Settings:
    s = load_settings(environ={})
    s.store.path = str(tmp_path / "rec.db")
    for k, v in bus.items():
        setattr(s.bus, k, v)
    return s


def make_pipeline(s: Settings, **kw: object) -> Pipeline:
    return Pipeline(s, MemoryBus(s.bus), Store(s.store), KeywordProcessor(), default_room="r1", **kw)  # type: ignore[arg-type]


async def test_every_accepted_comment_recorded_exactly_once(tmp_path: Path) -> None:
    p = make_pipeline(make_settings(tmp_path))
    await p.start()
    good = [{"id": f"m{i}", "text": f"有S码吗 {i}", "user_id": f"u{i % 7}"} for i in range(300)]
    payload = orjson.dumps(good + good[:50] + [{"text": ""}, {"id": "x"}, 5])
    assert await p.sink.submit_payload(payload, source="test") == 300
    await p.sink.submit_payload(b"{broken", source="test")
    await p.sink.submit_payload(b"\xff\xfe", source="test")
    await p.sink.submit_payload(orjson.dumps({"type": "order_paid", "id": "o1", "amount": 59}), source="test")
    await p.sink.submit_payload(
        orjson.dumps([{"id": "b1", "text": "拍了"}, {"id": "z", "text": "boom"}]), source="test"
    )
    assert await p.drain(5)
    await p.stop()
    c = p.counters
    assert c.accepted == 303 and c.processed == 303 and c.recorded == 302
    assert c.rejected == {
        "duplicate": 50,
        "empty_text": 1,
        "missing_field": 1,
        "not_an_object": 1,
        "malformed_json": 1,
        "invalid_utf8": 1,
    }
    assert c.buy_signals == 2 and c.events["order_paid"] == 1 and c.process_errors == 1
    conn = p.store.reader()
    (session,) = list_sessions(conn)
    assert session.room == "r1" and session.ended_at is not None and session.stats["recorded"] == 302
    assert count_rows(conn, "comments", session.session_id) == 302  # "boom" recorded too, without triage
    assert count_rows(conn, "triage", session.session_id) == 301
    assert count_rows(conn, "events", session.session_id) == 1
    await p.store.close()


async def test_slow_consumer_slows_the_source(tmp_path: Path) -> None:
    p = make_pipeline(make_settings(tmp_path, queue_size=5))
    await p.start(workers=0)
    objs = [{"id": f"m{i}", "text": "hi"} for i in range(20)]
    feeding = asyncio.create_task(p.sink.submit_objects(objs, source="test"))
    await asyncio.sleep(0.2)
    assert not feeding.done()  # the source waits: nothing is dropped, memory stays bounded
    assert (await p.bus.depths())["comments/process"] == 5
    worker = asyncio.create_task(p.run_worker("late"))
    assert await asyncio.wait_for(feeding, 5) == 20
    assert await p.drain(5)
    worker.cancel()
    await p.stop()
    assert p.counters.recorded == 20
    assert p.counters.snapshot()["bus"] == {}  # the in-process bus drops nothing of its own
    await p.store.close()


async def test_display_sheds_only_configured_priorities_never_the_record(tmp_path: Path) -> None:
    s = make_settings(tmp_path, results_queue_size=6)
    p = make_pipeline(s, publish_results=True)
    await p.bus.declare("results", "console")  # a console that never reads
    await p.start()
    await p.sink.submit_objects([{"id": f"m{i}", "text": "哈哈"} for i in range(40)], source="test")
    assert await p.drain(5)
    assert p.counters.shed_display > 0
    assert p.counters.recorded == 40
    await p.sink.submit_objects([{"id": "urgent", "text": "骗子"}], source="test")
    assert await p.drain(5)  # P0 is not sheddable: it waits for room on the display queue
    got = await p.bus.read("results", "console", "c", 100, 10)
    assert got, "the console still receives what fitted"
    await p.stop(drain_timeout=1)
    await p.store.close()


@pytest.mark.parametrize("n_workers", [1, 3])
async def test_several_workers_share_the_work(tmp_path: Path, n_workers: int) -> None:
    p = make_pipeline(make_settings(tmp_path, batch_size=7))
    await p.start(workers=n_workers)
    for chunk in range(10):
        await p.sink.submit_objects([{"id": f"{chunk}-{i}", "text": "冲"} for i in range(50)], source="t")
    assert await p.drain(5)
    await p.stop()
    assert p.counters.recorded == 500
    await p.store.close()


def test_session_ids_are_url_safe_whatever_the_room() -> None:
    from livecs.pipeline import new_session_id

    sid = new_session_id("../房间/<x>?&" + "r" * 100, now=0)
    assert "/" not in sid and "<" not in sid and "?" not in sid
    assert all(c.isascii() and (c.isalnum() or c in "_.:-") for c in sid)
    assert sid.startswith(".._") and len(sid) <= 40 + len("-19700101-000000-abcd")


async def test_workers_feeding_remote_consoles_never_wait_for_them(tmp_path: Path) -> None:
    """`serve --no-console` workers on Redis: a console that stopped reading (its group left behind) never
    holds back the record — even P0 results are shed from the display and counted instead of waiting."""
    s = make_settings(tmp_path, results_queue_size=6, batch_size=2)
    p = make_pipeline(s, publish_results=True, results_never_wait=True)
    await p.bus.declare("results", "console")  # a console that never reads
    await p.start()
    await p.sink.submit_objects([{"id": f"m{i}", "text": "骗子"} for i in range(40)], source="test")
    assert await p.drain(5)  # nothing waited for the display
    assert p.counters.recorded == 40 and p.counters.shed_display == 34
    got = await p.bus.read("results", "console", "c", 100, 10)
    assert len(got) == 6  # what fitted is displayed
    await p.stop(drain_timeout=1)
    await p.store.close()
