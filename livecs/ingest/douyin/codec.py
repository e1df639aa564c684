"""Pure frame codec of the Douyin webcast push socket: bytes in, decoded frames out, no I/O.

Each binary websocket message is one protobuf ``PushFrame`` (see ``webcast.proto`` next to this file)::

    PushFrame: seq_id 1, log_id 2, service 3, method 4, headers 5 (key/value), payload_encoding 6,
               payload_type 7 ("msg", "hb", "ack", "close"), payload 8
    Response (the payload of a "msg" frame, gzip-compressed when payload_encoding is "gzip"):
               messages 1, cursor 2, fetch_interval 3, now 4, internal_ext 5, heartbeat_duration 8,
               need_ack 9, push_server 10, live_cursor 11
    Message:   method 1 ("WebcastChatMessage"…), payload 2 (that message's protobuf), msg_id 3

:class:`Decoder` is sans-I/O: :meth:`Decoder.feed` takes one websocket message and returns what it held
(:class:`Batch` for a "msg" frame, :class:`ServerHeartbeat` for "hb", :class:`Closing` for "close",
:class:`ClientFrame` for the client's own "hb"/"ack", which a server decodes). It never raises: a
malformed frame is dropped with a counted reason (:data:`DROP_REASONS`, :attr:`Decoder.drops`). Parsing is
the ``protobuf`` runtime's generated code (upb); the checks it does not make are made here: a known field
sent with the wrong wire type (the runtime keeps it as an unknown field) is a ``wrong_wire_type`` drop, the
gzip body is bounded (:attr:`DecoderLimits.max_decompressed_bytes`: a decompression bomb costs a bounded
amount of memory and a counted drop), a frame or a message list over the limits is dropped.

The ``encode_*`` helpers build frames: the client's heartbeat and ack, and (for test servers and fixtures)
"msg" frames holding any messages.
"""

from __future__ import annotations

import enum
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage
from google.protobuf.unknown_fields import UnknownFieldSet

from livecs.ingest.douyin import webcast_pb2 as pb

#: payload types of a PushFrame
PAYLOAD_MSG: Final = "msg"
PAYLOAD_HEARTBEAT: Final = "hb"
PAYLOAD_ACK: Final = "ack"
PAYLOAD_CLOSE: Final = "close"
#: payload encodings
ENCODING_GZIP: Final = "gzip"
ENCODING_NONE: Final = ""
#: frame header keys the server sets
HEADER_COMPRESS: Final = "compress_type"
HEADER_CURSOR: Final = "im-cursor"
HEADER_INTERNAL_EXT: Final = "im-internal_ext"

DEFAULT_MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 8 * 1024 * 1024
DEFAULT_MAX_MESSAGES: Final = 5_000
#: gzip with a zlib header check (wbits 16 + 15)
_GZIP_WBITS: Final = 31


class Drop(enum.StrEnum):
    """Why a frame (or part of one) was dropped."""

    OVERSIZED = "oversized"  # frame over max_frame_bytes
    BAD_FRAME = "bad_frame"  # not a PushFrame: truncated varint, lying length, bad tag…
    WRONG_WIRE_TYPE = "wrong_wire_type"  # a known field with the wrong wire type
    UNKNOWN_PAYLOAD_TYPE = "unknown_payload_type"
    UNKNOWN_ENCODING = "unknown_encoding"
    DECOMPRESS_ERROR = "decompress_error"
    DECOMPRESSED_TOO_LARGE = "decompressed_too_large"
    EMPTY_PAYLOAD = "empty_payload"  # a "msg" frame without a Response
    BAD_RESPONSE = "bad_response"  # the payload is not a Response
    TOO_MANY_MESSAGES = "too_many_messages"  # messages over the limit (the rest are dropped)
    BAD_MESSAGE = "bad_message"  # a Message without a method
    DECODER_ERROR = "decoder_error"  # a bug in this module; counted so the stream goes on


DROP_REASONS: Final = tuple(d.value for d in Drop)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One webcast message of a batch: its method, its protobuf payload and the server's message id."""

    method: str
    payload: bytes
    msg_id: int = 0


@dataclass(frozen=True, slots=True)
class Batch:
    """A "msg" frame: the messages, and what the client must do next (ack, resume cursor)."""

    log_id: int
    messages: tuple[RawMessage, ...]
    cursor: str
    internal_ext: str
    need_ack: bool
    fetch_interval_ms: int
    heartbeat_ms: int
    now_ms: int
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ServerHeartbeat:
    """An "hb" frame from the server (its answer to the client's heartbeat)."""

    log_id: int


@dataclass(frozen=True, slots=True)
class Closing:
    """A "close" frame: the server is ending the connection."""

    log_id: int


@dataclass(frozen=True, slots=True)
class ClientFrame:
    """A client frame as a server sees it: ``kind`` "hb" or "ack"; ``payload`` the ack's internal ext."""

    kind: str
    log_id: int
    payload: bytes


Decoded = Batch | ServerHeartbeat | Closing | ClientFrame


@dataclass(frozen=True, slots=True)
class DecoderLimits:
    """Bounds that keep a hostile or broken server from costing unbounded memory or time."""

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_messages: int = DEFAULT_MAX_MESSAGES


class _Bomb(Exception):
    """Decompressed output over the limit."""


def gunzip(data: bytes, limit: int) -> bytes:
    """gzip-decompress at most ``limit`` bytes; raises :class:`_Bomb` or ``zlib.error``."""
    d = zlib.decompressobj(_GZIP_WBITS)
    out = d.decompress(data, limit + 1)
    if len(out) > limit or d.unconsumed_tail:
        raise _Bomb
    if not d.eof:
        raise zlib.error("incomplete gzip stream")
    return out


def _known_numbers(message_type: type[ProtoMessage]) -> frozenset[int]:
    return frozenset(f.number for f in message_type.DESCRIPTOR.fields)


_FRAME_FIELDS: Final = _known_numbers(pb.PushFrame)
_RESPONSE_FIELDS: Final = _known_numbers(pb.Response)


def wrong_wire_type(message: ProtoMessage, known: frozenset[int]) -> int | None:
    """The number of a known field the runtime kept as unknown (sent with the wrong wire type), else None."""
    for unknown in UnknownFieldSet(message):
        if unknown.field_number in known:
            return int(unknown.field_number)
    return None


@dataclass
class Decoder:
    """Sans-I/O decoder: :meth:`feed` one websocket message, get its frame; drops are counted, never raised.

    Counters: :attr:`drops` by reason, :attr:`frames` fed, :attr:`messages` (webcast messages decoded),
    :attr:`decompressed_bytes`. :attr:`last_drop` describes the latest drop for logs.
    """

    limits: DecoderLimits = field(default_factory=DecoderLimits)
    #: decode as the server does ("hb" frames are the client's heartbeats)
    server_side: bool = False
    drops: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    messages: int = 0
    decompressed_bytes: int = 0
    last_drop: str = ""

    @property
    def dropped(self) -> int:
        return sum(self.drops.values())

    def feed(self, data: bytes | bytearray | memoryview) -> list[Decoded]:
        """Decode one websocket message (one PushFrame). Never raises for any input bytes."""
        self.frames += 1
        try:
            return self._frame(bytes(data))
        except Exception as exc:  # a bug here must not take the stream down: count it and go on
            self._drop(Drop.DECODER_ERROR, repr(exc))
            return []

    def _drop(self, reason: Drop, detail: str) -> None:
        self.drops[reason.value] += 1
        self.last_drop = f"{reason.value}: {detail}"

    def _frame(self, data: bytes) -> list[Decoded]:
        if len(data) > self.limits.max_frame_bytes:
            self._drop(Drop.OVERSIZED, f"frame of {len(data)} bytes")
            return []
        frame = pb.PushFrame()
        try:
            frame.ParseFromString(data)
        except DecodeError as exc:
            self._drop(Drop.BAD_FRAME, f"PushFrame of {len(data)} bytes: {exc}")
            return []
        bad = wrong_wire_type(frame, _FRAME_FIELDS)
        if bad is not None:
            self._drop(Drop.WRONG_WIRE_TYPE, f"PushFrame field {bad}")
            return []
        kind = frame.payload_type
        if kind == PAYLOAD_MSG:
            batch = self._batch(frame)
            return [batch] if batch is not None else []
        if kind == PAYLOAD_HEARTBEAT and self.server_side:
            return [ClientFrame(PAYLOAD_HEARTBEAT, frame.log_id, frame.payload)]
        if kind == PAYLOAD_HEARTBEAT:
            return [ServerHeartbeat(frame.log_id)]
        if kind == PAYLOAD_ACK:
            return [ClientFrame(PAYLOAD_ACK, frame.log_id, frame.payload)]
        if kind == PAYLOAD_CLOSE:
            return [Closing(frame.log_id)]
        self._drop(Drop.UNKNOWN_PAYLOAD_TYPE, f"payload type {kind[:32]!r}")
        return []

    def _batch(self, frame: pb.PushFrame) -> Batch | None:
        headers = {h.key: h.value for h in frame.headers}
        encoding = frame.payload_encoding or headers.get(HEADER_COMPRESS, ENCODING_NONE)
        payload = frame.payload
        if not payload:
            self._drop(Drop.EMPTY_PAYLOAD, f"msg frame {frame.log_id} without a payload")
            return None
        if encoding == ENCODING_GZIP:
            limit = self.limits.max_decompressed_bytes
            try:
                payload = gunzip(payload, limit)
            except _Bomb:
                self._drop(Drop.DECOMPRESSED_TOO_LARGE, f"gzip payload over {limit} bytes")
                return None
            except zlib.error as exc:
                self._drop(Drop.DECOMPRESS_ERROR, f"gzip: {exc}")
                return None
            self.decompressed_bytes += len(payload)
        elif encoding not in (ENCODING_NONE, "none", "pb"):
            self._drop(Drop.UNKNOWN_ENCODING, f"payload encoding {encoding[:32]!r}")
            return None
        response = pb.Response()
        try:
            response.ParseFromString(payload)
        except DecodeError as exc:
            self._drop(Drop.BAD_RESPONSE, f"Response of {len(payload)} bytes: {exc}")
            return None
        bad = wrong_wire_type(response, _RESPONSE_FIELDS)
        if bad is not None:
            self._drop(Drop.WRONG_WIRE_TYPE, f"Response field {bad}")
            return None
        items = response.messages
        if len(items) > self.limits.max_messages:
            self._drop(
                Drop.TOO_MANY_MESSAGES, f"{len(items)} messages, over {self.limits.max_messages} dropped"
            )
            items = items[: self.limits.max_messages]
        messages: list[RawMessage] = []
        for m in items:
            if not m.method:
                self._drop(Drop.BAD_MESSAGE, "a message without a method")
                continue
            messages.append(RawMessage(m.method, m.payload, m.msg_id))
        self.messages += len(messages)
        return Batch(
            log_id=frame.log_id,
            messages=tuple(messages),
            cursor=response.cursor or headers.get(HEADER_CURSOR, ""),
            internal_ext=response.internal_ext or headers.get(HEADER_INTERNAL_EXT, ""),
            need_ack=response.need_ack,
            fetch_interval_ms=response.fetch_interval,
            heartbeat_ms=response.heartbeat_duration,
            now_ms=response.now,
            headers=headers,
        )


# -- encoding ---------------------------------------------------------------------------------------------
def encode_heartbeat() -> bytes:
    """The client's heartbeat frame (payload type "hb"), sent every ``douyin.heartbeat_s``."""
    out: bytes = pb.PushFrame(payload_type=PAYLOAD_HEARTBEAT).SerializeToString()
    return out


def encode_ack(log_id: int, internal_ext: str) -> bytes:
    """The client's ack of a batch whose Response had ``need_ack``: its log id and internal ext."""
    frame = pb.PushFrame(log_id=log_id, payload_type=PAYLOAD_ACK, payload=internal_ext.encode("utf-8"))
    out: bytes = frame.SerializeToString()
    return out


def encode_message(method: str, payload: bytes | ProtoMessage, msg_id: int = 0) -> pb.Message:
    raw = payload if isinstance(payload, bytes) else payload.SerializeToString()
    return pb.Message(method=method, payload=raw, msg_id=msg_id)


def encode_response(
    messages: Iterable[pb.Message],
    *,
    cursor: str = "",
    internal_ext: str = "",
    need_ack: bool = False,
    fetch_interval_ms: int = 0,
    heartbeat_ms: int = 0,
    now_ms: int = 0,
) -> bytes:
    response = pb.Response(
        messages=list(messages),
        cursor=cursor,
        internal_ext=internal_ext,
        need_ack=need_ack,
        fetch_interval=fetch_interval_ms,
        heartbeat_duration=heartbeat_ms,
        now=now_ms,
    )
    out: bytes = response.SerializeToString()
    return out


def encode_frame(
    payload: bytes,
    *,
    payload_type: str = PAYLOAD_MSG,
    encoding: str = ENCODING_GZIP,
    log_id: int = 0,
    seq_id: int = 0,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """One PushFrame; ``payload`` is gzip-compressed here when ``encoding`` is "gzip"."""
    body = zlib_gzip(payload) if encoding == ENCODING_GZIP else payload
    hdrs = dict(headers or {})
    if encoding == ENCODING_GZIP:
        hdrs.setdefault(HEADER_COMPRESS, ENCODING_GZIP)
    frame = pb.PushFrame(
        seq_id=seq_id,
        log_id=log_id,
        payload_type=payload_type,
        payload_encoding=encoding,
        payload=body,
        headers=[pb.FrameHeader(key=k, value=v) for k, v in hdrs.items()],
    )
    out: bytes = frame.SerializeToString()
    return out


def encode_batch(
    messages: Iterable[pb.Message],
    *,
    log_id: int = 0,
    cursor: str = "",
    internal_ext: str = "",
    need_ack: bool = False,
    encoding: str = ENCODING_GZIP,
    heartbeat_ms: int = 0,
) -> bytes:
    """A "msg" frame holding ``messages`` (what the server pushes)."""
    response = encode_response(
        messages, cursor=cursor, internal_ext=internal_ext, need_ack=need_ack, heartbeat_ms=heartbeat_ms
    )
    return encode_frame(response, encoding=encoding, log_id=log_id)


def zlib_gzip(data: bytes, level: int = 6) -> bytes:
    """gzip-compress (the container the server uses) without the gzip module's timestamp."""
    c = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)
    return c.compress(data) + c.flush()
