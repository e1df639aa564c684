"""The ingest sink: validate, deduplicate and publish what sources deliver, counting every reject.

Every source hands its input to one :class:`Ingestor` (it implements :class:`~livecs.ingest.base.IngestSink`):
JSON payloads are decoded and validated here (:mod:`livecs.ingest.validate`), records are deduplicated on
the platform's message id within the broadcast session, and accepted records are published on the bus's
``comments`` topic, one call per room. Publishing waits when the bus is full, which is how backpressure
reaches a source. Bad input is counted by reason and logged at most once per reason per interval.

**Closed doors.** When the bus cannot keep more (:class:`~livecs.bus.base.BusUnavailable`: its server is
away and the outage buffer is full) a waiting source (replay, ws, Bilibili: ``wait=True``, the default)
pauses and retries, logged; a source that must answer now (the webhook: ``wait=False``) gets
:class:`Unavailable` and answers 503 with ``Retry-After``. Once :meth:`Ingestor.close` is called (a stop has
begun) every submit raises :class:`Unavailable`. Records refused that way were never accepted: their ids are
forgotten by the deduplication, so the client's retry is not taken for a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from livecs.bus.base import BusUnavailable
from livecs.errors import ErrorCode, LivecsError
from livecs.ingest.settings import RecordLimits
from livecs.ingest.validate import Rejected, Validator, clean_text
from livecs.metrics import Counters, ThrottledLog
from livecs.models import Comment, LiveEvent

log = logging.getLogger("livecs.ingest")

#: a paused (waiting) source retries the bus this often while it is unavailable
PAUSE_RETRY_S = 0.5
#: what ``Retry-After`` suggests to a client refused because the bus is unavailable or a stop is under way
RETRY_AFTER_S = 5


class Unavailable(LivecsError):
    """Nothing of this submit was accepted: the pipeline is stopping or the bus cannot keep more now."""

    code = ErrorCode.UNAVAILABLE

    def __init__(self, reason: str, retry_after_s: int = RETRY_AFTER_S) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


#: publish(room, session_id, records) — the bus, bound to the comments topic
Publish = Callable[[str, str, Sequence[Comment | LiveEvent]], Awaitable[None]]
#: session_for(room, source) -> session id (opens the session on first use)
SessionFor = Callable[[str, str], Awaitable[str]]


class SeenIds:
    """Bounded memory of accepted message ids (LRU): redeliveries within the window are duplicates."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember ``key``; ``False`` if it was already there."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True

    def forget(self, key: str) -> None:
        self._ids.pop(key, None)

    def __len__(self) -> int:
        return len(self._ids)


class Ingestor:
    """The one :class:`IngestSink` of a process, and its one :class:`Validator`.

    ``validator`` is that validator, or the :class:`RecordLimits` to build it from. Sources that frame raw
    input
    themselves (the webhook's body, a replay file's lines) use :attr:`limits` and :meth:`decode_payload`.
    """

    def __init__(
        self,
        validator: Validator | RecordLimits,
        publish: Publish,
        session_for: SessionFor,
        counters: Counters,
        *,
        dedup_window: int = 500_000,
        reject_log_interval_s: float = 60.0,
        default_room: str | None = None,
    ) -> None:
        self.validator = validator if isinstance(validator, Validator) else Validator(validator)
        self._publish = publish
        self._session_for = session_for
        self.counters = counters
        self.dedup_window = dedup_window
        self.default_room = default_room
        self._seen: dict[str, SeenIds] = {}
        self._log = ThrottledLog(log, reject_log_interval_s)
        #: why submits are refused (``"stopping"``), or ``None`` while the doors are open
        self.closed: str | None = None
        #: sources paused right now because the bus is unavailable
        self.paused: set[str] = set()
        #: records of submits under way (validated, not yet published or refused): a stop waits for them
        self.inflight = 0

    def close(self, reason: str = "stopping") -> None:
        """Close the doors: every later submit raises :class:`Unavailable` (a stop has begun)."""
        if self.closed is None:
            self.closed = reason
            log.info("ingest closed (%s): new input is refused", reason)

    # -- IngestSink -------------------------------------------------------------------------------------
    @property
    def limits(self) -> RecordLimits:
        return self.validator.limits

    def decode_payload(self, payload: bytes | str) -> list[Any]:
        """Pure (no counting, no state): safe from a reader thread, as a replay's is."""
        return self.validator.decode_payload(payload)

    def reject(self, reason: str, *, source: str, detail: str = "") -> None:
        self.counters.received += 1
        self._rejected(reason, source, detail)

    def _rejected(self, reason: str, source: str, detail: str = "") -> None:
        """Count and (throttled) log a reject of something already counted as received."""
        self.counters.reject(reason)
        self._log.warning(reason, "ingest %s: rejected (%s) %s", source, reason, clean_text(detail)[:200])

    def register_capture(self, source: str, snapshot: Callable[[], dict[str, Any]]) -> None:
        """A live-platform source's capture health (messages/s, last message age…) for ``/api/stats``."""
        self.counters.capture[source] = snapshot

    def source_status(self, source: str, status: str, detail: str = "") -> None:
        self.counters.sources[source] = status
        if detail:
            log.info("source %s: %s — %s", source, status, detail)
        else:
            log.info("source %s: %s", source, status)

    async def submit_payload(self, payload: bytes | str, *, source: str, room: str | None = None) -> int:
        self._check_open()
        try:
            objects = self.validator.decode_payload(payload)
        except Rejected as exc:
            self.reject(exc.reason, source=source, detail=exc.detail)
            return 0
        return await self.submit_objects(objects, source=source, room=room)

    async def submit_objects(
        self, objects: Sequence[Any], *, source: str, room: str | None = None, wait: bool = True
    ) -> int:
        """Validate and publish; with ``wait=False`` a bus that cannot keep them raises :class:`Unavailable`
        instead of pausing (nothing of the call is accepted then)."""
        self._check_open()
        records: list[Comment | LiveEvent] = []
        now = time.time()
        for obj in objects:
            try:
                records.append(self.validator.record(obj, room=room or self.default_room, now=now))
            except Rejected as exc:
                self.reject(exc.reason, source=source, detail=exc.detail)
            except Exception as exc:  # validation must never take the pipeline down
                self.reject("invalid_record", source=source, detail=repr(exc))
        self.counters.received += len(records)
        return await self._accept(records, source, wait=wait)

    async def submit_records(self, records: Sequence[Comment | LiveEvent], *, source: str) -> int:
        self._check_open()
        self.counters.received += len(records)
        limit = self.validator.limits.max_text_chars
        now = time.time()
        for rec in records:
            rec.received_at = now  # when livecs got it (ingest→stored/console lag starts here)
            if isinstance(rec, Comment):
                rec.text = clean_text(rec.text)
                if len(rec.text) > limit:
                    rec.text, rec.truncated = rec.text[:limit], True
        return await self._accept(list(records), source)

    # -- internals --------------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.closed is not None:
            raise Unavailable(self.closed)

    async def _accept(self, records: list[Comment | LiveEvent], source: str, *, wait: bool = True) -> int:
        n = len(records)
        self.inflight += n
        try:
            return await self._accept_now(records, source, wait=wait)
        finally:
            self.inflight -= n

    async def _accept_now(self, records: list[Comment | LiveEvent], source: str, *, wait: bool) -> int:
        by_room: dict[str, list[Comment | LiveEvent]] = {}
        for rec in records:
            if isinstance(rec, Comment):
                if not rec.text:
                    self._rejected("empty_text", source)
                    continue
                if rec.truncated:
                    self.counters.cleaned["truncated"] += 1
                key = "c:" + rec.comment_id
            else:
                key = "e:" + rec.event_id
            seen = self._seen.get(rec.room)
            if seen is None:
                seen = self._seen[rec.room] = SeenIds(self.dedup_window)
            if not seen.add(key):
                self._rejected("duplicate", source, f"message id {key[:80]}")
                continue
            by_room.setdefault(rec.room, []).append(rec)
        accepted = 0
        rooms = list(by_room.items())
        for i, (room, recs) in enumerate(rooms):
            try:
                session_id = await self._session_for(room, source)
                await self._publish_or_pause(room, session_id, recs, source, wait=wait)
            except (Unavailable, BusUnavailable) as exc:
                self.counters.accepted += accepted
                for later_room, later in rooms[i:]:  # never accepted: a retry must not be a duplicate
                    self._forget(later_room, later)
                self.counters.refused += sum(len(r) for _, r in rooms[i:])
                if isinstance(exc, Unavailable):
                    raise
                raise Unavailable("bus_unavailable") from exc
            accepted += len(recs)
        self.counters.accepted += accepted
        return accepted

    async def _publish_or_pause(
        self, room: str, session_id: str, recs: list[Comment | LiveEvent], source: str, *, wait: bool
    ) -> None:
        """Publish; while the bus is unavailable a waiting source pauses (retries), others get the error."""
        while True:
            try:
                await self._publish(room, session_id, recs)
            except BusUnavailable as exc:
                if not wait or self.closed is not None:
                    raise
                if source not in self.paused:
                    self.paused.add(source)
                    self.source_status(source, "paused", f"bus unavailable ({exc}); retrying")
                await asyncio.sleep(PAUSE_RETRY_S)
                continue
            if source in self.paused:
                self.paused.discard(source)
                self.source_status(source, "running", "bus available again; resumed")
            return

    def _forget(self, room: str, recs: list[Comment | LiveEvent]) -> None:
        seen = self._seen.get(room)
        if seen is None:
            return
        for rec in recs:
            seen.forget("c:" + rec.comment_id if isinstance(rec, Comment) else "e:" + rec.event_id)
