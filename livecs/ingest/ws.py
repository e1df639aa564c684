"""JSON websocket client for a platform relay: comments in, operator replies out, reconnecting forever.

Each text or binary frame holds one wire-format object or an array of them (:mod:`livecs.ingest.validate`)
and goes to ``sink.submit_payload`` as is, so a garbage frame is a counted reject, never a reason to drop the
connection. After connecting, ``settings.subscribe`` (when not empty) is sent as the first frame. Liveness:
websocket protocol pings every ``settings.heartbeat_s`` (a relay that stops answering is dropped after as
long again), and the relay's application heartbeats ``{"type": "ping"}`` are answered with
``{"type": "pong"}`` (``{"type": "pong"}``/``{"type": "heartbeat"}`` frames are ignored).

When the connection fails or drops the source logs one line (close code, reason, retry delay), reports
``disconnected`` then ``reconnecting`` and tries again after an exponential :class:`Backoff` with jitter,
reset once a connection has proven healthy. Only an unusable URL stops it; cancel the task to stop it
(the connection is closed with a normal close frame). :meth:`WebSocketSource.send` sends a frame (an
operator reply, later) on the live connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.frames import CloseCode
from websockets.protocol import State

from livecs.config import WsSourceSettings
from livecs.ingest.base import IngestSink, Source
from livecs.ingest.validate import Limits

log = logging.getLogger("livecs.ingest.ws")

#: growth factor of the reconnect delay
BACKOFF_FACTOR = 2.0
#: a connection that stayed up this long (or delivered an accepted record) resets the backoff
HEALTHY_AFTER_S = 10.0
#: opening handshake timeout
OPEN_TIMEOUT_S = 10.0
#: how long a close handshake may take before the TCP connection is dropped (at most one heartbeat)
CLOSE_TIMEOUT_S = 2.0
#: close reason sent when the source is cancelled
STOP_REASON = "livecs source stopping"
#: frames at most this long are checked for application heartbeats before going to the sink
HEARTBEAT_FRAME_MAX_BYTES = 256
#: application heartbeat frame types: ``ping`` is answered with ``pong``; all of them are not records
APP_PING = "ping"
APP_PONG = "pong"
APP_HEARTBEAT_TYPES = frozenset({APP_PING, APP_PONG, "heartbeat"})


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
    def from_settings(cls, settings: WsSourceSettings, rng: random.Random | None = None) -> Backoff:
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


def _close_info(exc: BaseException | None, conn: ClientConnection | None) -> tuple[int | None, str]:
    """Close code and reason of a dropped connection (``None`` when no close frame was received)."""
    if isinstance(exc, ConnectionClosed):
        if exc.rcvd is not None:
            return exc.rcvd.code, exc.rcvd.reason
        if exc.sent is not None:  # we closed it: a frame over the size limit, a heartbeat timeout…
            return exc.sent.code, f"closed by us: {exc.sent.reason or CloseCode(exc.sent.code).name}"
        return None, "no close frame (connection lost)"
    if conn is not None and conn.close_code is not None:
        return conn.close_code, conn.close_reason or ""
    return None, repr(exc) if exc is not None else ""


class WebSocketSource(Source):
    """A platform relay's websocket. ``room`` is the default for records that name none."""

    def __init__(
        self,
        settings: WsSourceSettings,
        *,
        room: str | None = None,
        name: str = "ws",
        limits: Limits | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.room = room
        self.name = name
        self.limits = limits
        self.backoff = Backoff.from_settings(settings, rng)
        self._conn: ClientConnection | None = None
        self.connected = asyncio.Event()
        #: progress and health, for the console and tests
        self.connects = 0
        self.disconnects = 0
        self.frames = 0
        self.app_pings = 0
        self.last_close: tuple[int | None, str] | None = None

    # -- outbound -----------------------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        conn = self._conn
        return conn is not None and conn.state is State.OPEN

    @property
    def latency(self) -> float:
        """Round trip of the last protocol ping, in seconds (0.0 before the first pong)."""
        return self._conn.latency if self._conn is not None else 0.0

    async def send(self, obj: dict[str, Any]) -> bool:
        """Send one JSON object on the live connection; ``False`` when not connected (nothing queued)."""
        conn = self._conn
        if conn is None or conn.state is not State.OPEN:
            return False
        try:
            await conn.send(orjson.dumps(obj).decode("utf-8"))
        except ConnectionClosed:
            return False
        return True

    # -- inbound ------------------------------------------------------------------------------------------
    async def run(self, sink: IngestSink) -> None:
        limits = self.limits or sink.limits
        loop = asyncio.get_running_loop()
        url = self.settings.url
        heartbeat = self.settings.heartbeat_s
        while True:
            if self.connects or self.disconnects:
                sink.source_status(self.name, "reconnecting", f"attempt {self.backoff.attempt + 1}")
            conn: ClientConnection | None = None
            exc: Exception | None = None
            healthy = False
            opened = loop.time()
            try:
                async with connect(
                    url,
                    open_timeout=OPEN_TIMEOUT_S,
                    ping_interval=heartbeat,
                    ping_timeout=heartbeat,
                    close_timeout=min(CLOSE_TIMEOUT_S, heartbeat),
                    max_size=limits.max_payload_bytes,
                ) as conn:
                    self._conn = conn
                    self.connects += 1
                    opened = loop.time()
                    self.connected.set()
                    sink.source_status(self.name, "connected", url)
                    try:
                        if self.settings.subscribe:
                            await conn.send(orjson.dumps(self.settings.subscribe).decode("utf-8"))
                        async for message in conn:
                            self.frames += 1
                            if await self._app_heartbeat(conn, message):
                                continue
                            if await sink.submit_payload(message, source=self.name, room=self.room):
                                healthy = True
                    except asyncio.CancelledError:
                        # a clean goodbye (the context manager would send 1011 on any exception)
                        await conn.close(CloseCode.GOING_AWAY, STOP_REASON)
                        raise
            except InvalidURI:
                sink.source_status(self.name, "failed", f"invalid URL {url!r}")
                raise
            except (OSError, TimeoutError, WebSocketException) as err:
                exc = err
            finally:
                self._conn = None
                self.connected.clear()
            if healthy or (conn is not None and loop.time() - opened >= HEALTHY_AFTER_S):
                self.backoff.reset()
            delay = self.backoff.next_delay()
            self._report_drop(sink, conn, exc, delay, limits)
            await asyncio.sleep(delay)

    async def _app_heartbeat(self, conn: ClientConnection, message: str | bytes) -> bool:
        """Answer/ignore ``{"type": "ping"|"pong"|"heartbeat"}`` frames; ``True`` when it was one."""
        if len(message) > HEARTBEAT_FRAME_MAX_BYTES:
            return False
        try:
            value = orjson.loads(message)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(value, dict) or value.get("type") not in APP_HEARTBEAT_TYPES:
            return False
        if value["type"] == APP_PING:
            self.app_pings += 1
            pong: dict[str, Any] = {"type": APP_PONG}
            if "ts" in value:
                pong["ts"] = value["ts"]
            with contextlib.suppress(ConnectionClosed):
                await conn.send(orjson.dumps(pong).decode("utf-8"))
        return True

    def _report_drop(
        self,
        sink: IngestSink,
        conn: ClientConnection | None,
        exc: Exception | None,
        delay: float,
        limits: Limits,
    ) -> None:
        url = self.settings.url
        if conn is None:
            detail = f"connect to {url} failed: {exc!r}; retry in {delay:.1f} s"
        else:
            self.disconnects += 1
            code, reason = _close_info(exc, conn)
            self.last_close = (code, reason)
            if code == CloseCode.MESSAGE_TOO_BIG:
                sink.reject(
                    "payload_too_large",
                    source=self.name,
                    detail=f"frame over {limits.max_payload_bytes} bytes",
                )
            detail = f"disconnected from {url} (code {code}, reason {reason!r}); retry in {delay:.1f} s"
        log.warning("source %s: %s", self.name, detail)
        sink.source_status(self.name, "disconnected", detail)
