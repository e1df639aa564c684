"""The Bilibili live danmaku source: a websocket client that only pumps bytes through the pure codec.

One connection: open the websocket, send the auth packet (room id, uid, token ``key``, protover 3) first,
wait for the auth reply (code 0; anything else, or no reply within ``auth_timeout_s``, closes the
connection and authenticates again on a new one, after fetching a fresh token from ``key_provider`` when
one is given), then send a heartbeat at once and every ``heartbeat_s`` (30 s). Every binary message goes
through :class:`~livecs.ingest.bilibili.codec.Decoder` — on a worker thread when it is at least
``offload_bytes`` long, so a large compressed bundle never stalls the event loop — and its commands through
:class:`~livecs.ingest.bilibili.messages.CommandParser`; the records of one message go to
``sink.submit_records`` together. Codec drops and unreadable commands are counted with
``sink.reject("bilibili_<reason>", source="bilibili")``; unknown commands only in the parser's counters.

A connection that goes quiet for a heartbeat interval plus :data:`RECEIVE_GRACE_S` is dropped. When the
connection fails or drops, the source reports ``disconnected`` then ``reconnecting`` and retries after an
exponential :class:`~livecs.ingest.reconnect.Backoff` with jitter, reset once a connection has
authenticated and delivered a record (or stayed up
:data:`~livecs.ingest.reconnect.HEALTHY_AFTER_S`): the shared loop of :mod:`livecs.ingest.reconnect`.
Cancel the task to stop it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Final

from websockets.asyncio.client import ClientConnection

from livecs.config import BilibiliSettings
from livecs.errors import ErrorCode, LivecsError
from livecs.ingest.base import IngestSink
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
from livecs.ingest.bilibili.messages import CommandParser
from livecs.ingest.message_parser import Record
from livecs.ingest.reconnect import Backoff, Dial, ReconnectingSource
from livecs.ingest.settings import RecordLimits

log = logging.getLogger("livecs.ingest.bilibili")

SOURCE_NAME: Final = "bilibili"
#: prefix of the reject reasons this source reports (``bilibili_truncated``…)
REJECT_PREFIX: Final = "bilibili_"
#: silence tolerated beyond one heartbeat interval before the connection is considered dead
RECEIVE_GRACE_S: Final = 5.0

KeyProvider = Callable[[], Awaitable[str]]


class AuthFailed(LivecsError):
    """The server refused the auth packet (or never answered it)."""

    code = ErrorCode.FORBIDDEN


class BilibiliSource(ReconnectingSource):
    """One Bilibili live room. ``room`` names the room in records; ``room_id`` is the real (long) room id."""

    name = SOURCE_NAME
    log = log
    retry_on = (AuthFailed,)

    def __init__(
        self,
        settings: BilibiliSettings,
        *,
        room: str | None = None,
        key_provider: KeyProvider | None = None,
        limits: RecordLimits | None = None,
        rng: random.Random | None = None,
        name: str = SOURCE_NAME,
    ) -> None:
        room_id = settings.room_id or _room_number(room)
        if room_id <= 0:
            raise ValueError("bilibili needs a numeric room id (--room 12345 or bilibili.room_id)")
        super().__init__(name=name, backoff=Backoff.from_settings(settings, rng), limits=limits)
        self.settings = settings
        self.room_id = room_id
        self.room = room or str(room_id)
        self.key = settings.key
        self.key_provider = key_provider
        self.decoder = Decoder(DecoderLimits(max_decompressed_bytes=settings.max_decompressed_bytes))
        self.parser = CommandParser(
            self.room, room_id=room_id, member_medal_level=settings.member_medal_level
        )
        #: progress and health, for the console and tests
        self.auths = 0
        self.auth_failures = 0
        self.messages = 0
        self.heartbeat_replies = 0
        self.popularity = 0
        self.records = 0
        self._reported_drops: Counter[str] = Counter()
        self._reported_malformed = 0
        self._need_key = False  # the last attempt failed to authenticate: fetch a fresh token first

    @property
    def _display_url(self) -> str:
        return self.settings.url

    async def _dial(self, sink: IngestSink, limits: RecordLimits) -> Dial:
        if self._need_key and self.key_provider is not None:
            try:
                self.key = await self.key_provider()
            except Exception as refresh_err:  # a failed refresh: retry with the old key after the backoff
                log.warning("bilibili room %s: token refresh failed: %r", self.room_id, refresh_err)
        return Dial(self.settings.url)

    # -- one connection -----------------------------------------------------------------------------
    async def _session(self, conn: ClientConnection, sink: IngestSink) -> bool:
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
                message = await self._receive(conn, remaining)
            except TimeoutError:
                raise AuthFailed(f"no auth reply within {s.auth_timeout_s:g} s") from None
            items = await self._decode(message, sink)
            for item in items:
                if isinstance(item, AuthReply):
                    if not item.ok:
                        raise AuthFailed(f"auth reply code {item.code}")
                    authed = True
            await self._deliver(items, sink)
        self.auths += 1
        self._mark_connected(sink, f"{s.url} room {self.room_id}")
        # a heartbeat right after auth (as the web client does), then every heartbeat_s
        async with self._heartbeating(conn, encode_heartbeat(), s.heartbeat_s):
            quiet_limit = s.heartbeat_s + RECEIVE_GRACE_S
            while True:
                items = await self._decode(await self._receive(conn, quiet_limit), sink)
                for item in items:
                    if isinstance(item, AuthReply) and not item.ok:
                        raise AuthFailed(f"auth reply code {item.code}")
                await self._deliver(items, sink)

    async def _decode(self, data: bytes, sink: IngestSink) -> list[Decoded]:
        self.messages += 1
        items = await self._offload(len(data), self.settings.offload_bytes, self.decoder.feed, data)
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
        if await sink.submit_records(records, source=self.name) > 0 and self._up:
            self._delivered = True

    def _report_codec_drops(self, sink: IngestSink) -> None:
        if self.decoder.drops == self._reported_drops:
            return
        for reason, n in self.decoder.drops.items():
            for _ in range(n - self._reported_drops[reason]):
                sink.reject(REJECT_PREFIX + reason, source=self.name, detail=self.decoder.last_drop)
        self._reported_drops = Counter(self.decoder.drops)

    def _report_own_drop(self, sink: IngestSink, exc: BaseException | None, delay: float) -> bool:
        """A refused auth is ``auth_failed`` (not a disconnect); the next attempt fetches a fresh token."""
        self._need_key = isinstance(exc, AuthFailed)
        if not self._need_key:
            return False
        self.auth_failures += 1
        detail = f"room {self.room_id}: auth failed ({exc}); authenticating again in {delay:.1f} s"
        log.warning("source %s: %s", self.name, detail)
        sink.source_status(self.name, "auth_failed", detail)
        return True


def _room_number(room: str | None) -> int:
    try:
        return int(room) if room else 0
    except ValueError:
        return 0
