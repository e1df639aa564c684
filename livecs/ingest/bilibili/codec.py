"""Pure packet codec of the Bilibili live danmaku protocol: bytes in, decoded packets out, no I/O.

Every packet starts with a 16-byte big-endian header (``struct '>I2H2I'``)::

    packet length u32 (header included) | header length u16 (= 16) | protocol version u16
    | operation u32 | sequence u32

Protocol versions: 0 plain JSON body, 1 "heartbeat/auth" body (the heartbeat reply's 4-byte popularity, the
auth packets' JSON), 2 zlib-compressed packets, 3 brotli-compressed packets. A compressed body is itself a
run of whole packets (usually plain JSON commands), so compression nests. Operations: 2 heartbeat, 3
heartbeat reply (popularity), 5 command, 7 auth, 8 auth reply; the other operation numbers of the broadcast
service are known by name but carry nothing livecs uses.

One websocket message carries one or more whole packets. :class:`Decoder` is sans-I/O in the style of
``websockets``' protocol core: :meth:`Decoder.feed` takes one message and returns what it held
(:class:`Command`, :class:`HeartbeatReply`, :class:`AuthReply`, :class:`ClientPacket` for the client's own
operations, which a server decodes). It never raises: a malformed packet is dropped with a counted reason
(:data:`DROP_REASONS`, :attr:`Decoder.drops`) and the rest of the message still decodes when it can.
Compressed bodies are bounded: at most :attr:`DecoderLimits.max_depth` nested levels and
:attr:`DecoderLimits.max_decompressed_bytes` of output per body, so a decompression bomb costs a bounded
amount of memory and a counted drop.

The ``encode_*`` helpers build packets (the client's auth and heartbeat; commands, bundles and replies for
test servers).
"""

from __future__ import annotations

import enum
import struct
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import brotli
import orjson

#: the packet header: length, header length, protocol version, operation, sequence
HEADER_STRUCT: Final = struct.Struct(">I2H2I")
HEADER_SIZE: Final = HEADER_STRUCT.size
#: the heartbeat reply body starts with the room's popularity as a big-endian u32
POPULARITY_STRUCT: Final = struct.Struct(">I")
#: sequence number the client puts on its packets (the server does not check it)
CLIENT_SEQUENCE: Final = 1
#: heartbeat body sent by the web client (blivedm sends ``{}`` too)
HEARTBEAT_BODY: Final = b"{}"
#: the web client's auth fields (``type`` 2 = web player, ``platform`` web)
AUTH_PLATFORM: Final = "web"
AUTH_TYPE: Final = 2
#: auth reply code meaning "accepted" (``-101`` is a token error)
AUTH_OK: Final = 0
AUTH_TOKEN_ERROR: Final = -101

#: default bounds of a decoder (see :class:`DecoderLimits`)
DEFAULT_MAX_PACKET_BYTES: Final = 4 * 1024 * 1024
DEFAULT_MAX_DECOMPRESSED_BYTES: Final = 8 * 1024 * 1024
DEFAULT_MAX_DEPTH: Final = 2
DEFAULT_MAX_PACKETS_PER_MESSAGE: Final = 10_000


class ProtoVer(enum.IntEnum):
    """Protocol version of a packet body (``WS_BODY_PROTOCOL_VERSION``)."""

    NORMAL = 0  # plain JSON
    HEARTBEAT = 1  # heartbeat / auth packets (int or JSON body)
    DEFLATE = 2  # zlib-compressed run of packets
    BROTLI = 3  # brotli-compressed run of packets


class Operation(enum.IntEnum):
    """Operation of a packet (the broadcast service's ``operation.go``)."""

    HANDSHAKE = 0
    HANDSHAKE_REPLY = 1
    HEARTBEAT = 2
    HEARTBEAT_REPLY = 3
    SEND_MSG = 4
    SEND_MSG_REPLY = 5  # a command (DANMU_MSG, SEND_GIFT…)
    DISCONNECT_REPLY = 6
    AUTH = 7
    AUTH_REPLY = 8
    RAW = 9
    PROTO_READY = 10
    PROTO_FINISH = 11
    CHANGE_ROOM = 12
    CHANGE_ROOM_REPLY = 13
    REGISTER = 14
    REGISTER_REPLY = 15
    UNREGISTER = 16
    UNREGISTER_REPLY = 17


#: operations whose packets are decoded (others are counted ``unknown_operation``)
HANDLED_OPERATIONS: Final = frozenset(
    {
        Operation.HEARTBEAT,
        Operation.HEARTBEAT_REPLY,
        Operation.SEND_MSG_REPLY,
        Operation.AUTH,
        Operation.AUTH_REPLY,
    }
)
_KNOWN_VERSIONS: Final = frozenset(v.value for v in ProtoVer)


class Drop(enum.StrEnum):
    """Why a packet (or the rest of a message) was dropped."""

    TRUNCATED = "truncated"  # fewer bytes than a header, or than the packet length says
    BAD_LENGTH = "bad_length"  # packet length smaller than its header
    OVERSIZED = "oversized"  # packet length over the limit
    BAD_HEADER_LENGTH = "bad_header_length"  # header length field is not 16
    UNKNOWN_PROTOVER = "unknown_protover"
    UNKNOWN_OPERATION = "unknown_operation"
    DECOMPRESS_ERROR = "decompress_error"
    DECOMPRESSED_TOO_LARGE = "decompressed_too_large"
    TOO_DEEP = "nesting_too_deep"
    TOO_MANY_PACKETS = "too_many_packets"
    BAD_JSON = "bad_json"
    NOT_A_COMMAND = "not_a_command"  # JSON, but not an object with a string ``cmd``
    BAD_HEARTBEAT_REPLY = "bad_heartbeat_reply"
    BAD_AUTH_REPLY = "bad_auth_reply"
    DECODER_ERROR = "decoder_error"  # a bug in this module; counted so the stream goes on


DROP_REASONS: Final = tuple(d.value for d in Drop)


@dataclass(frozen=True, slots=True)
class Header:
    """The 16-byte packet header, as numbers (version and operation may be unknown values)."""

    length: int
    header_length: int
    version: int
    operation: int
    sequence: int

    def pack(self) -> bytes:
        return HEADER_STRUCT.pack(
            self.length, self.header_length, self.version, self.operation, self.sequence
        )


@dataclass(frozen=True, slots=True)
class Command:
    """One business message (operation 5): ``cmd`` without its ``:…`` suffix, and the whole JSON object."""

    cmd: str
    body: dict[str, Any]
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class HeartbeatReply:
    """Operation 3: the room's popularity (deprecated by the platform, usually 1)."""

    popularity: int
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class AuthReply:
    """Operation 8: ``code`` 0 is accepted; anything else means authenticate again."""

    code: int
    body: dict[str, Any]
    sequence: int = 0

    @property
    def ok(self) -> bool:
        return self.code == AUTH_OK


@dataclass(frozen=True, slots=True)
class ClientPacket:
    """A client operation (2 heartbeat, 7 auth) as a server sees it; ``body`` is the JSON, or ``{}``."""

    operation: Operation
    body: dict[str, Any]
    raw: bytes
    sequence: int = 0


Decoded = Command | HeartbeatReply | AuthReply | ClientPacket


@dataclass(frozen=True, slots=True)
class DecoderLimits:
    """Bounds that keep a hostile or broken server from costing unbounded memory or time."""

    max_packet_bytes: int = DEFAULT_MAX_PACKET_BYTES
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH  # compressed levels inside one message
    max_packets_per_message: int = DEFAULT_MAX_PACKETS_PER_MESSAGE


class _Bomb(Exception):
    """Decompressed output over the limit."""


def _inflate(data: bytes, limit: int) -> bytes:
    """zlib-decompress at most ``limit`` bytes; raises :class:`_Bomb` or ``zlib.error``."""
    d = zlib.decompressobj()
    out = d.decompress(data, limit + 1)
    if len(out) > limit or d.unconsumed_tail:
        raise _Bomb
    if not d.eof:
        raise zlib.error("incomplete zlib stream")
    return out


def _unbrotli(data: bytes, limit: int) -> bytes:
    """brotli-decompress at most ``limit`` bytes; raises :class:`_Bomb` or ``brotli.error``."""
    d = brotli.Decompressor()
    out: bytes = d.process(data, output_buffer_limit=limit + 1)
    if len(out) > limit:
        raise _Bomb
    if not d.is_finished():
        if not d.can_accept_more_data():  # output still pending: over the limit
            raise _Bomb
        raise brotli.error("incomplete brotli stream")
    return out


@dataclass
class Decoder:
    """Sans-I/O decoder: :meth:`feed` one websocket message, get its packets; drops are counted, never raised.

    Counters: :attr:`drops` by reason, :attr:`packets` (decoded leaf packets), :attr:`messages` fed,
    :attr:`decompressed_bytes`. :attr:`last_drop` holds a short description of the latest drop for logs.
    """

    limits: DecoderLimits = field(default_factory=DecoderLimits)
    drops: Counter[str] = field(default_factory=Counter)
    packets: int = 0
    messages: int = 0
    decompressed_bytes: int = 0
    last_drop: str = ""

    def feed(self, data: bytes | bytearray | memoryview) -> list[Decoded]:
        """Decode one message (one or more whole packets). Never raises for any input bytes."""
        self.messages += 1
        out: list[Decoded] = []
        budget = [self.limits.max_packets_per_message]
        try:
            self._split(bytes(data), 0, out, budget)
        except Exception as exc:  # a bug here must not take the stream down: count it and go on
            self._drop(Drop.DECODER_ERROR, repr(exc))
        return out

    @property
    def dropped(self) -> int:
        return sum(self.drops.values())

    # -- internals ----------------------------------------------------------------------------------------
    def _drop(self, reason: Drop, detail: str) -> None:
        self.drops[reason.value] += 1
        self.last_drop = f"{reason.value}: {detail}"

    def _split(self, data: bytes, depth: int, out: list[Decoded], budget: list[int]) -> None:
        """Walk the packets of ``data`` (a message, or a decompressed body at ``depth``)."""
        offset = 0
        end = len(data)
        while offset < end:
            remaining = end - offset
            if remaining < HEADER_SIZE:
                self._drop(
                    Drop.TRUNCATED, f"{remaining} bytes left at offset {offset}, header needs {HEADER_SIZE}"
                )
                return
            header = Header(*HEADER_STRUCT.unpack_from(data, offset))
            if header.length > self.limits.max_packet_bytes:
                self._drop(Drop.OVERSIZED, f"packet length {header.length} at offset {offset}")
                return
            if header.length < HEADER_SIZE:
                self._drop(Drop.BAD_LENGTH, f"packet length {header.length} at offset {offset}")
                return
            if header.length > remaining:
                self._drop(
                    Drop.TRUNCATED, f"packet length {header.length} but {remaining} bytes at offset {offset}"
                )
                return
            body = data[offset + HEADER_SIZE : offset + header.length]
            offset += header.length
            budget[0] -= 1
            if budget[0] < 0:
                self._drop(Drop.TOO_MANY_PACKETS, f"over {self.limits.max_packets_per_message} packets")
                return
            if header.header_length != HEADER_SIZE:
                self._drop(Drop.BAD_HEADER_LENGTH, f"header length {header.header_length}")
                continue
            self._packet(header, body, depth, out, budget)
            if header.operation == Operation.HEARTBEAT_REPLY and depth == 0:
                # the server echoes the client's heartbeat body after the reply without counting it in
                # the length field (see blivedm); whatever follows a heartbeat reply is not a packet
                return

    def _packet(self, header: Header, body: bytes, depth: int, out: list[Decoded], budget: list[int]) -> None:
        op = header.operation
        if op not in HANDLED_OPERATIONS:
            self._drop(Drop.UNKNOWN_OPERATION, f"operation {op}")
            return
        if header.version not in _KNOWN_VERSIONS:
            self._drop(Drop.UNKNOWN_PROTOVER, f"protocol version {header.version}")
            return
        if op == Operation.HEARTBEAT_REPLY:
            if len(body) < POPULARITY_STRUCT.size:
                self._drop(Drop.BAD_HEARTBEAT_REPLY, f"body of {len(body)} bytes")
                return
            (popularity,) = POPULARITY_STRUCT.unpack_from(body)
            self.packets += 1
            out.append(HeartbeatReply(popularity, header.sequence))
            return
        if header.version in (ProtoVer.DEFLATE, ProtoVer.BROTLI) and op == Operation.SEND_MSG_REPLY:
            self._nested(header, body, depth, out, budget)
            return
        if op == Operation.SEND_MSG_REPLY:
            self._command(header, body, out)
        elif op == Operation.AUTH_REPLY:
            self._auth_reply(header, body, out)
        else:  # HEARTBEAT, AUTH: the client's own packets, decoded for servers
            obj = _json_object(body) if body else {}
            self.packets += 1
            out.append(ClientPacket(Operation(op), obj if obj is not None else {}, body, header.sequence))

    def _nested(self, header: Header, body: bytes, depth: int, out: list[Decoded], budget: list[int]) -> None:
        if depth + 1 > self.limits.max_depth:
            self._drop(Drop.TOO_DEEP, f"compressed body at depth {depth + 1}")
            return
        limit = self.limits.max_decompressed_bytes
        try:
            if header.version == ProtoVer.DEFLATE:
                inner = _inflate(body, limit)
            else:
                inner = _unbrotli(body, limit)
        except _Bomb:
            self._drop(
                Drop.DECOMPRESSED_TOO_LARGE, f"{ProtoVer(header.version).name} body over {limit} bytes"
            )
            return
        except (zlib.error, brotli.error) as exc:
            self._drop(Drop.DECOMPRESS_ERROR, f"{ProtoVer(header.version).name}: {exc}")
            return
        self.decompressed_bytes += len(inner)
        self._split(inner, depth + 1, out, budget)

    def _command(self, header: Header, body: bytes, out: list[Decoded]) -> None:
        if not body:
            return  # blivedm: an empty command body is skipped silently
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            self._drop(Drop.BAD_JSON, f"command body of {len(body)} bytes: {exc}")
            return
        if not isinstance(value, dict) or not isinstance(value.get("cmd"), str):
            self._drop(Drop.NOT_A_COMMAND, f"{type(value).__name__} without a string 'cmd'")
            return
        self.packets += 1
        out.append(Command(command_name(value["cmd"]), value, header.sequence))

    def _auth_reply(self, header: Header, body: bytes, out: list[Decoded]) -> None:
        obj = _json_object(body)
        code = obj.get("code") if obj is not None else None
        if obj is None or not isinstance(code, int) or isinstance(code, bool):
            self._drop(Drop.BAD_AUTH_REPLY, f"auth reply body {body[:64]!r}")
            return
        self.packets += 1
        out.append(AuthReply(code, obj, header.sequence))


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def command_name(cmd: str) -> str:
    """``DANMU_MSG:4:0:2:2:2:0`` → ``DANMU_MSG`` (some commands carry a ``:…`` suffix)."""
    return cmd.split(":", 1)[0]


# -- encoding ---------------------------------------------------------------------------------------------
def encode_packet(
    body: bytes | str | dict[str, Any],
    operation: int,
    version: int = ProtoVer.HEARTBEAT,
    sequence: int = CLIENT_SEQUENCE,
) -> bytes:
    """One packet: header + body (a dict is JSON-encoded, a str UTF-8 encoded)."""
    if isinstance(body, dict):
        raw = orjson.dumps(body)
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = body
    return Header(HEADER_SIZE + len(raw), HEADER_SIZE, version, operation, sequence).pack() + raw


def encode_auth(
    room_id: int,
    uid: int = 0,
    key: str = "",
    *,
    protover: int = ProtoVer.BROTLI,
    buvid: str = "",
    platform: str = AUTH_PLATFORM,
    auth_type: int = AUTH_TYPE,
) -> bytes:
    """The client's auth packet (operation 7): room id, uid (0 = anonymous), token ``key``, protover 3."""
    params: dict[str, Any] = {
        "uid": uid,
        "roomid": room_id,
        "protover": protover,
        "platform": platform,
        "type": auth_type,
    }
    if buvid:
        params["buvid"] = buvid
    if key:
        params["key"] = key
    return encode_packet(params, Operation.AUTH)


def encode_heartbeat() -> bytes:
    """The client's heartbeat (operation 2), sent every 30 s."""
    return encode_packet(HEARTBEAT_BODY, Operation.HEARTBEAT)


def encode_heartbeat_reply(popularity: int, trailer: bytes = b"") -> bytes:
    """A server heartbeat reply (operation 3); ``trailer`` mimics the echo the length field leaves out."""
    return encode_packet(POPULARITY_STRUCT.pack(popularity), Operation.HEARTBEAT_REPLY) + trailer


def encode_auth_reply(code: int = AUTH_OK) -> bytes:
    """A server auth reply (operation 8)."""
    return encode_packet({"code": code}, Operation.AUTH_REPLY)


def encode_command(command: dict[str, Any], sequence: int = 0) -> bytes:
    """A plain JSON command packet (operation 5, version 0)."""
    return encode_packet(command, Operation.SEND_MSG_REPLY, ProtoVer.NORMAL, sequence)


def encode_bundle(packets: Iterable[bytes], version: int = ProtoVer.BROTLI, sequence: int = 0) -> bytes:
    """Packets compressed into one operation-5 packet (``version`` 2 zlib or 3 brotli)."""
    raw = b"".join(packets)
    if version == ProtoVer.DEFLATE:
        body = zlib.compress(raw)
    elif version == ProtoVer.BROTLI:
        body = brotli.compress(raw)
    else:
        raise ValueError(f"a bundle is zlib (2) or brotli (3), not version {version}")
    return encode_packet(body, Operation.SEND_MSG_REPLY, version, sequence)


def encode_commands(commands: Sequence[dict[str, Any]], version: int = ProtoVer.BROTLI) -> bytes:
    """Commands as one message: plain packets back to back (version 0) or one compressed bundle."""
    packets = [encode_command(c) for c in commands]
    if version == ProtoVer.NORMAL:
        return b"".join(packets)
    return encode_bundle(packets, version)
