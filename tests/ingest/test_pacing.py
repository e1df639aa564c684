"""The shared pacing pieces: the pure :class:`Pacer`, the submitter on the loop clock, the chunk reader."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Generator
from contextlib import aclosing

import pytest

from livecs.ingest.pacing import BATCH_WINDOW_S, Batch, ChunkReader, PacedSubmitter, Pacer, passes

# -- Pacer: due offsets ---------------------------------------------------------------------------------


def test_due_is_recorded_time_since_the_first_divided_by_speed() -> None:
    pacer = Pacer[str](4.0, max_batch=10)
    assert pacer.due(1000.0) == 0.0  # the first recorded time is the origin
    assert pacer.due(1002.0) == 0.5
    assert pacer.due(999.0) == -0.25  # earlier than the origin: already due
    assert pacer.origin == 1000.0


def test_unpaced_and_untimed_records_have_no_due() -> None:
    assert Pacer[str](None, max_batch=10).due(1000.0) is None
    pacer = Pacer[str](1.0, max_batch=10)
    assert pacer.due(None) is None
    assert pacer.origin is None  # an untimed record does not fix the origin
    assert pacer.due(5.0) == 0.0


@pytest.mark.parametrize("speed", [0.0, -1.0])
def test_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        Pacer[str](speed, max_batch=1)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Pacer[str](1.0, max_batch=0)


# -- Pacer: batching ------------------------------------------------------------------------------------


def test_records_due_within_the_window_go_together() -> None:
    pacer = Pacer[str](1.0, max_batch=100, window_s=0.01)
    assert pacer.add(["a"], 0.0, now=0.0) is None
    assert pacer.add(["b"], 0.005, now=0.0) is None
    assert pacer.add(["c"], 0.01, now=0.0) is None  # exactly at the window's edge: still in
    assert pacer.add(["d"], 0.02, now=0.0) == Batch(0.0, ["a", "b", "c"])
    assert pacer.pending == 1
    assert pacer.take() == Batch(0.02, ["d"])
    assert pacer.take() is None and pacer.pending == 0


def test_a_batch_is_cut_before_it_grows_past_max_batch() -> None:
    pacer = Pacer[int](None, max_batch=3)
    assert pacer.add([1, 2], None, now=0.0) is None
    assert pacer.add([3], None, now=0.0) is None
    assert pacer.add([4, 5], None, now=0.0) == Batch(0.0, [1, 2, 3])
    # a record group larger than max_batch still goes as one batch, on its own
    assert pacer.add([6, 7, 8, 9], None, now=1.0) == Batch(0.0, [4, 5])
    assert pacer.take() == Batch(0.0, [6, 7, 8, 9])


def test_unpaced_records_are_cut_by_size_only() -> None:
    pacer = Pacer[int](None, max_batch=2)
    cuts = [pacer.add([i], pacer.due(float(i) * 100), now=float(i)) for i in range(5)]
    # due when the first one came, and the batches cut from it inherit that (long past) due
    assert cuts == [None, None, Batch(0.0, [0, 1]), None, Batch(0.0, [2, 3])]
    assert pacer.take() == Batch(0.0, [4])
    assert pacer.add([5], None, now=7.0) is None and pacer.take() == Batch(7.0, [5])


def test_an_untimed_record_joins_the_pending_batch_or_is_due_now() -> None:
    pacer = Pacer[str](1.0, max_batch=10, window_s=0.01)
    assert pacer.add(["x"], None, now=3.0) is None  # nothing pending: due now
    assert pacer.add(["t"], pacer.due(100.0), now=3.0) is None  # due 0.0, already late: joins
    assert pacer.add(["y"], None, now=9.0) is None  # joins whatever its due
    assert pacer.add(["z"], pacer.due(105.0), now=9.0) == Batch(3.0, ["x", "t", "y"])
    assert pacer.take() == Batch(5.0, ["z"])


def test_the_window_is_measured_from_the_first_pending_record() -> None:
    pacer = Pacer[int](1.0, max_batch=100, window_s=BATCH_WINDOW_S)
    dues = [0.0, 0.004, 0.008, 0.012]
    cuts = [pacer.add([i], due, now=0.0) for i, due in enumerate(dues)]
    assert cuts == [None, None, None, Batch(0.0, [0, 1, 2])]


# -- passes ---------------------------------------------------------------------------------------------


def test_passes() -> None:
    assert list(passes(3)) == [1, 2, 3]
    assert list(passes(0)) == []
    endless = passes(None)
    assert [next(endless) for _ in range(5)] == [1, 2, 3, 4, 5]


# -- PacedSubmitter -------------------------------------------------------------------------------------


async def test_submitter_sends_batches_in_order_unpaced_without_waiting() -> None:
    sent: list[list[int]] = []

    async def submit(batch: list[int]) -> None:
        sent.append(batch)

    submitter = PacedSubmitter(Pacer[int](None, max_batch=2), submit)
    t = time.monotonic()
    for i in range(5):
        await submitter.put([i], recorded=1000.0 + i * 60)
    await submitter.flush()
    await submitter.flush()  # nothing left: no empty batch
    assert sent == [[0, 1], [2, 3], [4]]
    assert time.monotonic() - t < 0.5


async def test_submitter_waits_until_a_batch_is_due() -> None:
    sent: list[tuple[float, list[str]]] = []
    t = time.monotonic()

    async def submit(batch: list[str]) -> None:
        sent.append((time.monotonic() - t, batch))

    submitter = PacedSubmitter(Pacer[str](10.0, max_batch=10), submit)
    await submitter.put(["a"], 50.0)
    await submitter.put(["b"], 50.0005)
    await submitter.put(["c"], 51.0)  # due 0.1 s after the start
    await submitter.flush()
    assert [batch for _, batch in sent] == [["a", "b"], ["c"]]
    assert sent[0][0] < 0.05
    assert 0.09 <= sent[1][0] < 0.5


# -- ChunkReader ----------------------------------------------------------------------------------------


async def test_chunk_reader_reads_on_one_thread_and_closes_the_generator_there() -> None:
    threads: set[str] = set()
    closed = threading.Event()

    def numbers() -> Generator[int, None, None]:
        try:
            for i in range(10):
                threads.add(threading.current_thread().name)
                yield i
        finally:
            threads.add(threading.current_thread().name)
            closed.set()

    with ChunkReader("test") as reader:
        chunks = [chunk async for chunk in reader.chunks(numbers(), 4)]
        assert chunks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and closed.is_set()
        closed.clear()
        async with aclosing(reader.chunks(numbers(), 3)) as it:
            async for chunk in it:
                assert chunk == [0, 1, 2]
                break
        await asyncio.to_thread(closed.wait, 5)
    assert closed.is_set()
    assert len(threads) == 1 and next(iter(threads)).startswith("livecs-test")
