"""What every source is: something that pushes raw input or records into an :class:`IngestSink`.

Sources do I/O only (read a file, a socket, an HTTP body); parsing and validation of untrusted input happens
once, in the sink (:mod:`livecs.ingest.validate`), so every source gets the same bad-input handling and
counters. ``await sink.submit…`` may block: that is the pipeline's backpressure reaching the source.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, Protocol

from livecs.ingest.settings import RecordLimits
from livecs.models import Comment, LiveEvent


class PayloadDecoder(Protocol):
    """What a source needs to frame raw input before handing it over: the limits and the JSON check."""

    @property
    def limits(self) -> RecordLimits:
        """The input limits (payload, line and frame sizes, batch, text length)."""
        ...

    def decode_payload(self, payload: bytes | str) -> list[Any]:
        """A JSON text → its values (one object or an array), checked against :attr:`limits`; raises
        :class:`~livecs.ingest.validate.Rejected` (nothing counted: the caller answers or counts it)."""
        ...


class IngestSink(PayloadDecoder, Protocol):
    """Where sources deliver. Implemented by the pipeline's :class:`~livecs.ingest.sink.Ingestor` (and by
    test doubles); it is the one place raw input is validated."""

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
