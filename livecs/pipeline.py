"""The pipeline: sources → ingest sink → bus ``comments`` → processing workers → store (→ bus ``results``).

The same code runs on both buses. A worker reads a batch, runs the pure :class:`~livecs.processing.Processor`
on it (triage, scripts, coupons), writes comments, events, triage and suggestions to the store in one
transaction, and only then acks the batch — so a worker that dies mid-batch loses nothing (on Redis its
entries are reclaimed by another worker; the store ignores what it already has). Results then go to the
``results`` topic for consoles, one :class:`~livecs.models.Result` record per comment (the comment, its triage
and its suggestions together): priorities the configuration lets the display shed are offered and dropped
(counted) when consoles lag; the others wait. Nothing is ever shed from the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from livecs.bus.base import Bus, Delivery
from livecs.config import Settings
from livecs.ingest.base import Source
from livecs.ingest.sink import COMMENTS_TOPIC, Ingestor
from livecs.ingest.validate import Validator
from livecs.metrics import Counters, ThrottledLog
from livecs.models import Comment, EventKind, Intent, LiveEvent, Record, Result
from livecs.processing import Processor
from livecs.store import Store, StoreBatch

log = logging.getLogger("livecs.pipeline")

RESULTS_TOPIC = "results"
PROCESS_STAGE = "process"


@dataclass
class SessionRef:
    session_id: str
    room: str
    source: str
    started_at: float


_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_.:-]")
#: room ids longer than this are cut in session ids (the room itself is kept whole in the record)
SESSION_ROOM_CHARS = 40


def new_session_id(room: str, now: float | None = None) -> str:
    """``<room>-<YYYYmmdd-HHMMSS>-<4 hex>``, safe in URLs and file names whatever the room id holds."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now or time.time()))
    safe_room = _UNSAFE_ID_CHARS.sub("_", room)[:SESSION_ROOM_CHARS] or "room"
    return f"{safe_room}-{stamp}-{secrets.token_hex(2)}"


class Pipeline:
    """Wires a bus, a store and a processor; runs sources and workers in the current event loop."""

    def __init__(
        self,
        settings: Settings,
        bus: Bus,
        store: Store,
        processor: Processor | None,
        *,
        counters: Counters | None = None,
        publish_results: bool = False,
        results_never_wait: bool = False,
        default_room: str | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = store
        self.processor = processor
        self.counters = counters or Counters()
        self.publish_results = publish_results
        # workers feeding consoles of other processes never wait for them: a console that died (its group
        # left behind) must not hold back the record; what does not fit is shed from the display and counted
        self.results_never_wait = results_never_wait
        self.sessions: dict[str, SessionRef] = {}
        self._session_lock = asyncio.Lock()
        self._shed = set(settings.pipeline.shed_display_priorities)
        self._errors = ThrottledLog(log, settings.ingest.reject_log_interval_s)
        self._stopping = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._source_tasks: list[asyncio.Task[None]] = []
        self._monitor: asyncio.Task[None] | None = None
        self.sink = Ingestor(
            Validator(settings.ingest),
            self._publish_comments,
            self.session_for,
            self.counters,
            dedup_window=settings.ingest.dedup_window,
            reject_log_interval_s=settings.ingest.reject_log_interval_s,
            default_room=default_room,
        )

    # -- lifecycle --------------------------------------------------------------------------------------
    async def start(self, workers: int | None = None) -> None:
        await self.store.open()
        await self.bus.declare(COMMENTS_TOPIC, PROCESS_STAGE)
        n = self.settings.pipeline.workers if workers is None else workers
        self._monitor = asyncio.create_task(self._watch_depths(), name="queue-depths")
        for i in range(n):
            name = f"worker-{secrets.token_hex(3)}-{i}"
            self._workers.append(asyncio.create_task(self.run_worker(name), name=name))

    async def run_source(self, source: Source) -> None:
        """Run one source to its end (or until cancelled), reporting its status."""
        self.sink.source_status(source.name, "running")
        try:
            await source.run(self.sink)
        except asyncio.CancelledError:
            self.sink.source_status(source.name, "stopped")
            raise
        except Exception as exc:
            self.sink.source_status(source.name, "failed", repr(exc))
            log.exception("source %s failed", source.name)
            raise
        else:
            self.sink.source_status(source.name, "finished")

    def add_source(self, source: Source) -> asyncio.Task[None]:
        task = asyncio.create_task(self.run_source(source), name=f"source-{source.name}")
        self._source_tasks.append(task)
        return task

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every accepted record has been processed and stored (in-process workers)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.counters.processed < self.counters.accepted:
            if deadline is not None and time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def stop(self, drain_timeout: float | None = None) -> None:
        for t in self._source_tasks:
            t.cancel()
        for t in self._source_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._workers:
            await self.drain(self.settings.pipeline.stop_drain_s if drain_timeout is None else drain_timeout)
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.cancel()
        for t in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self.counters.queue_depths = await self.bus.depths()
        self.counters.bus_health = self.bus.health()
        stats = self.counters.snapshot()
        for ref in self.sessions.values():
            await self.store.close_session(ref.session_id, time.time(), stats)

    async def _watch_depths(self) -> None:
        """Keep ``counters.queue_depths`` and ``counters.bus_health`` fresh for the console."""
        while not self._stopping.is_set():
            try:
                self.counters.queue_depths = await self.bus.depths()
                self.counters.bus_health = self.bus.health()
            except Exception as exc:
                self._errors.warning("depths", "reading queue depths failed: %r", exc)
            await asyncio.sleep(self.settings.pipeline.depth_refresh_s)

    # -- ingest side ------------------------------------------------------------------------------------
    async def session_for(self, room: str, source: str) -> str:
        ref = self.sessions.get(room)
        if ref is not None:
            return ref.session_id
        async with self._session_lock:
            ref = self.sessions.get(room)
            if ref is None:
                now = time.time()
                ref = SessionRef(new_session_id(room, now), room, source, now)
                await self.store.open_session(ref.session_id, room, source, now)
                self.sessions[room] = ref
                log.info("session %s opened (room %s, source %s)", ref.session_id, room, source)
        return ref.session_id

    async def _publish_comments(self, room: str, session_id: str, records: Sequence[Record]) -> None:
        await self.bus.publish(COMMENTS_TOPIC, room, session_id, records)

    # -- worker side ------------------------------------------------------------------------------------
    async def run_worker(self, consumer: str) -> None:
        bus, cfg = self.bus, self.settings.bus
        while not self._stopping.is_set():
            try:
                deliveries = await bus.read(
                    COMMENTS_TOPIC, PROCESS_STAGE, consumer, cfg.batch_size, cfg.block_ms
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._errors.warning("bus_read", "worker %s: bus read failed: %r", consumer, exc)
                await asyncio.sleep(cfg.block_ms / 1000)
                continue
            if not deliveries:
                continue
            await self.handle(deliveries)

    async def handle(self, deliveries: Sequence[Delivery]) -> None:
        """Process, store, ack, then publish results for one batch of deliveries."""
        batch = StoreBatch()
        display: dict[tuple[str, str], _Display] = {}
        now = time.time()
        counters = self.counters
        for d in deliveries:
            rec = d.record
            if d.session_id not in batch.sessions:
                batch.sessions[d.session_id] = (d.room, "bus", d.published_at)
            out = display.get((d.room, d.session_id))
            if out is None:
                out = display[(d.room, d.session_id)] = _Display()
            if isinstance(rec, Comment):
                batch.comments.append((d.session_id, rec))
                counters.lag.add(max(0.0, now - rec.received_at))
                result = Result(rec)  # a comment travels with its triage and suggestions, as one record
                sheddable = False
                if self.processor is not None:
                    try:
                        processed = self.processor.process(rec, now)
                    except Exception as exc:
                        counters.process_errors += 1
                        self._errors.warning("process", "processing %s failed: %r", rec.comment_id, exc)
                    else:
                        triage = processed.triage
                        if triage is not None:
                            batch.triages.append((d.session_id, triage))
                            result.triage = triage
                            sheddable = triage.priority.value in self._shed
                            if triage.intent is Intent.BUY_SIGNAL:
                                counters.buy_signals += 1
                        for s in processed.suggestions:
                            batch.suggestions.append((d.session_id, s))
                        result.suggestions = list(processed.suggestions)
                (out.shed if sheddable else out.keep).append(result)
            elif isinstance(rec, LiveEvent):
                batch.events.append((d.session_id, rec))
                counters.events[rec.kind.value] += 1
                if rec.kind is EventKind.ORDER_PAID:
                    counters.buy_signals += 1
                if self.processor is not None:
                    try:
                        self.processor.on_event(rec, now)
                    except Exception as exc:
                        counters.process_errors += 1
                        self._errors.warning("event", "event %s failed: %r", rec.event_id, exc)
                out.keep.append(rec)
        # The record is written on the store's thread while the display gets its results; the batch is
        # acked only once the write has succeeded (a failed write leaves it pending for redelivery).
        writing = asyncio.ensure_future(self.store.write(batch))
        try:
            if self.publish_results:
                for (room, session_id), out in display.items():
                    await self._publish_results(room, session_id, out)
        finally:
            written = await writing
        await self.bus.ack(COMMENTS_TOPIC, PROCESS_STAGE, deliveries)
        counters.recorded += written.comments
        counters.processed += len(deliveries)

    async def _publish_results(self, room: str, session_id: str, out: _Display) -> None:
        """Display traffic: sheddable priorities are offered (dropped and counted when consoles lag); the
        others wait for room, unless ``results_never_wait``."""
        if out.keep and self.results_never_wait:
            if not await self.bus.offer(RESULTS_TOPIC, room, session_id, out.keep):
                self.counters.shed_display += len(out.keep)
        elif out.keep:
            await self.bus.publish(RESULTS_TOPIC, room, session_id, out.keep)
        if out.shed and not await self.bus.offer(RESULTS_TOPIC, room, session_id, out.shed):
            self.counters.shed_display += len(out.shed)


@dataclass(slots=True)
class _Display:
    """One room's results of a batch (one :class:`Result` per comment, and events), split by whether the
    display may drop them."""

    keep: list[Record] = field(default_factory=list)
    shed: list[Record] = field(default_factory=list)
