"""In-process bus: one bounded asyncio queue per (topic, stage) — the embedded default.

Publishing puts each record on the queue of every stage declared on the topic and waits when a queue is full,
so a slow stage slows the source instead of growing memory. There is no redelivery: in one process a crash
takes every stage down together, and the store's idempotent writes make a re-run safe. A read that is
cancelled while it waits never takes a record with it (``Queue.get`` under ``asyncio.timeout``; the old
``asyncio.wait_for`` could swallow the cancellation of a stopping reader and keep it running).
:meth:`MemoryBus.outstanding` counts what is queued plus what was read and not yet acknowledged.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence

from livecs import keys
from livecs.bus.base import Bus, Delivery
from livecs.config import BusSettings
from livecs.models import Record


class MemoryBus(Bus):
    name = "memory"

    def __init__(
        self, settings: BusSettings | None = None, *, topic_sizes: dict[str, int] | None = None
    ) -> None:
        self.settings = settings or BusSettings()
        self._topic_sizes = {keys.RESULTS_TOPIC: self.settings.results_queue_size, **(topic_sizes or {})}
        self._queues: dict[str, dict[str, asyncio.Queue[Delivery]]] = {}
        self._seq = itertools.count(1)
        self._unacked: dict[tuple[str, str], int] = {}

    def _size(self, topic: str) -> int:
        return self._topic_sizes.get(topic, self.settings.queue_size)

    async def declare(self, topic: str, stage: str) -> None:
        groups = self._queues.setdefault(topic, {})
        if stage not in groups:
            groups[stage] = asyncio.Queue(maxsize=self._size(topic))

    def _groups(self, topic: str) -> dict[str, asyncio.Queue[Delivery]]:
        groups = self._queues.get(topic)
        if not groups:
            raise LookupError(f"no stage declared on topic {topic!r}")
        return groups

    def _deliveries(self, room: str, session_id: str, records: Sequence[Record]) -> list[Delivery]:
        now = time.time()
        return [Delivery(str(next(self._seq)), room, session_id, r, now) for r in records]

    async def publish(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> None:
        groups = self._groups(topic)
        for d in self._deliveries(room, session_id, records):
            for q in groups.values():
                if q.full():
                    await q.put(d)
                else:
                    q.put_nowait(d)

    async def offer(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> bool:
        groups = self._groups(topic)
        if any(q.maxsize - q.qsize() < len(records) for q in groups.values()):
            return False
        for d in self._deliveries(room, session_id, records):
            for q in groups.values():
                q.put_nowait(d)
        return True

    async def read(self, topic: str, stage: str, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        q = self._groups(topic).get(stage)
        if q is None:
            raise LookupError(f"stage {stage!r} not declared on topic {topic!r}")
        if q.empty():
            try:
                async with asyncio.timeout(block_ms / 1000):
                    first = await q.get()
            except TimeoutError:
                return []
            out = [first]
        else:
            out = [q.get_nowait()]
        while len(out) < count and not q.empty():
            out.append(q.get_nowait())
        key = (topic, stage)
        self._unacked[key] = self._unacked.get(key, 0) + len(out)
        return out

    async def ack(self, topic: str, stage: str, deliveries: Sequence[Delivery]) -> None:
        key = (topic, stage)
        self._unacked[key] = max(0, self._unacked.get(key, 0) - len(deliveries))

    async def outstanding(self, topic: str) -> int:
        groups = self._queues.get(topic, {})
        return max((q.qsize() + self._unacked.get((topic, s), 0) for s, q in groups.items()), default=0)

    async def abandon(self, topic: str) -> list[Delivery]:
        out: dict[str, Delivery] = {}
        for q in self._queues.get(topic, {}).values():
            while not q.empty():
                d = q.get_nowait()
                out.setdefault(d.id, d)
        return list(out.values())

    async def depths(self) -> dict[str, int]:
        return {f"{t}/{s}": q.qsize() for t, groups in self._queues.items() for s, q in groups.items()}
