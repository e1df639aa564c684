"""JSON websocket client for a platform relay: comments in, operator replies out, reconnecting forever.

Each text or binary frame holds one wire-format object or an array of them (:mod:`livecs.ingest.validate`)
and goes to ``sink.submit_payload`` as is, so a garbage frame is a counted reject, never a reason to drop the
connection. After connecting, ``settings.subscribe`` (when not empty) is sent as the first frame. Liveness:
websocket protocol pings every ``settings.heartbeat_s`` (a relay that stops answering is dropped after as
long again), and the relay's application heartbeats ``{"type": "ping"}`` are answered with
``{"type": "pong"}`` (``{"type": "pong"}``/``{"type": "heartbeat"}`` frames are ignored).

When the connection fails or drops the source logs one line (close code, reason, retry delay), reports
``disconnected`` then ``reconnecting`` and tries again after an exponential :class:`Backoff` with jitter,
reset once a connection has proven healthy — the policy every websocket source shares
(:mod:`livecs.ingest.reconnect`). Only an unusable URL stops it; cancel the task to stop it (the
connection is closed with a "going away" close frame). :meth:`WebSocketSource.send` sends a frame (an
operator reply, later) on the live connection.
"""

from __future__ import annotations

import contextlib
import logging
import random
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.protocol import State

from livecs.config import WsSourceSettings
from livecs.ingest.base import IngestSink
from livecs.ingest.reconnect import CLOSE_TIMEOUT_S, Backoff, Dial, ReconnectingSource
from livecs.ingest.settings import RecordLimits

__all__ = ["Backoff", "WebSocketSource"]

log = logging.getLogger("livecs.ingest.ws")

#: frames at most this long are checked for application heartbeats before going to the sink
HEARTBEAT_FRAME_MAX_BYTES = 256
#: application heartbeat frame types: ``ping`` is answered with ``pong``; all of them are not records
APP_PING = "ping"
APP_PONG = "pong"
APP_HEARTBEAT_TYPES = frozenset({APP_PING, APP_PONG, "heartbeat"})


class WebSocketSource(ReconnectingSource):
    """A platform relay's websocket. ``room`` is the default for records that name none."""

    log = log

    def __init__(
        self,
        settings: WsSourceSettings,
        *,
        room: str | None = None,
        name: str = "ws",
        limits: RecordLimits | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(name=name, backoff=Backoff.from_settings(settings, rng), limits=limits)
        self.settings = settings
        self.room = room
        self.frames = 0
        self.app_pings = 0

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
    @property
    def _display_url(self) -> str:
        return self.settings.url

    async def _dial(self, sink: IngestSink, limits: RecordLimits) -> Dial:
        heartbeat = self.settings.heartbeat_s
        return Dial(
            self.settings.url,
            {
                "ping_interval": heartbeat,
                "ping_timeout": heartbeat,
                "close_timeout": min(CLOSE_TIMEOUT_S, heartbeat),
            },
        )

    async def _session(self, conn: ClientConnection, sink: IngestSink) -> bool:
        self._mark_connected(sink, self.settings.url)
        if self.settings.subscribe:
            await conn.send(orjson.dumps(self.settings.subscribe).decode("utf-8"))
        async for message in conn:
            self.frames += 1
            if await self._app_heartbeat(conn, message):
                continue
            if await sink.submit_payload(message, source=self.name, room=self.room):
                self._delivered = True
        return False

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

    def _closed_with(self, sink: IngestSink, code: int | None, limits: RecordLimits) -> None:
        if code == CloseCode.MESSAGE_TOO_BIG:
            sink.reject(
                "payload_too_large",
                source=self.name,
                detail=f"frame over {limits.max_payload_bytes} bytes",
            )
