"""Replay of recorded Bilibili danmaku (``delta_s,time,date,text,user``): ts, ids, pacing, bad rows, loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from livecs.ingest.bilibili.replay import BilibiliCsvReplaySource, room_from_name
from livecs.ingest.replay import ReplayFormatError

if TYPE_CHECKING:
    from tests.ingest.conftest import Collected

CST = timezone(timedelta(hours=8))
# a made-up evening in a made-up room, in the column layout of the real recordings
ROWS = """delta_s,time,date,text,user
0.40,20:00:01,2022.05.01,主播晚上好,ua1
0.40,20:00:01,2022.05.01,来了来了,ub2
0.95,20:00:01,2022.05.01,"这个多少钱, 有链接吗",uc3
1.10,20:00:02,2022.05.01,？？？,ua1
1.10,20:00:02,2022.05.01,哈哈哈,ud4
2.60,20:00:03,2022.05.01,卡了,ue5
"""


def write(tmp_path: Path, text: str, name: str = "bilibili_room777_danmaku.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def wall(clock: str) -> float:
    return datetime.strptime(f"2022.05.01 {clock}", "%Y.%m.%d %H:%M:%S").replace(tzinfo=CST).timestamp()


async def test_rows_become_comments_with_china_time_and_stable_ids(
    tmp_path: Path, make_sink: Callable[..., Collected]
) -> None:
    path = write(tmp_path, ROWS, bom=True)
    first, second = make_sink(), make_sink()
    await BilibiliCsvReplaySource(path).run(first.sink)
    await BilibiliCsvReplaySource(path).run(second.sink)
    cs = first.comments
    assert [c.text for c in cs] == [
        "主播晚上好",
        "来了来了",
        "这个多少钱, 有链接吗",
        "？？？",
        "哈哈哈",
        "卡了",
    ]
    assert {c.room for c in cs} == {"777"} and {c.platform for c in cs} == {"bilibili"}
    assert (cs[0].user_id, cs[0].nickname) == ("ua1", "ua1")
    assert cs[0].ts == pytest.approx(wall("20:00:01") + 0.40)
    assert cs[2].ts == pytest.approx(wall("20:00:01") + 0.95)
    assert cs[5].ts == pytest.approx(wall("20:00:03") + 0.60)
    assert [c.ts for c in cs] == sorted(c.ts for c in cs)
    assert first.comment_ids == second.comment_ids and len(set(first.comment_ids)) == 6
    assert first.counters.accepted == 6 and not first.counters.rejected


async def test_malformed_rows_are_counted_and_skipped(tmp_path: Path, collected: Collected) -> None:
    bad = (
        ROWS.encode("utf-8")
        + b"3.00,20:00:04,2022.05.01,too,many,fields\n"
        + b"3.10,25:61:00,2022.05.01,bad clock,uf6\n"
        + b"abc,20:00:04,2022.05.01,bad delta,uf6\n"
        + b"3.20,20:00:04,2022.05.01,\xff\xfe bytes,uf6\n"
        + b"\n"
        + b"3.30,20:00:04,2022.05.01,,ug7\n"
        + b"3.40,20:00:04,2022.05.01,still here,uh8\n"
    )
    path = tmp_path / "rec.csv"
    path.write_bytes(bad)
    source = BilibiliCsvReplaySource(path, room="r9")
    await source.run(collected.sink)
    assert collected.comments[-1].text == "still here" and len(collected.comments) == 7
    assert {c.room for c in collected.comments} == {"r9"}
    assert collected.counters.rejected == {"malformed_csv": 4, "empty_text": 1}
    assert source.bad_rows == 4 and source.rows_read == 8


async def test_recorded_pace_and_speed(tmp_path: Path, collected: Collected) -> None:
    path = write(tmp_path, ROWS)  # 2.2 s of recording
    started = time.perf_counter()
    task = asyncio.create_task(BilibiliCsvReplaySource(path, speed=10.0).run(collected.sink))
    await asyncio.sleep(0.05)
    assert 2 <= len(collected.comments) < 6  # the first rows are out, the last one not yet
    await task
    elapsed = time.perf_counter() - started
    assert 0.2 <= elapsed < 1.5 and len(collected.comments) == 6


async def test_loop_passes_get_new_ids_and_later_times(tmp_path: Path, collected: Collected) -> None:
    path = write(tmp_path, ROWS)
    await BilibiliCsvReplaySource(path, loop=True, max_passes=3).run(collected.sink)
    cs = collected.comments
    assert len(cs) == 18 and len(set(collected.comment_ids)) == 18
    assert cs[6].comment_id == cs[0].comment_id + "#2" and cs[12].comment_id.endswith("#3")
    assert cs[6].ts == pytest.approx(cs[0].ts + (cs[5].ts - cs[0].ts) + 1.0)


async def test_not_this_layout_is_a_format_error(tmp_path: Path, collected: Collected) -> None:
    path = write(tmp_path, "id,text\n1,hi\n", name="x.csv")
    with pytest.raises(ReplayFormatError, match="missing column"):
        await BilibiliCsvReplaySource(path).run(collected.sink)


def test_room_from_file_name() -> None:
    assert room_from_name(Path("bilibili_room11365_danmaku.csv")) == "11365"
    assert room_from_name(Path("dump.csv")) == "bilibili"
    with pytest.raises(ValueError):
        BilibiliCsvReplaySource("x.csv", speed=0)
