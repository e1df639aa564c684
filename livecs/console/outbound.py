"""Sending delivers: replies and moderation commands go back to the room through an outbound connector.

A :class:`Connector` delivers one JSON message or raises :class:`DeliveryError`:

* :class:`RelayConnector` — back through the JSON websocket relay the comments came from (any object with
  ``send(obj) -> bool``, sync or async, such as ``livecs.ingest.ws.WebSocketSource``);
* :class:`HttpConnector` — ``POST`` to a configured endpoint with an aiohttp client session;
* :class:`SimulatedRoomConnector` — the demo's simulated room (keeps what it was sent);
* :class:`NoConnector` — nothing configured: every delivery gives up at once, saying so.

The :class:`Outbox` paces each room with a token bucket (so the platform does not flag the account), runs
one worker per room, retries a failed delivery with exponential backoff (re-queued, so one failing reply
does not hold up the others) and reports each outcome — ``sent``, ``retrying`` (failed, will retry),
``gave_up`` — to a callback that updates the card and records the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from livecs.config import OutboundSettings
from livecs.errors import LivecsError
from livecs.vocabulary import DeliveryStatus

log = logging.getLogger("livecs.console.outbound")

SENT = DeliveryStatus.SENT
RETRYING = DeliveryStatus.RETRYING
GAVE_UP = DeliveryStatus.GAVE_UP
QUEUED = DeliveryStatus.QUEUED
HTTP_OK_MAX = 299
SIMULATED_KEPT = 1000


class DeliveryError(LivecsError):
    """A delivery that did not happen; ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Connector(Protocol):
    name: str

    async def deliver(self, message: dict[str, Any]) -> None:
        """Deliver one message to the room or raise :class:`DeliveryError`."""
        ...


class RelayConnector:
    """Back through the websocket relay: ``sender.send(obj)`` returns ``False`` when not connected."""

    name = "ws"

    def __init__(self, sender: Any) -> None:
        self.sender = sender

    async def deliver(self, message: dict[str, Any]) -> None:
        try:
            result = self.sender.send(message)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            raise DeliveryError(f"relay send failed: {exc!r}") from exc
        if result is False:
            raise DeliveryError("relay not connected")


class HttpConnector:
    """``POST`` the message as JSON to ``url`` (bearer token optional); 2xx is delivered."""

    name = "http"

    def __init__(self, url: str, *, token: str = "", timeout_s: float = 5.0) -> None:
        self.url = url
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def deliver(self, message: dict[str, Any]) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with self._session.post(self.url, json=message, headers=headers) as resp:
                if resp.status > HTTP_OK_MAX:
                    body = (await resp.text())[:200]
                    permanent = resp.status in (400, 401, 403, 404, 422)
                    raise DeliveryError(f"HTTP {resp.status}: {body}", permanent=permanent)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"HTTP error: {exc!r}") from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class SimulatedRoomConnector:
    """The demo room: accepts every message and keeps the latest ones."""

    name = "simulated"

    def __init__(self) -> None:
        self.messages: deque[dict[str, Any]] = deque(maxlen=SIMULATED_KEPT)

    async def deliver(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


class NoConnector:
    name = "none"

    async def deliver(self, message: dict[str, Any]) -> None:
        raise DeliveryError("未配置发送通道 / no outbound connector configured", permanent=True)


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; :meth:`acquire` waits for one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_acquire(self) -> float:
        """Take a token and return 0, or return how long to wait for one."""
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate

    async def acquire(self) -> None:
        while (wait := self.try_acquire()) > 0:
            await asyncio.sleep(wait)


StatusCallback = Callable[["DeliveryJob", str, str], Awaitable[None]]


@dataclass
class DeliveryJob:
    room: str
    message: dict[str, Any]
    on_status: StatusCallback
    attempts: int = 0
    created: float = field(default_factory=time.time)


class Outbox:
    """Per-room paced delivery with retries (see the module docstring)."""

    def __init__(self, connector: Connector, settings: OutboundSettings) -> None:
        self.connector = connector
        self.cfg = settings
        self._queues: dict[str, asyncio.Queue[DeliveryJob]] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._reports: set[asyncio.Future[None]] = set()
        self._closed = False

    def bucket(self, room: str) -> TokenBucket:
        b = self._buckets.get(room)
        if b is None:
            b = self._buckets[room] = TokenBucket(self.cfg.rate_per_s, self.cfg.burst)
        return b

    async def submit(self, job: DeliveryJob) -> bool:
        """Queue a delivery; ``False`` (and ``gave_up`` reported) when the room's outbox is full."""
        if self._closed:
            await job.on_status(job, GAVE_UP, "console stopping")
            return False
        q = self._queues.get(job.room)
        if q is None:
            q = self._queues[job.room] = asyncio.Queue(maxsize=self.cfg.queue_size)
            self._workers[job.room] = asyncio.create_task(self._work(job.room, q), name=f"outbox-{job.room}")
        try:
            q.put_nowait(job)
        except asyncio.QueueFull:
            await job.on_status(job, GAVE_UP, "发送队列已满 / outbox full")
            return False
        return True

    def backoff(self, attempts: int) -> float:
        return float(min(self.cfg.backoff_max_s, self.cfg.backoff_initial_s * 2 ** max(0, attempts - 1)))

    async def _work(self, room: str, q: asyncio.Queue[DeliveryJob]) -> None:
        bucket = self.bucket(room)
        while True:
            job = await q.get()
            await bucket.acquire()
            job.attempts += 1
            try:
                await self.connector.deliver(job.message)
            except DeliveryError as exc:
                await self._failed(job, q, str(exc), exc.permanent)
            except Exception as exc:  # a connector bug must not kill the room's outbox
                log.exception("outbound connector %s failed", self.connector.name)
                await self._failed(job, q, repr(exc), False)
            else:
                await self._report(job, SENT, "")

    async def _failed(
        self, job: DeliveryJob, q: asyncio.Queue[DeliveryJob], error: str, permanent: bool
    ) -> None:
        if permanent or job.attempts >= self.cfg.max_attempts or self._closed:
            await self._report(job, GAVE_UP, error)
            return
        await self._report(job, RETRYING, error)
        loop = asyncio.get_running_loop()

        def requeue() -> None:
            self._timers.discard(handle)
            try:
                q.put_nowait(job)
            except asyncio.QueueFull:
                task = asyncio.ensure_future(self._report(job, GAVE_UP, "发送队列已满 / outbox full"))
                self._reports.add(task)
                task.add_done_callback(self._reports.discard)

        handle = loop.call_later(self.backoff(job.attempts), requeue)
        self._timers.add(handle)

    async def _report(self, job: DeliveryJob, status: str, error: str) -> None:
        try:
            await job.on_status(job, status, error)
        except Exception:
            log.exception("delivery status callback failed")

    async def close(self) -> None:
        self._closed = True
        for h in self._timers:
            h.cancel()
        for t in self._workers.values():
            t.cancel()
        for t in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await t
        close = getattr(self.connector, "close", None)
        if close is not None:
            await close()
