"""The Bilibili live danmaku source: a websocket client that only pumps bytes through the pure codec.

One connection: open the websocket, send the auth packet (room id, uid, token ``key``, protover 3) first,
wait for the auth reply (code 0; anything else, or no reply within ``auth_timeout_s``, closes the
connection and authenticates again on a new one, after fetching a fresh token from ``key_provider`` when
one is given), then send a heartbeat at once and every ``heartbeat_s`` (30 s). Every binary message goes
through :class:`~livecs.ingest.bilibili.codec.Decoder` — on a worker thread when it is at least
``offload_bytes`` long, so a large compressed bundle never stalls the event loop — and its commands through
:class:`~livecs.ingest.bilibili.commands.CommandParser`; the records of one message go to
``sink.submit_records`` together. Codec drops and unreadable commands are counted with
``sink.reject("bilibili_<reason>", source="bilibili")``; unknown commands only in the parser's counters.

A connection that goes quiet for a heartbeat interval plus :data:`RECEIVE_GRACE_S` is dropped. When the
connection fails or drops, the source reports ``disconnected`` then ``reconnecting`` and retries after an
exponential :class:`~livecs.ingest.ws.Backoff` with jitter, reset once a connection has authenticated and
delivered a record (or stayed up :data:`HEALTHY_AFTER_S`). Cancel the task to stop it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.frames import CloseCode

from livecs.config import BilibiliSettings
from livecs.ingest.base import IngestSink, Source
from livecs.ingest.bilibili.codec import (
    AuthReply,
    Command,
    Decoded,
    Decoder,
    DecoderLimits,
    HeartbeatReply,
    encode_auth,
    encode_heartbeat,
)
from livecs.ingest.bilibili.commands import CommandParser, Record
from livecs.ingest.validate import Limits
from livecs.ingest.ws import Backoff

log = logging.getLogger("livecs.ingest.bilibili")

SOURCE_NAME: Final = "bilibili"
#: prefix of the reject reasons this source reports (``bilibili_truncated``…)
REJECT_PREFIX: Final = "bilibili_"
#: silence tolerated beyond one heartbeat interval before the connection is considered dead
RECEIVE_GRACE_S: Final = 5.0
#: a connection that stayed up this long resets the backoff
HEALTHY_AFTER_S: Final = 10.0
#: opening handshake timeout and close handshake timeout
OPEN_TIMEOUT_S: Final = 10.0
CLOSE_TIMEOUT_S: Final = 2.0
STOP_REASON: Final = "livecs source stopping"

KeyProvider = Callable[[], Awaitable[str]]


class AuthFailed(Exception):
    """The server refused the auth packet (or never answered it)."""


class BilibiliSource(Source):
    """One Bilibili live room. ``room`` names the room in records; ``room_id`` is the real (long) room id."""

    name = SOURCE_NAME

    def __init__(
        self,
        settings: BilibiliSettings,
        *,
        room: str | None = None,
        key_provider: KeyProvider | None = None,
        limits: Limits | None = None,
        rng: random.Random | None = None,
        name: str = SOURCE_NAME,
    ) -> None:
        room_id = settings.room_id or _room_number(room)
        if room_id <= 0:
            raise ValueError("bilibili needs a numeric room id (--room 12345 or bilibili.room_id)")
        self.settings = settings
        self.room_id = room_id
        self.room = room or str(room_id)
        self.name = name
        self.key = settings.key
        self.key_provider = key_provider
        self.limits = limits
        initial = min(settings.backoff_initial_s, settings.backoff_max_s)
        self.backoff = Backoff(initial, settings.backoff_max_s, settings.backoff_jitter, rng=rng)
        self.decoder = Decoder(DecoderLimits(max_decompressed_bytes=settings.max_decompressed_bytes))
        self.parser = CommandParser(
            self.room, room_id=room_id, member_medal_level=settings.member_medal_level
        )
        self.connected = asyncio.Event()
        #: progress and health, for the console and tests
        self.connects = 0
        self.auths = 0
        self.auth_failures = 0
        self.disconnects = 0
        self.messages = 0
        self.offloaded = 0
        self.heartbeats_sent = 0
        self.heartbeat_replies = 0
        self.popularity = 0
        self.records = 0
        self.last_close: tuple[int | None, str] | None = None
        self._reported_drops: Counter[str] = Counter()
        self._reported_malformed = 0
        self._authed = False  # on the current connection
        self._delivered = False  # an accepted record on the current authenticated connection

    async def run(self, sink: IngestSink) -> None:
        limits = self.limits or sink.limits
        loop = asyncio.get_running_loop()
        url = self.settings.url
        need_key = False
        while True:
            if self.connects or self.disconnects or self.auth_failures:
                sink.source_status(self.name, "reconnecting", f"attempt {self.backoff.attempt + 1}")
            if need_key and self.key_provider is not None:
                try:
                    self.key = await self.key_provider()
                except Exception as refresh_err:  # a failed refresh: retry with the old key after the backoff
                    log.warning("bilibili room %s: token refresh failed: %r", self.room_id, refresh_err)
            conn: ClientConnection | None = None
            exc: BaseException | None = None
            self._authed = self._delivered = False
            opened = loop.time()
            try:
                async with connect(
                    url,
                    open_timeout=OPEN_TIMEOUT_S,
                    ping_interval=None,  # liveness is the protocol's own heartbeat
                    close_timeout=CLOSE_TIMEOUT_S,
                    max_size=limits.max_payload_bytes,
                ) as conn:
                    self.connects += 1
                    opened = loop.time()
                    try:
                        await self._session(conn, sink)
                    except asyncio.CancelledError:
                        await conn.close(CloseCode.GOING_AWAY, STOP_REASON)
                        raise
            except InvalidURI:
                sink.source_status(self.name, "failed", f"invalid URL {url!r}")
                raise
            except AuthFailed as err:
                exc = err
                self.auth_failures += 1
                need_key = True
            except (OSError, TimeoutError, WebSocketException) as err:
                exc = err
            finally:
                self.connected.clear()
            if not isinstance(exc, AuthFailed):
                need_key = False
            if self._delivered or (self._authed and loop.time() - opened >= HEALTHY_AFTER_S):
                self.backoff.reset()
            delay = self.backoff.next_delay()
            self._report_drop(sink, conn, exc, delay)
            await asyncio.sleep(delay)

    # -- one connection -----------------------------------------------------------------------------
    async def _session(self, conn: ClientConnection, sink: IngestSink) -> None:
        """Authenticate, then read until the connection ends (it always ends with an exception)."""
        s = self.settings
        await conn.send(encode_auth(self.room_id, s.uid, self.key, buvid=s.buvid))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + s.auth_timeout_s
        authed = False
        while not authed:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AuthFailed(f"no auth reply within {s.auth_timeout_s:g} s")
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                async with asyncio.timeout(remaining):
                    message = await conn.recv()
            except TimeoutError:
                raise AuthFailed(f"no auth reply within {s.auth_timeout_s:g} s") from None
            items = await self._decode(message, sink)
            for item in items:
                if isinstance(item, AuthReply):
                    if not item.ok:
                        raise AuthFailed(f"auth reply code {item.code}")
                    authed = True
            await self._deliver(items, sink)
        self._authed = True
        self.auths += 1
        self.connected.set()
        sink.source_status(self.name, "connected", f"{s.url} room {self.room_id}")
        heartbeat = asyncio.create_task(self._heartbeats(conn), name=f"{self.name}-heartbeat")
        try:
            quiet_limit = s.heartbeat_s + RECEIVE_GRACE_S
            while True:
                async with asyncio.timeout(quiet_limit):
                    message = await conn.recv()
                items = await self._decode(message, sink)
                for item in items:
                    if isinstance(item, AuthReply) and not item.ok:
                        raise AuthFailed(f"auth reply code {item.code}")
                await self._deliver(items, sink)
        finally:
            heartbeat.cancel()
            await asyncio.wait({heartbeat})  # unlike awaiting it, never swallows our own cancellation

    async def _heartbeats(self, conn: ClientConnection) -> None:
        """A heartbeat right after auth (as the web client does), then every ``heartbeat_s``."""
        packet = encode_heartbeat()
        while True:
            try:
                await conn.send(packet)
            except ConnectionClosed:
                return
            self.heartbeats_sent += 1
            await asyncio.sleep(self.settings.heartbeat_s)

    async def _decode(self, message: str | bytes, sink: IngestSink) -> list[Decoded]:
        self.messages += 1
        data = message.encode("utf-8", "surrogateescape") if isinstance(message, str) else message
        if len(data) >= self.settings.offload_bytes:
            self.offloaded += 1
            items = await asyncio.get_running_loop().run_in_executor(None, self.decoder.feed, data)
        else:
            items = self.decoder.feed(data)
        self._report_codec_drops(sink)
        return items

    async def _deliver(self, items: list[Decoded], sink: IngestSink) -> None:
        records: list[Record] = []
        for item in items:
            if isinstance(item, Command):
                records.extend(self.parser.parse(item.body))
            elif isinstance(item, HeartbeatReply):
                self.heartbeat_replies += 1
                self.popularity = item.popularity
        malformed = sum(self.parser.malformed.values())
        for _ in range(malformed - self._reported_malformed):
            sink.reject(REJECT_PREFIX + "malformed_command", source=self.name, detail=f"room {self.room_id}")
        self._reported_malformed = malformed
        if not records:
            return
        self.records += len(records)
        if await sink.submit_records(records, source=self.name) > 0 and self._authed:
            self._delivered = True

    def _report_codec_drops(self, sink: IngestSink) -> None:
        if self.decoder.drops == self._reported_drops:
            return
        for reason, n in self.decoder.drops.items():
            for _ in range(n - self._reported_drops[reason]):
                sink.reject(REJECT_PREFIX + reason, source=self.name, detail=self.decoder.last_drop)
        self._reported_drops = Counter(self.decoder.drops)

    def _report_drop(
        self, sink: IngestSink, conn: ClientConnection | None, exc: BaseException | None, delay: float
    ) -> None:
        url = self.settings.url
        if isinstance(exc, AuthFailed):
            detail = f"room {self.room_id}: auth failed ({exc}); authenticating again in {delay:.1f} s"
            log.warning("source %s: %s", self.name, detail)
            sink.source_status(self.name, "auth_failed", detail)
            return
        if conn is None:
            detail = f"connect to {url} failed: {exc!r}; retry in {delay:.1f} s"
        else:
            self.disconnects += 1
            code, reason = _close_info(exc, conn)
            self.last_close = (code, reason)
            detail = f"disconnected from {url} (code {code}, reason {reason!r}); retry in {delay:.1f} s"
        log.warning("source %s: %s", self.name, detail)
        sink.source_status(self.name, "disconnected", detail)


def _room_number(room: str | None) -> int:
    try:
        return int(room) if room else 0
    except ValueError:
        return 0


def _close_info(exc: BaseException | None, conn: ClientConnection) -> tuple[int | None, str]:
    if isinstance(exc, ConnectionClosed):
        if exc.rcvd is not None:
            return exc.rcvd.code, exc.rcvd.reason
        return None, "no close frame (connection lost)"
    if isinstance(exc, TimeoutError):
        return None, "no message within the heartbeat window"
    if conn.close_code is not None:
        return conn.close_code, conn.close_reason or ""
    return None, repr(exc) if exc is not None else ""
