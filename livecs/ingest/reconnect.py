"""The reconnect policy every websocket source shares: connect, run one session, and on any failure report
it and try again after an exponential :class:`Backoff` with jitter, until cancelled.

:class:`ReconnectingSource` is the loop; a source (the JSON relay :mod:`livecs.ingest.ws`, Bilibili
:mod:`livecs.ingest.bilibili.client`, Douyin :mod:`livecs.ingest.douyin.client`) supplies only what is its
own: where to connect (:meth:`~ReconnectingSource._dial`: the URL and extra ``websockets.connect`` options,
or ``None`` when there is nothing to connect to any more) and what one connection does
(:meth:`~ReconnectingSource._session`, which calls :meth:`~ReconnectingSource._mark_connected` once the
connection is usable and returns ``True`` when the source is finished). The codecs stay pure modules.

The loop, for every attempt:

- after a first connection or drop, report ``reconnecting`` (``attempt n``);
- connect (open timeout :data:`OPEN_TIMEOUT_S`, close timeout :data:`CLOSE_TIMEOUT_S`, frames up to the
  sink's ``max_payload_bytes``, no websocket pings unless the source asks: liveness is each protocol's own
  heartbeat, see :meth:`~ReconnectingSource._heartbeating`);
- cancelled (the stop) → close with 1001 "going away" and :data:`STOP_REASON`, then re-raise;
- an unusable URL (``InvalidURI``) → report ``failed`` and raise: retrying cannot help;
- a network, handshake, protocol or timeout error, or one of the source's :attr:`retry_on` → reset the
  backoff when the connection was healthy (it delivered an accepted record, or was usable for
  :attr:`healthy_after_s`), report ``disconnected`` with the close code and reason (one warning line),
  sleep the next delay and go again.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.frames import CloseCode

from livecs.ingest.base import IngestSink, Source
from livecs.ingest.settings import RecordLimits

#: growth factor of the reconnect delay
BACKOFF_FACTOR = 2.0
#: a connection usable this long resets the backoff (unless a source says otherwise)
HEALTHY_AFTER_S = 10.0
#: opening handshake timeout
OPEN_TIMEOUT_S = 10.0
#: how long a close handshake may take before the TCP connection is dropped
CLOSE_TIMEOUT_S = 2.0
#: close reason sent when the source is cancelled
STOP_REASON = "livecs source stopping"

T = TypeVar("T")


class BackoffSettings(Protocol):
    """The three reconnect knobs each websocket source's settings carry."""

    @property
    def backoff_initial_s(self) -> float: ...
    @property
    def backoff_max_s(self) -> float: ...
    @property
    def backoff_jitter(self) -> float: ...


class Backoff:
    """Exponential reconnect delays with jitter: ``initial · factor^n`` capped at ``maximum``.

    Jitter only shortens a delay (by up to ``jitter`` × the delay), so ``maximum`` is a hard cap and many
    clients dropped at once spread their reconnects. :meth:`reset` after a healthy connection.
    """

    def __init__(
        self,
        initial: float,
        maximum: float,
        jitter: float = 0.0,
        *,
        factor: float = BACKOFF_FACTOR,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter is a fraction in [0, 1]")
        if factor < 1.0:
            raise ValueError("factor must be >= 1")
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.factor = factor
        self._rng = rng or random.Random()
        self.attempt = 0

    @classmethod
    def from_settings(cls, settings: BackoffSettings, rng: random.Random | None = None) -> Backoff:
        """From a source's settings; an initial delay above the maximum is lowered to it."""
        initial = min(settings.backoff_initial_s, settings.backoff_max_s)
        return cls(initial, settings.backoff_max_s, settings.backoff_jitter, rng=rng)

    def base_delay(self, attempt: int) -> float:
        """The delay before jitter for the ``attempt``-th retry (0-based)."""
        # the exponent is bounded so a long outage never overflows a float
        if attempt > 0 and self.initial * self.factor ** min(attempt, 64) >= self.maximum:
            return self.maximum
        return min(self.maximum, self.initial * self.factor**attempt)

    def next_delay(self) -> float:
        """The delay before the next attempt; advances the attempt counter."""
        base = self.base_delay(self.attempt)
        self.attempt += 1
        return base * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempt = 0


@dataclass(frozen=True, slots=True)
class Dial:
    """Where one connection goes: the URL and ``websockets.connect`` options over the loop's defaults."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)


class ReconnectingSource(Source):
    """A websocket source that reconnects forever (see the module doc). Subclasses call ``__init__``."""

    #: the source's own logger (its drops are logged there)
    log: logging.Logger = logging.getLogger("livecs.ingest")
    #: exceptions of the source's own that drop the connection and retry (network errors always do)
    retry_on: tuple[type[BaseException], ...] = ()
    #: a connection usable this long resets the backoff; ``None``: only a delivered record does
    healthy_after_s: float | None = HEALTHY_AFTER_S

    def __init__(self, *, name: str, backoff: Backoff, limits: RecordLimits | None = None) -> None:
        self.name = name
        self.backoff = backoff
        #: frame size limit (``max_payload_bytes``); ``None``: the sink's
        self.limits = limits
        #: set while a connection is usable
        self.connected = asyncio.Event()
        #: progress and health, for the console and tests
        self.connects = 0
        self.disconnects = 0
        self.heartbeats_sent = 0
        self.offloaded = 0
        self.last_close: tuple[int | None, str] | None = None
        self._conn: ClientConnection | None = None
        self._up = False  # the current connection was marked connected
        self._delivered = False  # the current connection delivered an accepted record

    # -- what a source supplies ---------------------------------------------------------------------------
    @abc.abstractmethod
    async def _dial(self, sink: IngestSink, limits: RecordLimits) -> Dial | None:
        """Where to connect now; ``None`` ends the source (reported by the source itself)."""

    @abc.abstractmethod
    async def _session(self, conn: ClientConnection, sink: IngestSink) -> bool:
        """One connection, until it ends (an exception, or a normal close: ``False``) or the source is
        finished (``True``). Calls :meth:`_mark_connected` once the connection is usable."""

    @property
    @abc.abstractmethod
    def _display_url(self) -> str:
        """The URL as logs and statuses may show it (never a signature or a secret)."""

    def _connection_closed(self) -> None:
        """Called after every attempt, whatever its end."""

    def _closed_with(self, sink: IngestSink, code: int | None, limits: RecordLimits) -> None:
        """Called when a usable connection was dropped with ``code``, before it is reported."""

    def _report_own_drop(self, sink: IngestSink, exc: BaseException | None, delay: float) -> bool:
        """Report a drop the source's own way (``True``), or leave it to the usual report (``False``)."""
        return False

    def _describe(self, exc: BaseException | None) -> str:
        """An exception for the log."""
        return repr(exc)

    # -- helpers for sessions -----------------------------------------------------------------------------
    def _mark_connected(self, sink: IngestSink, detail: str) -> None:
        """The connection is usable: set :attr:`connected` and report ``connected``."""
        self._up = True
        self.connected.set()
        sink.source_status(self.name, "connected", detail)

    @contextlib.asynccontextmanager
    async def _heartbeating(
        self, conn: ClientConnection, frame: bytes, interval_s: float
    ) -> AsyncIterator[None]:
        """Send ``frame`` at once and every ``interval_s`` while the block runs (counted in
        :attr:`heartbeats_sent`); the sender stops with the block or when the connection closes."""

        async def beat() -> None:
            while True:
                try:
                    await conn.send(frame)
                except ConnectionClosed:
                    return
                self.heartbeats_sent += 1
                await asyncio.sleep(interval_s)

        task = asyncio.create_task(beat(), name=f"{self.name}-heartbeat")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.wait({task})  # unlike awaiting it, never swallows our own cancellation

    @staticmethod
    async def _receive(conn: ClientConnection, quiet_limit_s: float) -> bytes:
        """The next message as bytes; ``TimeoutError`` after ``quiet_limit_s`` of silence."""
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
        async with asyncio.timeout(quiet_limit_s):
            message = await conn.recv()
        return message.encode("utf-8", "surrogateescape") if isinstance(message, str) else message

    async def _offload(self, size: int, threshold: int, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, on a worker thread when ``size >= threshold``: a big frame never stalls the loop."""
        if size >= threshold:
            self.offloaded += 1
            return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
        return fn(*args)

    # -- the loop -------------------------------------------------------------------------------------------
    async def run(self, sink: IngestSink) -> None:
        limits = self.limits or sink.limits
        loop = asyncio.get_running_loop()
        retry: tuple[type[BaseException], ...] = (OSError, TimeoutError, WebSocketException, *self.retry_on)
        while True:
            if self.connects or self.disconnects:
                sink.source_status(self.name, "reconnecting", f"attempt {self.backoff.attempt + 1}")
            conn: ClientConnection | None = None
            exc: BaseException | None = None
            self._up = self._delivered = False
            opened = loop.time()
            try:
                dial = await self._dial(sink, limits)
                if dial is None:
                    return
                options: dict[str, Any] = {
                    "open_timeout": OPEN_TIMEOUT_S,
                    "ping_interval": None,
                    "close_timeout": CLOSE_TIMEOUT_S,
                    "max_size": limits.max_payload_bytes,
                    **dial.options,
                }
                async with connect(dial.url, **options) as conn:
                    self._conn = conn
                    self.connects += 1
                    opened = loop.time()
                    try:
                        finished = await self._session(conn, sink)
                    except asyncio.CancelledError:
                        # a clean goodbye (the context manager would send 1011 on any exception)
                        await conn.close(CloseCode.GOING_AWAY, STOP_REASON)
                        raise
                    if finished:
                        return
            except InvalidURI:
                sink.source_status(self.name, "failed", f"invalid URL {self._display_url!r}")
                raise
            except retry as err:
                exc = err
            finally:
                self._conn = None
                self.connected.clear()
                self._connection_closed()
            if self._healthy(loop.time() - opened):
                self.backoff.reset()
            delay = self.backoff.next_delay()
            self._report_drop(sink, conn, exc, delay, limits)
            await asyncio.sleep(delay)

    def _healthy(self, up_s: float) -> bool:
        if self._delivered:
            return True
        return self._up and self.healthy_after_s is not None and up_s >= self.healthy_after_s

    def _report_drop(
        self,
        sink: IngestSink,
        conn: ClientConnection | None,
        exc: BaseException | None,
        delay: float,
        limits: RecordLimits,
    ) -> None:
        if self._report_own_drop(sink, exc, delay):
            return
        url = self._display_url
        if conn is None:
            detail = f"connect to {url} failed: {self._describe(exc)}; retry in {delay:.1f} s"
        else:
            self.disconnects += 1
            code, reason = self._close_info(exc, conn)
            self.last_close = (code, reason)
            self._closed_with(sink, code, limits)
            detail = f"disconnected from {url} (code {code}, reason {reason!r}); retry in {delay:.1f} s"
        self.log.warning("source %s: %s", self.name, detail)
        sink.source_status(self.name, "disconnected", detail)

    def _close_info(self, exc: BaseException | None, conn: ClientConnection) -> tuple[int | None, str]:
        """Close code and reason of a dropped connection (``None`` when no close frame was received)."""
        if isinstance(exc, ConnectionClosed):
            if exc.rcvd is not None:
                return exc.rcvd.code, exc.rcvd.reason
            if exc.sent is not None:  # we closed it: a frame over the size limit, a ping timeout…
                return exc.sent.code, f"closed by us: {exc.sent.reason or CloseCode(exc.sent.code).name}"
            return None, "no close frame (connection lost)"
        if isinstance(exc, TimeoutError):
            return None, "no message within the heartbeat window"
        if conn.close_code is not None:
            return conn.close_code, conn.close_reason or ""
        return None, self._describe(exc) if exc is not None else ""
