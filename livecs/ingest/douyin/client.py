"""The Douyin live source (``serve --source douyin --room <live id>``): an asyncio websocket client that
only pumps bytes through the pure codec.

1. **Room.** The live id is the number in ``live.douyin.com/<live id>``. Unless ``douyin.room_id`` is set,
   the room page (``douyin.room_page_url``) is read once to find the numeric room id, the anchor's id and
   whether the room is live (a room that is not live is reported ``finished`` and the source returns).
   The page's ``ttwid`` cookie is kept when no ``douyin.cookie`` is configured.
2. **URL.** The query is built by :func:`push_params` (the web client's parameters: app, SDK version,
   browser, ``room_id``, ``cursor``, ``internal_ext``, ``user_unique_id``…, plus ``douyin.params``), then
   signed by the configured signer (:mod:`.signer`) — again for every connection, since the cursor
   changes it.
3. **Connection.** Headers: ``User-Agent`` (``douyin.user_agent``), ``Origin``, and ``Cookie`` from the
   configuration (never logged: only the URL without its query is). A heartbeat frame at once and every
   ``douyin.heartbeat_s``; a batch whose Response has ``need_ack`` is acked at once (its log id and
   internal ext). Every frame is recorded first (``--record FILE``), then decoded by the
   :class:`~.pump.FramePump` (on a worker thread when the frame is at least ``douyin.offload_bytes``
   long, so a large gzip bundle never stalls the event loop); the records of one frame go to
   ``sink.submit_records`` together; drops are ``sink.reject("douyin_<reason>")``.
4. **Reconnect.** A failed connection, a server ``close`` frame, or silence for a heartbeat plus
   ``douyin.receive_grace_s``: ``disconnected`` then ``reconnecting`` after an exponential backoff with
   jitter (the shared loop of :mod:`livecs.ingest.reconnect`), reset once a connection delivered records.
   The new connection resumes with the last batch's ``cursor`` and ``internal_ext``; what the server pushes
   again is deduplicated by message id in the sink, so every comment is recorded once.
5. **End.** ``WebcastControlMessage`` status 3 (the live ended): the source reports ``finished``, closes the
   connection and returns. Cancel the task to stop it earlier.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import aiohttp
from websockets.asyncio.client import ClientConnection
from websockets.frames import CloseCode

from livecs.config import DouyinSettings
from livecs.errors import ErrorCode, LivecsError
from livecs.ingest.base import IngestSink
from livecs.ingest.douyin.codec import DecoderLimits, encode_ack, encode_heartbeat
from livecs.ingest.douyin.health import CaptureHealth
from livecs.ingest.douyin.messages import MessageParser
from livecs.ingest.douyin.pump import REJECT_PREFIX, FramePump
from livecs.ingest.douyin.record import FrameWriter
from livecs.ingest.douyin.signer import Signer, SignerError, make_signer
from livecs.ingest.reconnect import Backoff, Dial, ReconnectingSource
from livecs.ingest.settings import RecordLimits

log = logging.getLogger("livecs.ingest.douyin")
#: the websocket library's logger for this source: never below INFO, since its DEBUG lines print the
#: request headers (the cookie) and the signed URL
ws_log = logging.getLogger("livecs.ingest.douyin.websocket")
ws_log.setLevel(logging.INFO)

SOURCE_NAME: Final = "douyin"
ORIGIN: Final = "https://live.douyin.com"
PAGE_TIMEOUT_S: Final = 10.0
MAX_PAGE_BYTES: Final = 8 * 1024 * 1024
#: the web client's fixed query parameters (values as the web page sends them)
BASE_PARAMS: Final[dict[str, str]] = {
    "app_name": "douyin_web",
    "version_code": "180800",
    "webcast_sdk_version": "1.0.14-beta.0",
    "update_version_code": "1.0.14-beta.0",
    "compress": "gzip",
    "device_platform": "web",
    "cookie_enabled": "true",
    "screen_width": "1920",
    "screen_height": "1080",
    "browser_language": "zh-CN",
    "browser_platform": "Win32",
    "browser_name": "Mozilla",
    "browser_online": "true",
    "tz_name": "Asia/Shanghai",
    "host": ORIGIN,
    "aid": "6383",
    "live_id": "1",
    "did_rule": "3",
    "endpoint": "live_pc",
    "support_wrds": "1",
    "im_path": "/webcast/im/fetch/",
    "identity": "audience",
    "need_persist_msg_count": "15",
    "insert_task_id": "",
    "live_reason": "",
    "heartbeatDuration": "0",
}
_ROOM_ID = re.compile(r'\\?"roomId\\?"\s*:\s*\\?"(\d+)')
_STATUS = re.compile(r'\\?"status\\?"\s*:\s*(\d+)')
_OWNER = re.compile(r'\\?"(?:owner_user_id_str|anchor_id)\\?"\s*:\s*\\?"?(\d+)')
#: room status on the page: 2 live, 4 ended
STATUS_LIVE: Final = 2


class RoomNotFound(LivecsError):
    """The room page does not hold a room id."""

    code = ErrorCode.NOT_FOUND


class ServerClosing(LivecsError):
    """The server sent a "close" frame."""

    code = ErrorCode.UNAVAILABLE


@dataclass(frozen=True, slots=True)
class RoomInfo:
    room_id: int
    anchor_id: int = 0
    live: bool | None = None  # None: unknown
    ttwid: str = ""


def parse_room_page(text: str) -> RoomInfo:
    """Room id, anchor id and live status from the room page's embedded state (escaped JSON or plain)."""
    m = _ROOM_ID.search(text)
    if m is None:
        raise RoomNotFound("no roomId on the room page")
    room_id = int(m.group(1))
    status = _STATUS.search(text, m.end())
    owner = _OWNER.search(text)
    live = int(status.group(1)) == STATUS_LIVE if status else None
    return RoomInfo(room_id, int(owner.group(1)) if owner else 0, live)


def push_params(
    room_id: int,
    *,
    user_unique_id: str,
    user_agent: str,
    cursor: str = "",
    internal_ext: str = "",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The push socket's query parameters (before the signature)."""
    params = dict(BASE_PARAMS)
    params.update(
        {
            "browser_version": user_agent.split("/", 1)[1] if "/" in user_agent else user_agent,
            "room_id": str(room_id),
            "user_unique_id": user_unique_id,
            "cursor": cursor,
            "internal_ext": internal_ext,
        }
    )
    params.update(extra or {})
    return params


def cookie_header(configured: str, ttwid: str) -> str:
    if configured:
        return configured
    return f"ttwid={ttwid}" if ttwid else ""


class DouyinSource(ReconnectingSource):
    """One Douyin live room. ``room`` names the room in records (default: the live id)."""

    name = SOURCE_NAME
    log = log
    retry_on = (SignerError, RoomNotFound, ServerClosing, aiohttp.ClientError)
    healthy_after_s = None  # only a connection that delivered records resets the backoff

    def __init__(
        self,
        settings: DouyinSettings,
        *,
        room: str | None = None,
        live_id: str | None = None,
        signer: Signer | None = None,
        record: str | Path | None = None,
        rng: random.Random | None = None,
        name: str = SOURCE_NAME,
    ) -> None:
        live_id = (live_id or room or "").strip()
        if not live_id and not settings.room_id:
            raise ValueError("douyin needs a live id (--room <live id>) or douyin.room_id")
        self._rng = rng or random.Random()
        super().__init__(name=name, backoff=Backoff.from_settings(settings, self._rng))
        self.settings = settings
        self.live_id = live_id
        self.room = room or live_id or str(settings.room_id)
        self.signer = signer or make_signer(settings.signer, settings.signer_timeout_s)
        self.record_path = Path(record) if record else (Path(settings.record) if settings.record else None)
        self.health = CaptureHealth(stall_after_s=settings.stall_after_s)
        self.parser = MessageParser(
            self.room,
            anchor_id=settings.anchor_id,
            svip_grade=settings.svip_grade,
            vip_grade=settings.vip_grade,
            member_club_level=settings.member_club_level,
        )
        self.pump = FramePump(
            self.parser,
            limits=DecoderLimits(max_decompressed_bytes=settings.max_decompressed_bytes),
            health=self.health,
        )
        self.user_unique_id = str(self._rng.randrange(7_000_000_000_000_000_000, 7_999_999_999_999_999_999))
        self.room_info: RoomInfo | None = None
        self.cursor = ""
        self.internal_ext = ""
        self.recorder: FrameWriter | None = None
        #: progress, for tests and logs
        self.acks_sent = 0
        self.records = 0

    # -- health for GET /api/stats ------------------------------------------------------------------------
    def capture_health(self) -> dict[str, Any]:
        snap = self.health.snapshot(time.time())
        snap["room"] = self.room
        snap["room_id"] = self.room_info.room_id if self.room_info else self.settings.room_id
        return snap

    async def run(self, sink: IngestSink) -> None:
        register = getattr(sink, "register_capture", None)
        if callable(register):
            register(self.name, self.capture_health)
        if self.record_path is not None:
            self.recorder = FrameWriter(self.record_path, start=time.time(), room=self.room)
        try:
            await super().run(sink)
        finally:
            if self.recorder is not None:
                self.recorder.close()
            self.health.disconnected()

    @property
    def _display_url(self) -> str:
        return _bare(self.settings.ws_url)

    def _describe(self, exc: BaseException | None) -> str:
        return _safe(exc)

    def _connection_closed(self) -> None:
        self.health.disconnected()

    async def _dial(self, sink: IngestSink, limits: RecordLimits) -> Dial | None:
        info = await self._room(sink)
        if info is None:
            return None
        return Dial(
            await self._signed_url(info),
            {
                "max_size": max(limits.max_payload_bytes, DecoderLimits().max_frame_bytes),
                "user_agent_header": self.settings.user_agent,
                "additional_headers": self._headers(info),
                "logger": ws_log,
            },
        )

    # -- room and URL -------------------------------------------------------------------------------
    async def _room(self, sink: IngestSink) -> RoomInfo | None:
        """The room (resolved once); ``None`` when the page says the room is not live."""
        if self.room_info is not None:
            return self.room_info
        s = self.settings
        if s.room_id:
            self.room_info = RoomInfo(s.room_id, s.anchor_id)
            return self.room_info
        page = s.room_page_url.format(live_id=self.live_id)
        headers = {"User-Agent": s.user_agent}
        cookie = s.cookie.get_secret_value()
        if cookie:
            headers["Cookie"] = cookie
        timeout = aiohttp.ClientTimeout(total=PAGE_TIMEOUT_S)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(page, headers=headers) as resp,
        ):
            if resp.status != 200:
                raise RoomNotFound(f"room page {page} answered {resp.status}")
            text = (await resp.content.read(MAX_PAGE_BYTES)).decode("utf-8", "replace")
            ttwid = resp.cookies["ttwid"].value if "ttwid" in resp.cookies else ""
        info = parse_room_page(text)
        info = RoomInfo(info.room_id, s.anchor_id or info.anchor_id, info.live, ttwid)
        if info.anchor_id and not self.parser.anchor_id:
            self.parser.anchor_id = info.anchor_id
        log.info("douyin live %s: room id %d (live: %s)", self.live_id, info.room_id, info.live)
        if info.live is False:
            sink.source_status(self.name, "finished", f"live {self.live_id}: the room is not live")
            return None
        self.room_info = info
        return info

    async def _signed_url(self, info: RoomInfo) -> str:
        s = self.settings
        params = push_params(
            info.room_id,
            user_unique_id=self.user_unique_id,
            user_agent=s.user_agent,
            cursor=self.cursor,
            internal_ext=self.internal_ext,
            extra=s.params,
        )
        signed = await self.signer.sign(s.ws_url, params, s.user_agent)
        params.update(signed.params)
        params["signature"] = signed.signature
        return f"{s.ws_url}?{urlencode(params)}"

    def _headers(self, info: RoomInfo) -> dict[str, str]:
        headers = {"Origin": ORIGIN}
        cookie = cookie_header(self.settings.cookie.get_secret_value(), info.ttwid)
        if cookie:
            headers["Cookie"] = cookie
        return headers

    # -- one connection -----------------------------------------------------------------------------
    async def _session(self, conn: ClientConnection, sink: IngestSink) -> bool:
        """Read until the connection ends (an exception) or the live ends (closed here; ``True``)."""
        info = self.room_info
        room_id = info.room_id if info is not None else self.settings.room_id
        self.health.connected(time.time())
        self._mark_connected(sink, f"{self._display_url} room {room_id}")
        if not await self._read(conn, sink):
            return False
        await conn.close(CloseCode.NORMAL_CLOSURE, "live ended")
        sink.source_status(self.name, "finished", f"room {room_id}: the live ended")
        return True

    async def _read(self, conn: ClientConnection, sink: IngestSink) -> bool:
        """Frames until the connection ends (an exception) or the live ends (``True``)."""
        s = self.settings
        async with self._heartbeating(conn, encode_heartbeat(), s.heartbeat_s):
            quiet_limit = s.heartbeat_s + s.receive_grace_s
            while True:
                data = await self._receive(conn, quiet_limit)
                now = time.time()
                if self.recorder is not None:
                    self.recorder.write(data, now)
                out = await self._offload(len(data), s.offload_bytes, self.pump.feed, data, now)
                for reason, detail in out.drops:
                    sink.reject(REJECT_PREFIX + reason, source=self.name, detail=detail)
                for batch in out.batches:
                    if batch.need_ack:
                        await conn.send(encode_ack(batch.log_id, batch.internal_ext))
                        self.acks_sent += 1
                    if batch.cursor:
                        self.cursor = batch.cursor
                    if batch.internal_ext:
                        self.internal_ext = batch.internal_ext
                if out.records:
                    self.records += len(out.records)
                    if await sink.submit_records(out.records, source=self.name) > 0:
                        self._delivered = True
                if out.ended:
                    return True
                if out.closing:
                    raise ServerClosing("the server sent a close frame")

    def _close_info(self, exc: BaseException | None, conn: ClientConnection) -> tuple[int | None, str]:
        if isinstance(exc, ServerClosing):
            return None, str(exc)
        return super()._close_info(exc, conn)


def _bare(url: str) -> str:
    """The URL without its query (the query holds the signature; the cookie is never in a URL)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _safe(exc: BaseException | None) -> str:
    """An exception for the log, without a signed URL's query."""
    text = repr(exc)
    return re.sub(r"\?[^\s'\"]*", "?…", text)
