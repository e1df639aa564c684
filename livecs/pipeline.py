"""The pipeline: sources → ingest sink → bus ``comments`` → processing workers → store (→ bus ``results``).

The same code runs on both buses. A worker reads a batch, runs the pure
:class:`~livecs.processor.base.Processor` on it (triage, scripts, coupons), writes comments, events, triage
and suggestions to the store in one transaction, and only then acks the batch — so a worker that dies
mid-batch loses nothing (on Redis its entries are reclaimed by another worker; the store ignores what it
already has). Results then go to the
``results`` topic for consoles, one :class:`~livecs.models.Result` record per comment (the comment, its triage
and its suggestions together): priorities the configuration lets the display shed are offered and dropped
(counted) when consoles lag; the others wait. Nothing is ever shed from the record.

**Stopping loses nothing accepted** (:meth:`Pipeline.stop`): first the doors close (the sink refuses new
input — the webhook answers 503 with ``Retry-After`` — and the sources are cancelled), then the pipeline
drains its own work (:meth:`Bus.outstanding`: what this process published and no stage acknowledged yet),
logging a progress line every second. A replay that reached its end (``complete``) waits as long as work
progresses; any other stop waits ``pipeline.stop_drain_s``. When that deadline passes (or on a second
Ctrl-C, :meth:`Pipeline.force`) the workers switch to recording only: what is left is written to the record
without triage and marked in the ``untriaged`` table (counted in ``untriaged``); what the bus hands back
because it can no longer deliver it (the in-process queue without workers, a Redis outage) is written the
same way. Anything still not recorded after that is counted in ``lost`` and logged as an error. Every
session is closed, whatever happened, with the counters and what the record holds for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from livecs.bus.base import Bus, Delivery
from livecs.config import Settings
from livecs.ingest.base import Source
from livecs.ingest.sink import Ingestor, Unavailable
from livecs.keys import COMMENTS_TOPIC, PROCESS_STAGE, RESULTS_TOPIC
from livecs.metrics import Counters, ThrottledLog
from livecs.models import Comment, EventKind, Intent, LiveEvent, Record, Result
from livecs.processor.base import Processor
from livecs.store import Store, StoreBatch

log = logging.getLogger("livecs.pipeline")

#: seconds between two progress lines of a draining stop
PROGRESS_EVERY_S = 1.0
#: how often a drain looks at what is left (on Redis each look is a round trip per room stream)
DRAIN_POLL_S = 0.02
DRAIN_POLL_DURABLE_S = 0.1
#: reasons in the ``untriaged`` table
UNTRIAGED_STOP = "stop_deadline"
UNTRIAGED_BUS = "bus_unavailable"
#: how long a stop waits for its sources and workers to end once asked to (then cancels them)
TASK_STOP_S = 5.0


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

    #: pipelines of this process that have not stopped yet (a second Ctrl-C forces them all)
    running: ClassVar[weakref.WeakSet[Pipeline]] = weakref.WeakSet()

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
        #: set by a replay that reached its end: its stop waits for all its work (no deadline)
        self.complete_on_stop = False
        self._record_only = False  # the stop's deadline passed: workers record without triage
        self._forced = asyncio.Event()
        self._stopped: asyncio.Future[None] | None = None
        #: records published and not yet acknowledged by every stage, at the last look (for messages)
        self.outstanding = 0
        #: rows the record holds per session at the close (whoever wrote them)
        self.recorded_rows: dict[str, dict[str, int]] = {}
        self.sink = Ingestor(
            settings.ingest,
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
        Pipeline.running.add(self)

    async def run_source(self, source: Source) -> None:
        """Run one source to its end (or until cancelled), reporting its status."""
        self.sink.source_status(source.name, "running")
        try:
            await source.run(self.sink)
        except asyncio.CancelledError:
            self.sink.source_status(source.name, "stopped")
            raise
        except Unavailable:  # the doors closed under it: a stop has begun
            self.sink.source_status(source.name, "stopped")
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

    async def drain(
        self,
        timeout: float | None = None,
        *,
        stall_s: float | None = None,
        progress: bool = False,
        forceable: bool = True,
    ) -> bool:
        """Wait until nothing this process published is left unacknowledged on the bus (every accepted
        record processed and stored). ``False`` when ``timeout`` passes, when nothing moved for ``stall_s``,
        or when :meth:`force` is called. With ``progress``, logs what is left every second."""
        started = time.monotonic()
        deadline = None if timeout is None else started + timeout
        last_change, last_left, last_log = started, -1, started
        while True:
            left = await self._outstanding()
            now = time.monotonic()
            if left <= 0:
                return True
            if left != last_left:
                last_change, last_left = now, left
            if forceable and self._forced.is_set():
                return False
            if deadline is not None and now > deadline:
                return False
            if stall_s is not None and now - last_change > stall_s:
                log.warning("stop: nothing moved for %.0fs with %d records left", stall_s, left)
                return False
            if progress and now - last_log >= PROGRESS_EVERY_S:
                last_log = now
                log.info(
                    "stop: draining — %d accepted records left (processed %d, recorded %d) 排空中",
                    left,
                    self.counters.processed,
                    self.counters.recorded,
                )
            await asyncio.sleep(DRAIN_POLL_DURABLE_S if self.bus.durable else DRAIN_POLL_S)

    async def _outstanding(self) -> int:
        try:  # what the bus holds of ours, plus submits still on their way to it
            self.outstanding = await self.bus.outstanding(COMMENTS_TOPIC) + self.sink.inflight
        except Exception as exc:
            self._errors.warning("outstanding", "reading what is left on the bus failed: %r", exc)
            await asyncio.sleep(0.2)
        return self.outstanding

    def force(self) -> None:
        """Skip the rest of the drain: what is left is recorded untriaged now (a second Ctrl-C)."""
        self._forced.set()

    async def stop(self, drain_timeout: float | None = None, *, complete: bool = False) -> None:
        """Close the doors, drain, record untriaged what the deadline leaves, close every session.

        ``complete`` (a replay that reached its end): no deadline while work progresses (a stall of
        ``stop_drain_s`` still ends it). Calling it again waits for the first call.
        """
        if self._stopped is not None:
            await asyncio.shield(self._stopped)
            return
        self._stopped = asyncio.get_running_loop().create_future()
        try:
            await self._stop(drain_timeout, complete)
        finally:
            Pipeline.running.discard(self)
            self.counters.stopping = "closed"
            self._stopped.set_result(None)

    async def _stop(self, drain_timeout: float | None, complete: bool) -> None:
        c = self.counters
        timeout = self.settings.pipeline.stop_drain_s if drain_timeout is None else drain_timeout
        self.sink.close()
        c.stopping = "draining"
        for t in self._source_tasks:
            t.cancel()
        if self._source_tasks:
            await asyncio.wait(self._source_tasks, timeout=TASK_STOP_S)
        try:
            if complete:
                drained = await self.drain(None, stall_s=timeout, progress=True)
            else:
                drained = await self.drain(timeout, progress=True)
            if not drained:
                await self._flush(timeout)
        finally:
            await self._stop_workers()
            left = await self._outstanding()
            if left:
                if self.bus.status().get("state") == "ok" and getattr(self.bus, "durable", False):
                    log.warning("stop: %d accepted records remain on the bus for other workers", left)
                else:
                    c.lost += left
                    log.error("stop: %d accepted records could not be recorded and are LOST", left)
            with contextlib.suppress(Exception):
                c.queue_depths = await asyncio.wait_for(self.bus.depths(), TASK_STOP_S)
            c.bus_health = self.bus.health()
            c.bus_status = self.bus.status()
            await self._close_sessions()

    async def _flush(self, timeout: float) -> None:
        """After the deadline: workers record without triage; what the bus hands back is recorded too."""
        left = self.outstanding
        log.warning(
            "stop: deadline passed with %d accepted records left — recording them untriaged (未分诊入库)",
            left,
        )
        self.counters.stopping = "flushing"
        self._record_only = True
        if self._workers and self.bus.status().get("state") == "ok":  # workers cannot read a bus that is away
            await self.drain(timeout, progress=True, forceable=False)
        for _ in range(3):
            try:
                back = await self.bus.abandon(COMMENTS_TOPIC)
            except Exception as exc:
                log.error("stop: taking back what the bus holds failed: %r", exc)
                return
            if not back:
                return
            await self._record_untriaged(back, UNTRIAGED_BUS if self.bus.name != "memory" else UNTRIAGED_STOP)

    async def _record_untriaged(self, deliveries: Sequence[Delivery], reason: str) -> None:
        batch = StoreBatch()
        now = time.time()
        for d in deliveries:
            if d.session_id not in batch.sessions:
                batch.sessions[d.session_id] = (d.room, "bus", d.published_at)
            if isinstance(d.record, Comment):
                batch.comments.append((d.session_id, d.record))
                batch.untriaged.append((d.session_id, d.record.comment_id, reason, now))
            elif isinstance(d.record, LiveEvent):
                batch.events.append((d.session_id, d.record))
        written = await self.store.write(batch)
        self.counters.recorded += written.comments
        self.counters.untriaged += len(batch.untriaged)
        self.counters.processed += len(deliveries)
        log.warning("stop: %d records written to the record untriaged (%s)", len(deliveries), reason)

    async def _stop_workers(self) -> None:
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.cancel()
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=TASK_STOP_S)
            for t in pending:
                t.cancel()
            if pending:
                await asyncio.wait(pending, timeout=TASK_STOP_S)

    async def _close_sessions(self) -> None:
        """Close every session with the counters and what the record holds for it (never raises)."""
        stats = self.counters.snapshot()
        for ref in self.sessions.values():
            try:
                rows = await self.store.session_rows(ref.session_id)
                self.recorded_rows[ref.session_id] = rows
                await self.store.close_session(ref.session_id, time.time(), {**stats, "record": rows})
            except Exception as exc:
                log.error("closing session %s failed: %r", ref.session_id, exc)

    async def _watch_depths(self) -> None:
        """Keep ``counters.queue_depths`` and ``counters.bus_health`` fresh for the console."""
        while not self._stopping.is_set():
            try:
                self._show_bus_status()
                self.counters.queue_depths = await self.bus.depths()
                self.counters.bus_health = self.bus.health()
            except Exception as exc:
                self._errors.warning("depths", "reading queue depths failed: %r", exc)
            await asyncio.sleep(self.settings.pipeline.depth_refresh_s)

    def _show_bus_status(self) -> None:
        """The bus's reachability in the counters, and in the panel's ingest line (``bus(redis) down``, which
        raises the console's ingest alert) while it is away."""
        status = self.counters.bus_status = self.bus.status()
        key = f"bus({self.bus.name})"
        if status.get("state") != "ok":
            self.counters.sources[key] = "down"
        elif key in self.counters.sources:
            self.counters.sources[key] = "running"

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
            try:
                await self.handle(deliveries)
            except Exception as exc:  # a worker never dies: unacked deliveries come back (Redis)
                counters = self.counters
                counters.process_errors += 1
                self._errors.warning("handle", "worker %s: batch failed: %r", consumer, exc)
                await asyncio.sleep(cfg.block_ms / 1000)

    async def handle(self, deliveries: Sequence[Delivery]) -> None:
        """Process, store, ack, then publish results for one batch of deliveries."""
        batch = StoreBatch()
        display: dict[tuple[str, str], _Display] = {}
        now = time.time()
        counters = self.counters
        if self._record_only:
            await self._record_untriaged(deliveries, UNTRIAGED_STOP)
            await self._ack(deliveries)
            return
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
                    try:
                        await self._publish_results(room, session_id, out)
                    except Exception as exc:  # display traffic: never holds up the record
                        self._errors.warning("results", "publishing results failed: %r", exc)
        finally:
            written = await writing
        counters.recorded += written.comments
        counters.processed += len(deliveries)
        await self._ack(deliveries)

    async def _ack(self, deliveries: Sequence[Delivery]) -> None:
        """Ack what is stored; a failed ack only means a redelivery (the store ignores what it has)."""
        try:
            await self.bus.ack(COMMENTS_TOPIC, PROCESS_STAGE, deliveries)
        except Exception as exc:
            self._errors.warning("ack", "ack failed (stored; may be delivered again): %r", exc)

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
