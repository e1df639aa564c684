"""The bus interface every stage talks to.

Records travel on named **topics** (``comments``: what ingest accepted; ``results``: triage + suggestions for
consoles), per **room**, inside an envelope that also carries the broadcast session id. Each consuming
**stage** reads through its own group: every stage sees every record of a topic once, and the consumers of a
stage share its records. A stage ``ack``s a delivery only after its result is stored; on Redis an
unacknowledged delivery of a dead consumer is reclaimed by another.

``publish`` waits while a topic is full (backpressure reaches the source); ``offer`` never waits and returns
``False`` instead, for traffic that configuration allows to shed (display updates, never the record).

A bus whose server is away raises :class:`BusUnavailable` from ``publish`` only once it cannot keep the
records any more (the Redis bus buffers them within ``bus.outage_buffer`` records and sends them when its
server is back); :meth:`Bus.outstanding` tells a stopping process how much of what it published is not yet
acknowledged by every stage, so it waits for its own work and nothing else.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from livecs.errors import ErrorCode, LivecsError
from livecs.models import Record

if TYPE_CHECKING:
    from livecs.config import BusSettings


@dataclass(slots=True)
class Delivery:
    """One record as a stage received it."""

    id: str  # bus message id (Redis entry id, or a sequence number in-process)
    room: str
    session_id: str
    record: Record
    published_at: float  # epoch seconds when it entered the bus (for lag)


class BusUnavailable(LivecsError, ConnectionError):
    """The bus cannot take records now (its server is away and the outage buffer is full): try later."""

    code = ErrorCode.UNAVAILABLE


class Bus(abc.ABC):
    """Abstract bus. Implementations: :class:`~livecs.bus.memory.MemoryBus`, ``RedisBus``."""

    name: str = "bus"
    #: whether records left on the bus outlive this process (Redis) or die with it (in-process)
    durable: bool = False

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect / prepare (idempotent)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; pending deliveries stay pending (Redis) or are dropped (in-process)."""

    @abc.abstractmethod
    async def declare(self, topic: str, stage: str) -> None:
        """Make sure ``stage`` has a group on ``topic``; records published afterwards reach it."""

    @abc.abstractmethod
    async def publish(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> None:
        """Append records in order; waits while the topic is over its bound (backpressure)."""

    @abc.abstractmethod
    async def offer(self, topic: str, room: str, session_id: str, records: Sequence[Record]) -> bool:
        """Like :meth:`publish` but never waits: ``False`` (nothing appended) when over the bound."""

    @abc.abstractmethod
    async def read(self, topic: str, stage: str, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        """Up to ``count`` deliveries for ``stage``; waits up to ``block_ms`` for the first one."""

    @abc.abstractmethod
    async def ack(self, topic: str, stage: str, deliveries: Sequence[Delivery]) -> None:
        """Mark deliveries done for ``stage`` (after their results are stored)."""

    @abc.abstractmethod
    async def depths(self) -> dict[str, int]:
        """Waiting (not yet read or not yet acked) records per ``topic/stage``, for the counters."""

    async def outstanding(self, topic: str) -> int:
        """Records this process published on ``topic`` that some stage has not acknowledged yet."""
        return 0

    async def abandon(self, topic: str) -> list[Delivery]:
        """Take back what this process published on ``topic`` and the bus can no longer deliver (a stop
        records it another way): the in-process queues' contents; on Redis, only during an outage."""
        return []

    def status(self) -> dict[str, object]:
        """``{"state": "ok"|"down", …}``: whether the bus's server is reachable, for the live panel."""
        return {"state": "ok"}

    def health(self) -> dict[str, int]:
        """What the bus itself had to drop or set aside (by reason), for the counters; none by default."""
        return {}


async def open_bus(redis_url: str | None, settings: BusSettings | None = None) -> Bus:
    """The configured bus: Redis Streams when ``redis_url`` is given, else in-process queues."""
    from livecs.config import BusSettings

    settings = settings or BusSettings()
    bus: Bus
    if redis_url:
        from livecs.bus.redis import RedisBus

        bus = RedisBus(redis_url, settings)
    else:
        from livecs.bus.memory import MemoryBus

        bus = MemoryBus(settings)
    await bus.start()
    return bus
