"""The contract between the pipeline and its pure stages (triage, scripts, coupons).

A :class:`Processor` is synchronous and does no I/O: the pipeline feeds it comments and events in arrival
order and stores/forwards what it returns. Implementations keep their own bounded state (clusters, flood
windows) and must never raise on odd input (the pipeline counts an exception as ``process_error``
and goes on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from livecs.models import Comment, LiveEvent, Suggestion, Triage


@dataclass(slots=True)
class Processed:
    """What a processor made of one comment."""

    triage: Triage | None = None
    suggestions: list[Suggestion] = field(default_factory=list)


class Processor(Protocol):
    def process(self, comment: Comment, now: float) -> Processed:
        """Triage one comment (``now`` = pipeline clock, epoch seconds) and propose replies."""
        ...

    def on_event(self, event: LiveEvent, now: float) -> None:
        """See a non-comment event (gift, paid order…); may update counters or state."""
        ...
