"""Replay recorded Douyin frames (``replay FILE --format douyin-frames``) through the live client's codec.

The file is what ``serve --source douyin --record FILE`` wrote (:mod:`livecs.ingest.douyin.record`): the
raw websocket messages with their arrival times. Each frame goes through the
:class:`~livecs.ingest.douyin.pump.FramePump` (codec, message parser) exactly as it did live, with the
arrival time as "now" (so records without a time of their own get the time they arrived, and a replay
gives the same records every time); the records are paced by arrival time (``speed``: N× the recorded
pace, ``None`` as fast as possible, see :mod:`livecs.ingest.pacing`) and go to ``sink.submit_records``.
The sink's id dedup makes the counts exactly-once: a batch the server pushed twice (around a reconnect) is
recorded once.

Drops are counted like live ones (``sink.reject("douyin_<reason>")``); a torn or corrupt tail of the file
is ``douyin_torn_record`` and ends the replay. The room is ``room`` when given, else the room in the
file's header, else ``douyin``. The file is read on a worker thread in chunks.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import Final, cast

from livecs.ingest.base import IngestSink
from livecs.ingest.douyin.messages import MessageParser
from livecs.ingest.douyin.pump import REJECT_PREFIX, FramePump
from livecs.ingest.douyin.record import BadRecord, FrameFileError, RecordedFrame, read_frames
from livecs.ingest.message_parser import Record
from livecs.ingest.replay import ReplayFormatError
from livecs.ingest.replay_base import DEFAULT_BATCH, ReplaySourceBase, Taken

log = logging.getLogger("livecs.ingest.douyin.replay")

FORMAT_NAME: Final = "douyin-frames"
SOURCE_NAME: Final = "douyin-frames"
DEFAULT_ROOM: Final = "douyin"
READ_CHUNK_FRAMES: Final = 256
TORN_RECORD: Final = "torn_record"


class DouyinFramesReplaySource(ReplaySourceBase[RecordedFrame | BadRecord, Record]):
    """Recorded frames replayed into the sink. Progress: :attr:`frames_read`, :attr:`records`."""

    name = SOURCE_NAME
    read_chunk = READ_CHUNK_FRAMES
    logger = log

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = None,
        room: str | None = None,
        batch: int = DEFAULT_BATCH,
        name: str = SOURCE_NAME,
    ) -> None:
        super().__init__(path, speed=speed, room=room, loop=False, batch=batch, max_passes=1, name=name)
        self.frames_read = 0
        self.records = 0
        self.pump: FramePump | None = None

    def items(self, sink: IngestSink) -> Generator[RecordedFrame | BadRecord, None, None]:
        """The frames after the file's header; the header (read here) gives the room and the anchor."""
        try:
            frames = read_frames(self.path)
            header = next(frames)
        except FrameFileError as exc:
            raise ReplayFormatError(str(exc)) from None
        assert isinstance(header, dict)
        room = self.room or str(header.get("room") or "") or DEFAULT_ROOM
        anchor = header.get("anchor_id")
        self.pump = FramePump(MessageParser(room, anchor_id=anchor if isinstance(anchor, int) else 0))
        return cast("Generator[RecordedFrame | BadRecord, None, None]", frames)

    def take(self, item: RecordedFrame | BadRecord, pass_no: int, sink: IngestSink) -> Taken[Record] | None:
        if isinstance(item, BadRecord):
            sink.reject(REJECT_PREFIX + TORN_RECORD, source=self.name, detail=f"{self.path}: {item.detail}")
            return None
        assert self.pump is not None
        self.frames_read += 1
        out = self.pump.feed(item.data, item.arrival)
        for reason, detail in out.drops:
            sink.reject(REJECT_PREFIX + reason, source=self.name, detail=detail)
        self.records += len(out.records)
        return Taken(out.records, item.arrival)

    async def submit(self, sink: IngestSink, records: list[Record]) -> None:
        await sink.submit_records(records, source=self.name)

    def pass_done(self, pass_no: int) -> bool:
        assert self.pump is not None
        log.info(
            "replay %s: %d frames, %d records, %d dropped, live ended: %s",
            self.path.name,
            self.frames_read,
            self.records,
            self.pump.health.snapshot(0)["dropped"],
            self.pump.parser.ended,
        )
        return False
