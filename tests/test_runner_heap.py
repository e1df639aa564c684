"""The first pipeline of a process freezes the start-up heap: full garbage collections (100–150 ms stalls of
the event loop, the p99 of ingest→display at 2,000 comments/s) no longer walk the triage model and library."""

import gc
from pathlib import Path

import pytest

from livecs import runner
from livecs.config import load_settings


async def test_open_pipeline_takes_the_processor_out_of_full_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(environ={})
    settings.store.path = str(tmp_path / "rec.db")
    settings.scripts.library_db = str(tmp_path / "library.db")
    monkeypatch.setattr(runner, "_heap_frozen", False)
    try:
        async with runner.open_pipeline(settings) as pipeline:
            processor = pipeline.processor
            assert gc.get_freeze_count() > 0
            assert not any(o is processor for o in gc.get_objects())  # not walked by a collection
            frozen = gc.get_freeze_count()
            runner.freeze_startup_heap()  # once per process: a second pipeline freezes nothing more
            assert gc.get_freeze_count() == frozen
        tracked_later = {"k": [1]}  # what is allocated afterwards is collected as before
        assert any(o is tracked_later for o in gc.get_objects())
    finally:
        gc.unfreeze()
