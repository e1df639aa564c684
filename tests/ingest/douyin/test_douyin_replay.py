"""Recorded Douyin frames: the file format, the replay source, `replay --format douyin-frames` end to end."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from livecs.config import load_settings
from livecs.ingest.douyin.codec import encode_batch
from livecs.ingest.douyin.record import (
    MAGIC,
    BadRecord,
    FrameFileError,
    FrameWriter,
    RecordedFrame,
    read_frames,
)
from livecs.ingest.douyin.replay import DouyinFramesReplaySource
from livecs.ingest.replay import ReplayFormatError
from livecs.models import EventKind
from livecs.runner import run_replay
from tests.ingest.conftest import Collected
from tests.ingest.douyin.dy_fixtures import (
    FIXTURE,
    FIXTURE_CHATS,
    FIXTURE_CLUBS,
    FIXTURE_ENTERS,
    FIXTURE_FOLLOWS,
    FIXTURE_GIFTS,
    FIXTURE_LIKES,
    FIXTURE_REPUSHED_RECORDS,
    FIXTURE_VIEWERS,
    chat,
    fixture_frames,
    write_fixture,
)

FIXTURE_EVENTS = (
    FIXTURE_GIFTS + FIXTURE_LIKES + FIXTURE_ENTERS + FIXTURE_FOLLOWS + FIXTURE_VIEWERS + FIXTURE_CLUBS
)


def test_committed_fixture_is_what_the_builder_writes(tmp_path: Path) -> None:
    again = write_fixture(tmp_path / "again.dyf")
    assert again.read_bytes() == FIXTURE.read_bytes()


def test_writer_reader_round_trip_and_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "r.dyf"
    frames = [encode_batch([chat(i)], log_id=i) for i in range(5)]
    with FrameWriter(path, start=10.0, room="r1", room_id=42) as w:
        for i, f in enumerate(frames):
            w.write(f, 10.0 + i)
    items = list(read_frames(path))
    assert items[0] == {"room": "r1", "room_id": 42, "started": 10.0, "source": "douyin"}
    assert [f.data for f in items[1:] if isinstance(f, RecordedFrame)] == frames
    assert [f.arrival for f in items[1:] if isinstance(f, RecordedFrame)] == [10.0, 11.0, 12.0, 13.0, 14.0]
    path.write_bytes(path.read_bytes()[:-3])  # a crash mid-write
    items = list(read_frames(path))
    assert len(items) == 1 + 4 + 1 and isinstance(items[-1], BadRecord) and items[-1].index == 4


def test_not_a_recording(tmp_path: Path) -> None:
    bad = tmp_path / "x.dyf"
    bad.write_bytes(b"hello\n")
    with pytest.raises(FrameFileError):
        list(read_frames(bad))
    bad.write_bytes(MAGIC + b"[1]\n")
    with pytest.raises(FrameFileError):
        list(read_frames(bad))


async def test_fixture_replays_through_the_codec(collected: Collected) -> None:
    source = DouyinFramesReplaySource(FIXTURE, speed=None)
    await source.run(collected.sink)
    assert len(collected.comments) == FIXTURE_CHATS
    assert len(collected.events) == FIXTURE_EVENTS
    kinds = {k: sum(1 for e in collected.events if e.kind is k) for k in EventKind}
    assert kinds[EventKind.GIFT] == FIXTURE_GIFTS and kinds[EventKind.FOLLOW] == FIXTURE_FOLLOWS
    assert collected.comments[0].room == "dyroom" and collected.comments[0].member_tier.name == "SVIP"
    assert collected.counters.rejected == {"douyin_bad_frame": 1, "duplicate": FIXTURE_REPUSHED_RECORDS}
    assert source.frames_read == len(fixture_frames())
    assert source.pump is not None and source.pump.parser.ended
    assert source.pump.parser.unknown == {"WebcastInRoomBannerMessage": 2}


async def test_recorded_pace(tmp_path: Path, collected: Collected) -> None:
    started = time.perf_counter()
    await DouyinFramesReplaySource(FIXTURE, speed=10.0, room="r").run(collected.sink)
    elapsed = time.perf_counter() - started
    assert 0.2 <= elapsed < 2.0  # the fixture spans 2.5 s of arrivals; at 10× about 0.25 s
    assert {c.room for c in collected.comments} == {"r"}


async def test_torn_file_counts_and_keeps_what_came_before(tmp_path: Path, collected: Collected) -> None:
    torn = tmp_path / "torn.dyf"
    torn.write_bytes(FIXTURE.read_bytes()[:-20])
    await DouyinFramesReplaySource(torn).run(collected.sink)
    assert collected.counters.rejected["douyin_torn_record"] == 1
    assert len(collected.comments) == FIXTURE_CHATS


async def test_format_error(tmp_path: Path, collected: Collected) -> None:
    bad = tmp_path / "x.dyf"
    bad.write_text("delta_s,text\n")
    with pytest.raises(ReplayFormatError):
        await DouyinFramesReplaySource(bad).run(collected.sink)


async def test_replay_command_end_to_end_exactly_once(tmp_path: Path) -> None:
    """``replay FILE --format douyin-frames`` into the store: every chat and event once (a re-pushed batch
    included)."""
    settings = load_settings(environ={})
    settings.store.path = str(tmp_path / "rec.db")
    assert (
        await run_replay(settings, str(FIXTURE), fmt="douyin-frames", speed=None, room=None, loop=False) == 0
    )
    with sqlite3.connect(settings.store.path) as conn:
        comments = conn.execute("SELECT COUNT(*), COUNT(DISTINCT comment_id) FROM comments").fetchone()
        events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert comments == (FIXTURE_CHATS, FIXTURE_CHATS)
    assert events == FIXTURE_EVENTS


async def test_dyf_extension_is_recognised(tmp_path: Path) -> None:
    settings = load_settings(environ={})
    settings.store.path = str(tmp_path / "rec.db")
    assert await run_replay(settings, str(FIXTURE), fmt=None, speed=None, room="x", loop=False) == 0
    with sqlite3.connect(settings.store.path) as conn:
        assert conn.execute("SELECT COUNT(*), MIN(room) FROM comments").fetchone() == (FIXTURE_CHATS, "x")
