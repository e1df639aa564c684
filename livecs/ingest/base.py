"""What every source is: something that pushes raw input or records into an :class:`IngestSink`.

Sources do I/O only (read a file, a socket, an HTTP body); parsing and validation of untrusted input happens
once, in the sink (:mod:`livecs.ingest.validate`), so every source gets the same bad-input handling and
counters. ``await sink.submit…`` may block: that is the pipeline's backpressure reaching the source.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, Protocol

from livecs.ingest.validate import Limits
from livecs.models import Comment, LiveEvent


class IngestSink(Protocol):
    """Where sources deliver. Implemented by the pipeline (and by test doubles)."""

    async def submit_payload(self, payload: bytes | str, *, source: str, room: str | None = None) -> int:
        """A JSON text: one object or an array of objects. Returns how many records were accepted."""
        ...

    async def submit_objects(
        self, objects: Sequence[Any], *, source: str, room: str | None = None, wait: bool = True
    ) -> int:
        """Already-decoded JSON values (dicts expected; anything else is counted as a reject). With
        ``wait=False`` a pipeline that cannot keep them now raises ``Unavailable`` instead of pausing."""
        ...

    async def submit_records(self, records: Sequence[Comment | LiveEvent], *, source: str) -> int:
        """Records built by trusted code (simulator, protocol codecs); still deduplicated and sanitised."""
        ...

    def reject(self, reason: str, *, source: str, detail: str = "") -> None:
        """Count an input the source itself could not even frame (bad CSV line, invalid UTF-8…)."""
        ...

    def source_status(self, source: str, status: str, detail: str = "") -> None:
        """Report connection state (``connected``, ``disconnected``, ``reconnecting``, ``finished``)."""
        ...


class Source(abc.ABC):
    """A live-room input. ``run`` returns when the input is exhausted; cancel it to stop a live one."""

    #: short name used in counters, logs and the session table (``replay``, ``ws``, ``webhook``…)
    name: str = "source"

    @abc.abstractmethod
    async def run(self, sink: IngestSink) -> None: ...


def sink_limits(sink: IngestSink) -> Limits:
    """The sink's own limits when it has a validator (the real ``Ingestor`` does), else the defaults.

    Sources use them to refuse oversized frames, lines and bodies before handing them over.
    """
    validator = getattr(sink, "validator", None)
    limits = getattr(validator, "limits", None)
    return limits if isinstance(limits, Limits) else Limits()
