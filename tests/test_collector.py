"""Short collector pauses: the first pipeline of a process freezes the start-up heap (full collections no
longer walk the triage model and library), and each full collection's survivors are frozen after it, so the
next one walks only what survived since; every ``deep_every_s`` one full collection walks everything again."""

import gc
from pathlib import Path
from typing import Any

import pytest

from livecs import collector, runner
from livecs.config import load_settings


@pytest.fixture
def fresh_collector(monkeypatch: pytest.MonkeyPatch) -> Any:
    # a pipeline opened by an earlier test of this process left its freezer installed (once per process, as
    # in a command): start from CPython's own state, and put back what was there after
    thresholds, callbacks = gc.get_threshold(), list(gc.callbacks)
    collector.release()
    monkeypatch.setattr(collector, "_heap_frozen", False)
    yield collector
    collector.release()
    gc.callbacks[:] = callbacks
    gc.set_threshold(*thresholds)


async def test_open_pipeline_takes_the_processor_out_of_full_collections(
    tmp_path: Path, fresh_collector: Any
) -> None:
    settings = load_settings(environ={})
    settings.store.path = str(tmp_path / "rec.db")
    settings.scripts.library_db = str(tmp_path / "library.db")
    async with runner.open_pipeline(settings) as pipeline:
        processor = pipeline.processor
        assert gc.get_freeze_count() > 0
        assert not any(o is processor for o in gc.get_objects())  # not walked by a collection
        assert collector.installed() is not None
        frozen = gc.get_freeze_count()
        collector.freeze_startup_heap()  # once per process: a second pipeline freezes nothing more
        assert gc.get_freeze_count() == frozen
        assert sum(isinstance(cb, collector.SurvivorFreezer) for cb in gc.callbacks) == 1
    gc.disable()  # no automatic collection between the two lines below
    try:
        tracked_later = {"k": [1]}  # what is allocated afterwards is collected as before…
        assert any(o is tracked_later for o in gc.get_objects())
    finally:
        gc.enable()


def test_a_full_collection_freezes_its_survivors(fresh_collector: Any) -> None:
    collector.freeze_startup_heap()
    survivor = {"card": [1, 2, 3]}
    assert any(o is survivor for o in gc.get_objects())
    gc.collect()  # …until it survives a full collection: then the next ones no longer walk it
    assert not any(o is survivor for o in gc.get_objects())
    assert collector.installed().full_collections >= 1
    assert gc.get_threshold()[2] == collector.FULL_AFTER_MIDDLE  # each full collection walks little


def test_release_restores_the_thresholds(fresh_collector: Any) -> None:
    before = gc.get_threshold()
    collector.freeze_startup_heap()
    assert gc.get_threshold() != before
    collector.release()
    assert gc.get_threshold() == before and collector.installed() is None


def test_every_deep_interval_one_full_collection_walks_everything(fresh_collector: Any) -> None:
    now = [0.0]
    freezer = collector.SurvivorFreezer(deep_every_s=600, clock=lambda: now[0])
    gc.callbacks.append(freezer)
    old = {"old": [1]}
    gc.collect()
    assert not any(o is old for o in gc.get_objects())  # frozen
    now[0] = 601.0
    gc.collect()  # this one ends by unfreezing: the next full collection is a deep one
    assert freezer.deep_pending and any(o is old for o in gc.get_objects())
    now[0] = 602.0
    gc.collect()  # the deep one: afterwards the survivors are frozen again, the interval restarts
    assert not freezer.deep_pending and freezer.last_deep == 602.0
    assert not any(o is old for o in gc.get_objects())
    del old
