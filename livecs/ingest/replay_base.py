"""What every replay source shares: reading a recording on a worker thread, pacing, passes and stopping.

A replay source (:mod:`livecs.ingest.replay` for JSON Lines / CSV, :mod:`livecs.ingest.bilibili.replay`,
:mod:`livecs.ingest.douyin.replay`) only says how its file is decoded: :meth:`ReplaySourceBase.items`
yields the file's items (on the reader thread, see :class:`~livecs.ingest.pacing.ChunkReader`) and
:meth:`ReplaySourceBase.take` turns one item into records and their recorded time, or counts it as bad
through ``sink.reject``. The base paces the records (:class:`~livecs.ingest.pacing.PacedSubmitter`: N× the
recorded pace, or as fast as possible with ``speed=None``), runs the passes (one, or ``max_passes`` / for
ever with ``loop=True``; each pass after the first is shifted past the previous one by its recorded span
plus :data:`~livecs.ingest.pacing.LOOP_GAP_S`) and closes the file on the reader thread when the replay ends
or is cancelled.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Generator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypedDict, TypeVar

from livecs.ingest.base import IngestSink, Source
from livecs.ingest.pacing import LOOP_GAP_S, ChunkReader, PacedSubmitter, Pacer, passes

ItemT = TypeVar("ItemT")
RecordT = TypeVar("RecordT")

#: default number of records per submit call
DEFAULT_BATCH = 500


class ReplayOptions(TypedDict, total=False):
    """The options every replay takes (a subclass passes ``**options`` on to the base)."""

    speed: float | None
    room: str | None
    loop: bool
    batch: int
    max_passes: int | None
    name: str


@dataclass(slots=True)
class Span:
    """The first and the latest recorded time seen in a pass (``None`` until a timed item is seen)."""

    first: float | None = None
    last: float | None = None

    def see(self, recorded: float | None) -> None:
        """Take ``recorded`` (``None``: an untimed item, ignored) into the span."""
        if recorded is None:
            return
        self.first = recorded if self.first is None else self.first
        self.last = recorded if self.last is None else max(self.last, recorded)

    @property
    def length(self) -> float:
        """Latest minus first recorded time; 0 when nothing timed was seen."""
        return 0.0 if self.first is None or self.last is None else self.last - self.first


@dataclass(slots=True)
class Taken(Generic[RecordT]):
    """What one good item gave: records (possibly none) and their recorded time (``None``: untimed)."""

    records: Sequence[RecordT]
    recorded: float | None


class ReplaySourceBase(Source, Generic[ItemT, RecordT]):
    """A recording replayed into the sink, paced; subclasses decode (:meth:`items`, :meth:`take`) and
    submit (:meth:`submit`). Progress: :attr:`passes`, and the subclass's counters."""

    #: items read from the file per trip to the reader thread
    read_chunk: int = DEFAULT_BATCH
    #: where progress and warnings are logged
    logger = logging.getLogger("livecs.ingest.replay")

    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = None,
        room: str | None = None,
        loop: bool = False,
        batch: int = DEFAULT_BATCH,
        max_passes: int | None = None,
        name: str | None = None,
    ) -> None:
        """``speed``: N× the recorded pace (``None``: as fast as possible); ``room``: the room to force;
        ``loop``: replay ``max_passes`` times (``None``: for ever); ``batch``: records per submit call;
        ``name``: the source's name in counters and logs (default: the class's)."""
        if speed is not None and speed <= 0:
            raise ValueError("speed must be > 0 (or None for as fast as possible)")
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.path = Path(path)
        self.speed = speed
        self.room = room
        self.loop = loop
        self.batch = batch
        self.max_passes = max_passes if loop else 1
        self.name = name or type(self).name
        self.passes = 0
        #: recorded-time offset of the current pass (loop mode): the spans of the passes before, plus gaps
        self.shift = 0.0

    @abc.abstractmethod
    def items(self, sink: IngestSink) -> Generator[ItemT, None, None]:
        """The file's items, for one pass; the generator runs (and is closed) on the reader thread."""

    @abc.abstractmethod
    def take(self, item: ItemT, pass_no: int, sink: IngestSink) -> Taken[RecordT] | None:
        """One item → its records and recorded time (before :attr:`shift`); a bad one is counted through
        ``sink.reject`` and gives ``None``."""

    @abc.abstractmethod
    async def submit(self, sink: IngestSink, records: list[RecordT]) -> None:
        """Hand a due batch to the sink."""

    def pass_done(self, pass_no: int) -> bool:
        """Called after each pass (its records flushed): log progress; ``False`` stops the replay."""
        return True

    def stop_if_empty(self, read: int, unit: str) -> bool:
        """For ``pass_done``: ``False`` (and a warning in loop mode) when the file gave nothing."""
        if read:
            return True
        if self.loop:
            self.logger.warning("replay %s: no %s in the file; not looping", self.path, unit)
        return False

    async def run(self, sink: IngestSink) -> None:
        async def submit(records: list[RecordT]) -> None:
            await self.submit(sink, records)

        submitter = PacedSubmitter(Pacer[RecordT](self.speed, max_batch=self.batch), submit)
        with ChunkReader(self.name) as reader:
            for pass_no in passes(self.max_passes):
                self.passes = pass_no
                span = Span()
                async with aclosing(reader.chunks(self.items(sink), self.read_chunk)) as chunks:
                    async for chunk in chunks:
                        for item in chunk:
                            taken = self.take(item, pass_no, sink)
                            if taken is None:
                                continue
                            span.see(taken.recorded)
                            if taken.records:
                                recorded = taken.recorded
                                await submitter.put(
                                    taken.records, None if recorded is None else recorded + self.shift
                                )
                await submitter.flush()
                if not self.pass_done(pass_no):
                    break
                self.shift += span.length + LOOP_GAP_S
