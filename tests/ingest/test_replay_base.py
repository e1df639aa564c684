"""The replay base every replay format shares: the pass span, and passes shifted past each other."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from livecs.ingest.base import IngestSink
from livecs.ingest.pacing import LOOP_GAP_S
from livecs.ingest.replay_base import ReplaySourceBase, Span, Taken
from tests.ingest.conftest import Collected


def test_span_runs_from_the_first_to_the_latest_timed_item() -> None:
    span = Span()
    assert span.length == 0.0
    for recorded in (None, 10.0, 14.0, 12.0, None):
        span.see(recorded)
    assert (span.first, span.last, span.length) == (10.0, 14.0, 4.0)


class _Numbers(ReplaySourceBase[float | None, float]):
    """Items are recorded times; ``None`` is a bad item. Records what each pass got, shifted."""

    name = "numbers"

    def __init__(self, values: list[float | None], max_passes: int = 1) -> None:
        super().__init__("numbers", loop=True, max_passes=max_passes)
        self.values = values
        self.bad = 0
        self.got: list[tuple[int, float]] = []
        self.submitted: list[list[float]] = []

    def items(self, sink: IngestSink) -> Generator[float | None, None, None]:
        yield from self.values

    def take(self, item: float | None, pass_no: int, sink: IngestSink) -> Taken[float] | None:
        if item is None:
            self.bad += 1
            return None
        self.got.append((pass_no, item + self.shift))
        return Taken([item + self.shift], item)

    async def submit(self, sink: IngestSink, records: list[float]) -> None:
        self.submitted.append(records)

    def pass_done(self, pass_no: int) -> bool:
        return self.stop_if_empty(len(self.got), "numbers")


async def test_each_pass_is_shifted_past_the_previous_one(collected: Collected) -> None:
    source = _Numbers([5.0, None, 7.0, 6.0], max_passes=3)
    await source.run(collected.sink)
    assert source.passes == 3 and source.bad == 3
    span = 7.0 - 5.0 + LOOP_GAP_S
    assert [t for _, t in source.got] == [5.0 + k * span + d for k in range(3) for d in (0.0, 2.0, 1.0)]
    assert [r for batch in source.submitted for r in batch] == [t for _, t in source.got]


async def test_an_empty_file_stops_the_loop(collected: Collected) -> None:
    source = _Numbers([None, None], max_passes=5)
    await source.run(collected.sink)
    assert source.passes == 1 and source.bad == 2 and not source.submitted


def test_speed_and_batch_are_checked() -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplaySourceBase.__init__(_Numbers([]), "x", speed=0)
    with pytest.raises(ValueError, match="batch"):
        ReplaySourceBase.__init__(_Numbers([]), "x", batch=0)
