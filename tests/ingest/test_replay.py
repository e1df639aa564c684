"""ReplaySource: JSON Lines and CSV files through a real Ingestor — bad lines counted, pacing, loop mode."""

from __future__ import annotations

import asyncio
import io
import itertools
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecs.bus.memory import MemoryBus
from livecs.config import Settings, StoreSettings
from livecs.ingest.replay import (
    ReplayFormatError,
    ReplaySource,
    _TooLong,
    detect_format,
    iter_raw_lines,
)
from livecs.ingest.settings import RecordLimits
from livecs.models import MemberTier
from livecs.pipeline import Pipeline
from livecs.store import Store, count_rows, list_sessions

if TYPE_CHECKING:
    from tests.ingest.conftest import Collected

CSV_HEADER = "id,platform,room,user_id,nickname,member_tier,fan_level,text,ts"


def comment(
    i: int | str, text: str = "有S码吗", room: str | None = "r1", ts: float | None = None, **kw: Any
) -> dict:
    obj: dict[str, Any] = {"id": f"c{i}", "user_id": f"u{i}", "nickname": f"n{i}", "text": text}
    if room is not None:
        obj["room"] = room
    if ts is not None:
        obj["ts"] = ts
    obj.update(kw)
    return obj


def jsonl(*lines: bytes | dict | list) -> bytes:
    out = []
    for line in lines:
        out.append(line if isinstance(line, bytes) else orjson.dumps(line))
    return b"\n".join(out) + b"\n"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# -- line framing ---------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    chunk=st.integers(min_value=1, max_value=64),
    final_newline=st.booleans(),
)
def test_raw_lines_survive_any_chunking(lines: list[bytes], chunk: int, final_newline: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    got = list(iter_raw_lines(io.BytesIO(data), max_line_bytes=1000, chunk_bytes=chunk))
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert got == [line.removesuffix(b"\r") for line in expected]


@pytest.mark.parametrize("chunk", [3, 7, 64, 4096])
def test_overlong_line_is_skipped_without_losing_its_neighbours(chunk: int) -> None:
    data = b"short\n" + b"x" * 500 + b"\nafter\n" + b"y" * 300
    got = list(iter_raw_lines(io.BytesIO(data), max_line_bytes=100, chunk_bytes=chunk))
    assert got == [b"short", _TooLong(500), b"after", _TooLong(300)]


def test_format_is_detected_from_the_extension(tmp_path: Path) -> None:
    assert detect_format("a.jsonl") == "jsonl" and detect_format("a.NDJSON") == "jsonl"
    assert detect_format("x/b.csv") == "csv"
    with pytest.raises(ReplayFormatError):
        detect_format("c.txt")
    with pytest.raises(ValueError):
        ReplaySource(tmp_path / "a.jsonl", speed=0)


# -- JSON Lines -----------------------------------------------------------------------------------------


async def test_jsonl_every_bad_line_is_counted_and_good_ones_flow(
    tmp_path: Path, collected: Collected
) -> None:
    data = jsonl(
        comment(1),
        [comment(2), comment(3), "not an object"],  # a batch on one line
        b"",  # blank: skipped, not counted
        b"   ",
        b'{"id": "c4", "text": ',  # malformed JSON
        b'{"id": "c5", "text": "\xff\xfe bad utf8", "room": "r1"}',  # invalid UTF-8
        {"id": "c6", "room": "r1"},  # missing text
        comment(7, text="有\x00S\u202e码\x07吗\r\n"),  # control characters are cleaned
        comment(8, text="长" * 5000),  # capped at the sink's 50 characters, marked
        comment(1, text="redelivered"),  # duplicate id
        b"\xef\xbb\xbf",  # a stray BOM mid-file is still malformed
        comment(9, text=1111),  # numbers are text too
        b'{"type": "order_paid", "id": "o1", "room": "r1", "order_id": "x", "amount": 99}',
    )
    path = write(tmp_path, "rec.jsonl", data)
    src = ReplaySource(path)
    await src.run(collected.sink)

    assert collected.comment_ids == ["c1", "c2", "c3", "c7", "c8", "c9"]
    assert [e.event_id for e in collected.events] == ["o1"]
    by_id = {c.comment_id: c for c in collected.comments}
    assert by_id["c7"].text == "有S码吗"
    assert len(by_id["c8"].text) == 50 and by_id["c8"].truncated
    c = collected.counters
    assert dict(c.rejected) == {
        "not_an_object": 1,
        "malformed_json": 2,
        "invalid_utf8": 1,
        "missing_field": 1,
        "duplicate": 1,
    }
    assert c.cleaned["truncated"] == 1
    assert c.accepted == 7
    assert c.received == 13  # 10 values handed over (the batch line holds 3) + 3 lines that were not JSON
    assert src.records_read == 10
    assert src.lines_read == 11 and src.bad_lines == 3  # blank lines are not counted


async def test_jsonl_absurdly_long_line_is_rejected_and_replay_goes_on(
    tmp_path: Path, make_sink: Any
) -> None:
    limits = RecordLimits(max_payload_bytes=1024, max_text_chars=100)
    collected = make_sink(limits)
    data = jsonl(comment(1), comment(2, text="x" * 10_000), comment(3))
    src = ReplaySource(write(tmp_path, "long.jsonl", data))
    await src.run(collected.sink)
    assert collected.comment_ids == ["c1", "c3"]
    assert collected.counters.rejected["payload_too_large"] == 1


async def test_room_is_a_default_or_an_override(tmp_path: Path, collected: Collected) -> None:
    path = write(tmp_path, "rooms.jsonl", jsonl(comment(1, room=None), comment(2, room="other")))
    await ReplaySource(path).run(collected.sink)
    assert collected.counters.rejected["missing_field"] == 1  # no room anywhere
    assert [(c.comment_id, c.room) for c in collected.comments] == [("c2", "other")]

    forced = ReplaySource(path, room="studio", name="replay2")
    sink2 = collected.sink
    await forced.run(sink2)
    assert {(c.comment_id, c.room) for c in collected.comments[1:]} == {("c1", "studio"), ("c2", "studio")}


async def test_first_line_bom_and_crlf_are_accepted(tmp_path: Path, collected: Collected) -> None:
    data = b"\xef\xbb\xbf" + orjson.dumps(comment(1)) + b"\r\n" + orjson.dumps(comment(2)) + b"\r\n"
    await ReplaySource(write(tmp_path, "bom.jsonl", data)).run(collected.sink)
    assert collected.comment_ids == ["c1", "c2"]


async def test_large_file_is_streamed_in_batches(tmp_path: Path, collected: Collected) -> None:
    n = 20_000
    path = tmp_path / "big.jsonl"
    with path.open("wb") as fh:
        for i in range(n):
            fh.write(orjson.dumps(comment(i, ts=1_700_000_000 + i / 1000)) + b"\n")
    calls = 0
    submit = collected.sink.submit_objects

    async def counting(objects: Any, **kw: Any) -> int:
        nonlocal calls
        calls += 1
        assert len(objects) <= 1000
        return await submit(objects, **kw)

    collected.sink.submit_objects = counting  # type: ignore[method-assign]
    t = time.monotonic()
    src = ReplaySource(path, batch=1000)
    await src.run(collected.sink)
    assert collected.counters.accepted == n and src.records_read == n
    assert calls == n // 1000
    assert time.monotonic() - t < 10


# -- CSV ------------------------------------------------------------------------------------------------


async def test_csv_rows_aliases_extras_and_bad_rows(tmp_path: Path, collected: Collected) -> None:
    rows = [
        CSV_HEADER + ",gift_note",
        'm1,douyin,r1,u1,小王,vip,5,"有S码吗, 165的",1700000000.5,',
        "m2,douyin,r1,u2,小李,,,几号链接,1700000001,hello",  # empty tier / fan level: defaults
        "m3,douyin,r1,u3,too,few",  # wrong column count
        'm4,douyin,r1,u4,小张,0,0,"第一行\n第二行",1700000002,',  # quoted line break
        'm5,douyin,r1,u5,小赵,0,0,"never closed,1700000003,',  # unterminated quote
        "m6,douyin,r1,u6,小钱,0,0,ok,1700000004,",  # still read after it
        "m7,douyin,r1,u7,x,0,0,\udcffbad,1700000005,",  # placeholder for invalid UTF-8 (replaced below)
        "m8,douyin,r1,u8,x,0,abc,fan level not a number,1700000006,",
        "m1,douyin,r1,u1,小王,vip,5,重复,1700000007,",  # duplicate id
        "m9,douyin,r1,u9,x,0,0,,1700000008,",  # empty text
        "",
    ]
    text = "\n".join(rows)
    data = b"\xef\xbb\xbf" + text.encode("utf-8", "surrogateescape")
    path = write(tmp_path, "rec.csv", data)
    src = ReplaySource(path)
    await src.run(collected.sink)

    assert collected.comment_ids == ["m1", "m2", "m4", "m6"]
    by_id = {c.comment_id: c for c in collected.comments}
    m1 = by_id["m1"]
    assert (m1.platform, m1.nickname, m1.member_tier, m1.fan_level, m1.text, m1.ts) == (
        "douyin",
        "小王",
        MemberTier.VIP,
        5,
        "有S码吗, 165的",
        1700000000.5,
    )
    assert by_id["m2"].extras == {"gift_note": "hello"} and by_id["m2"].member_tier is MemberTier.NONE
    assert by_id["m4"].text == "第一行 第二行"
    assert dict(collected.counters.rejected) == {
        "malformed_csv": 3,
        "invalid_field": 1,
        "duplicate": 1,
        "empty_text": 1,
    }


async def test_csv_alias_header_and_event_rows(tmp_path: Path, collected: Collected) -> None:
    data = "\n".join(
        [
            "Type,msg_id,uid,content,timestamp,amount",
            "comment,a1,u1,多少钱,1700000000000,",
            "order_paid,o1,u1,,1700000001000,99",
        ]
    )
    await ReplaySource(write(tmp_path, "alias.csv", data), room="r9").run(collected.sink)
    assert collected.comment_ids == ["a1"] and collected.comments[0].ts == 1_700_000_000
    assert collected.comments[0].room == "r9"
    assert [(e.event_id, e.kind.value, e.data) for e in collected.events] == [
        ("o1", "order_paid", {"amount": "99"})
    ]


async def test_csv_of_a_platform_export_with_minute_times(tmp_path: Path, collected: Collected) -> None:
    # the columns and time format of ../shared/data/real/commerce_rooms_dev.csv (every row was rejected)
    data = "\n".join(
        [
            "platform,room,category,time,user_id,text",
            "DY,店A,服饰鞋履,2025/4/10 20:18,u1,有S码吗",
            "DY,店A,服饰鞋履,2025/4/10 20:18,u2,多少钱",
            "DY,店A,服饰鞋履,2025/4/10 20:19,u3,拍了",
        ]
    )
    await ReplaySource(write(tmp_path, "export.csv", data)).run(collected.sink)
    assert [c.text for c in collected.comments] == ["有S码吗", "多少钱", "拍了"]
    assert [c.ts for c in collected.comments] == [1744287480.0, 1744287480.0, 1744287540.0]  # 12:18 UTC
    assert collected.comments[0].room == "店A" and collected.comments[0].extras == {"category": "服饰鞋履"}


async def test_csv_with_an_unusable_header_stops_the_replay(tmp_path: Path, collected: Collected) -> None:
    with pytest.raises(ReplayFormatError):
        await ReplaySource(write(tmp_path, "bad.csv", "id,text,id\n1,a,2\n")).run(collected.sink)


# -- pacing and loop --------------------------------------------------------------------------------------


def paced_file(tmp_path: Path, n: int = 11, step: float = 0.1) -> Path:
    return write(tmp_path, "paced.jsonl", jsonl(*(comment(i, ts=1_700_000_000 + i * step) for i in range(n))))


@pytest.mark.parametrize(
    ("speed", "low", "high"),
    [(1.0, 0.9, 1.8), (10.0, 0.08, 0.6), (None, 0.0, 0.5)],
    ids=["recorded-pace", "10x", "max"],
)
async def test_pacing_follows_recorded_timestamps(
    tmp_path: Path, collected: Collected, speed: float | None, low: float, high: float
) -> None:
    src = ReplaySource(paced_file(tmp_path), speed=speed)
    t = time.monotonic()
    await src.run(collected.sink)
    elapsed = time.monotonic() - t
    assert collected.counters.accepted == 11
    assert low <= elapsed <= high, elapsed


async def test_paced_records_arrive_spread_out(tmp_path: Path, collected: Collected) -> None:
    arrivals: list[float] = []
    submit = collected.sink.submit_objects

    async def stamp(objects: Any, **kw: Any) -> int:
        arrivals.extend(time.monotonic() for _ in objects)
        return await submit(objects, **kw)

    collected.sink.submit_objects = stamp  # type: ignore[method-assign]
    await ReplaySource(paced_file(tmp_path, n=6, step=0.5), speed=5.0).run(collected.sink)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 5 and all(0.05 <= g <= 0.4 for g in gaps), gaps


async def test_loop_mode_replays_with_fresh_ids_and_shifted_timestamps(
    tmp_path: Path, collected: Collected
) -> None:
    path = paced_file(tmp_path, n=5, step=1.0)
    src = ReplaySource(path, loop=True, max_passes=3)
    await src.run(collected.sink)
    ids = collected.comment_ids
    assert len(ids) == 15 and len(set(ids)) == 15
    assert ids[5:7] == ["c0#2", "c1#2"] and ids[10] == "c0#3"
    ts = [c.ts for c in collected.comments]
    assert ts == sorted(ts) and ts[5] - ts[4] == pytest.approx(1.0 + 0)  # one loop gap after the last
    assert "duplicate" not in collected.counters.rejected
    assert src.passes == 3


async def test_endless_loop_runs_until_cancelled(
    tmp_path: Path, collected: Collected, wait_until: Any
) -> None:
    src = ReplaySource(paced_file(tmp_path, n=10), loop=True)
    task = asyncio.create_task(src.run(collected.sink))
    await wait_until(lambda: src.records_read >= 200)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # ids stay unique pass after pass (what was read but not yet submitted is dropped with the task)
    assert len(set(collected.comment_ids)) == len(collected.comment_ids) >= 200 - 10
    assert "duplicate" not in collected.counters.rejected


async def test_loop_over_a_file_without_records_stops(tmp_path: Path, collected: Collected) -> None:
    src = ReplaySource(write(tmp_path, "empty.jsonl", b"\n{bad\n"), loop=True)
    await asyncio.wait_for(src.run(collected.sink), 5)
    assert collected.counters.rejected["malformed_json"] == 1


# -- end to end -------------------------------------------------------------------------------------------


async def test_jsonl_and_csv_end_to_end_into_sqlite(tmp_path: Path) -> None:
    settings_ = Settings(store=StoreSettings(path=str(tmp_path / "e2e.db")))
    store = Store(settings_.store)
    pipeline = Pipeline(settings_, MemoryBus(settings_.bus), store, None)
    await pipeline.start(workers=1)
    try:
        jl = write(
            tmp_path,
            "a.jsonl",
            jsonl(*(comment(i, ts=1_700_000_000 + i) for i in range(30)), b"garbage", comment(3)),
        )
        rows = [CSV_HEADER] + [f"k{i},douyin,r1,u{i},n,0,0,text {i},{1_700_000_100 + i}" for i in range(20)]
        cs = write(tmp_path, "b.csv", "\n".join([*rows, "k1,douyin,r1,u1,n,0,0,dup,1", "short,row"]) + "\n")
        await pipeline.run_source(ReplaySource(jl))
        await pipeline.run_source(ReplaySource(cs, speed=None))
        assert await pipeline.drain(10)
    finally:
        await pipeline.stop()
        await store.close()
    snap = pipeline.counters.snapshot()
    assert snap["accepted"] == 50 and snap["recorded"] == 50
    assert snap["rejected"] == {"malformed_json": 1, "duplicate": 2, "malformed_csv": 1}
    assert snap["sources"]["replay"] == "finished"
    conn = sqlite3.connect(tmp_path / "e2e.db")
    try:
        (session,) = list_sessions(conn)
        assert session.room == "r1" and session.source == "replay" and session.ended_at is not None
        assert count_rows(conn, "comments", session.session_id) == 50
    finally:
        conn.close()
