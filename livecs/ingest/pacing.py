"""Pacing for recorded or simulated streams: records go out at their recorded time divided by ``speed``.

:class:`Pacer` is the pure part: it turns a recorded time into a due offset (seconds after the start;
the first recorded time seen is the origin) and groups records into batches (:class:`Batch`) — a record
joins the pending batch when it is due within ``window_s`` of the batch and the batch stays within
``max_batch``.
A record without a recorded time (or any record when ``speed`` is ``None``) joins the pending batch, so
unpaced records are cut into batches by size only. Time is passed in, never read, so it is testable
without sleeping.

:class:`PacedSubmitter` puts a :class:`Pacer` on the event loop's clock: it sleeps until a batch is due and
hands it to a callback. :class:`ChunkReader` reads blocking generators (file parsers) in chunks on one
dedicated thread, so reads — and the generator's close when the replay stops — never overlap.
:func:`passes` numbers the passes of a replay (``1, 2, …`` up to ``max_passes``, endless when ``None``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

#: records due within this many seconds of the first pending one go out together
BATCH_WINDOW_S = 0.010
#: recorded-time gap inserted between two passes in loop mode
LOOP_GAP_S = 1.0


@dataclass(frozen=True, slots=True)
class Batch(Generic[T]):
    """Records that go out together, ``due`` seconds after the start."""

    due: float
    records: list[T]


class Pacer(Generic[T]):
    """Recorded time → due offset at ``speed`` (``None``: as fast as possible), and batching of records."""

    def __init__(self, speed: float | None, *, max_batch: int, window_s: float = BATCH_WINDOW_S) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be > 0 (or None for as fast as possible), got {speed!r}")
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.speed = speed
        self.max_batch = max_batch
        self.window_s = window_s
        #: recorded time of the first timed record: the origin of the due offsets
        self.origin: float | None = None
        self._pending: list[T] = []
        self._due = 0.0

    @property
    def pending(self) -> int:
        """How many records wait in the current batch."""
        return len(self._pending)

    def due(self, recorded: float | None) -> float | None:
        """Seconds after the start at which a record recorded at ``recorded`` goes out; ``None``: unpaced."""
        if recorded is None or self.speed is None:
            return None
        if self.origin is None:
            self.origin = recorded
        return (recorded - self.origin) / self.speed

    def add(self, records: Sequence[T], due: float | None, now: float) -> Batch[T] | None:
        """Queue ``records`` due at ``due`` (``None``: when the pending batch is due, or ``now`` if none).

        Returns the pending batch when ``records`` cannot join it (due later than its window, or it would
        grow past ``max_batch``); that batch goes out first, and ``records`` start the next one.
        """
        if due is None:
            due = self._due if self._pending else now
        cut: Batch[T] | None = None
        if self._pending and (
            len(self._pending) + len(records) > self.max_batch or due > self._due + self.window_s
        ):
            cut = self.take()
        if not self._pending:
            self._due = due
        self._pending.extend(records)
        return cut

    def take(self) -> Batch[T] | None:
        """The pending batch (emptied), or ``None`` when nothing waits."""
        if not self._pending:
            return None
        batch, self._pending = Batch(self._due, self._pending), []
        return batch


class PacedSubmitter(Generic[T]):
    """A :class:`Pacer` on the running loop's clock: batches go to ``submit`` when they are due.

    The start is when the submitter is made; call :meth:`flush` at the end so the last batch goes out.
    """

    def __init__(self, pacer: Pacer[T], submit: Callable[[list[T]], Awaitable[object]]) -> None:
        self.pacer = pacer
        self._submit = submit
        self._loop = asyncio.get_running_loop()
        self._start = self._loop.time()

    async def put(self, records: Sequence[T], recorded: float | None) -> None:
        """Queue ``records`` recorded at ``recorded``; the pending batch goes first if they start anew."""
        await self.put_due(records, self.pacer.due(recorded))

    async def put_due(self, records: Sequence[T], due: float | None) -> None:
        """Queue ``records`` due ``due`` seconds after the start (``None``: with the pending batch)."""
        batch = self.pacer.add(records, due, self._loop.time() - self._start)
        if batch is not None:
            await self._send(batch)

    async def flush(self) -> None:
        """Send the pending batch, once it is due."""
        batch = self.pacer.take()
        if batch is not None:
            await self._send(batch)

    async def _send(self, batch: Batch[T]) -> None:
        delay = self._start + batch.due - self._loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._submit(batch.records)


def _take(items: Iterator[T], n: int) -> list[T]:
    return list(itertools.islice(items, n))


class ChunkReader:
    """One worker thread reading blocking generators in chunks; ``with`` it to shut the thread down."""

    def __init__(self, name: str) -> None:
        # one thread, so reads, and a generator's close on cancellation, never overlap
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"livecs-{name}")

    def __enter__(self) -> ChunkReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    async def chunks(self, items: Generator[T, None, None], size: int) -> AsyncGenerator[list[T], None]:
        """Lists of up to ``size`` items read on the thread; ``items`` is closed there when iteration ends.

        Iterate inside ``contextlib.aclosing`` so that the close also happens on ``break`` or cancellation.
        """
        loop = asyncio.get_running_loop()
        try:
            while chunk := await loop.run_in_executor(self._executor, _take, items, size):
                yield chunk
        finally:
            self._executor.submit(items.close)


def passes(max_passes: int | None) -> Iterator[int]:
    """Pass numbers ``1, 2, …, max_passes``; endless when ``max_passes`` is ``None``."""
    return itertools.count(1) if max_passes is None else iter(range(1, max_passes + 1))
