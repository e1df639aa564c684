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
from contextlib import aclosing
from pathlib import Path
from typing import Final

from livecs.ingest.base import IngestSink, Source
from livecs.ingest.douyin.messages import MessageParser, Record
from livecs.ingest.douyin.pump import REJECT_PREFIX, FramePump
from livecs.ingest.douyin.record import BadRecord, FrameFileError, RecordedFrame, read_frames
from livecs.ingest.pacing import ChunkReader, PacedSubmitter, Pacer
from livecs.ingest.replay import ReplayFormatError

log = logging.getLogger("livecs.ingest.douyin.replay")

FORMAT_NAME: Final = "douyin-frames"
SOURCE_NAME: Final = "douyin-frames"
DEFAULT_ROOM: Final = "douyin"
READ_CHUNK_FRAMES: Final = 256
DEFAULT_BATCH: Final = 500
TORN_RECORD: Final = "torn_record"


class DouyinFramesReplaySource(Source):
    """Recorded frames replayed into the sink. Progress: :attr:`frames_read`, :attr:`records`."""

    name = SOURCE_NAME

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = None,
        room: str | None = None,
        batch: int = DEFAULT_BATCH,
        name: str = SOURCE_NAME,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be > 0 (or None for as fast as possible)")
        self.path = Path(path)
        self.speed = speed
        self.room = room
        self.batch = batch
        self.name = name
        self.frames_read = 0
        self.records = 0
        self.pump: FramePump | None = None

    async def run(self, sink: IngestSink) -> None:
        async def submit(records: list[Record]) -> None:
            await sink.submit_records(records, source=self.name)

        submitter = PacedSubmitter(Pacer[Record](self.speed, max_batch=self.batch), submit)
        with ChunkReader(self.name) as reader:
            try:
                items = read_frames(self.path)
                header = next(items)
            except FrameFileError as exc:
                raise ReplayFormatError(str(exc)) from None
            assert isinstance(header, dict)
            room = self.room or str(header.get("room") or "") or DEFAULT_ROOM
            anchor = header.get("anchor_id")
            parser = MessageParser(room, anchor_id=anchor if isinstance(anchor, int) else 0)
            pump = self.pump = FramePump(parser)
            async with aclosing(reader.chunks(items, READ_CHUNK_FRAMES)) as chunks:
                async for chunk in chunks:
                    for item in chunk:
                        if isinstance(item, BadRecord):
                            sink.reject(
                                REJECT_PREFIX + TORN_RECORD,
                                source=self.name,
                                detail=f"{self.path}: {item.detail}",
                            )
                            continue
                        assert isinstance(item, RecordedFrame)
                        self.frames_read += 1
                        out = pump.feed(item.data, item.arrival)
                        for reason, detail in out.drops:
                            sink.reject(REJECT_PREFIX + reason, source=self.name, detail=detail)
                        if out.records:
                            self.records += len(out.records)
                            await submitter.put(out.records, item.arrival)
            await submitter.flush()
        log.info(
            "replay %s: %d frames, %d records, %d dropped, live ended: %s",
            self.path.name,
            self.frames_read,
            self.records,
            pump.health.snapshot(0)["dropped"],
            parser.ended,
        )
