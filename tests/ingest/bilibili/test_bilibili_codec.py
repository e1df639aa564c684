"""The pure Bilibili packet codec: round trips, bundles, nesting, counted drops; the decoder never raises."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecs.ingest.bilibili.codec import (
    AUTH_TOKEN_ERROR,
    HEADER_SIZE,
    HEADER_STRUCT,
    AuthReply,
    ClientPacket,
    Command,
    Decoder,
    DecoderLimits,
    Drop,
    Header,
    HeartbeatReply,
    Operation,
    ProtoVer,
    command_name,
    encode_auth,
    encode_auth_reply,
    encode_bundle,
    encode_command,
    encode_commands,
    encode_heartbeat,
    encode_heartbeat_reply,
    encode_packet,
)


def danmu(i: int) -> dict[str, Any]:
    return {
        "cmd": "DANMU_MSG",
        "info": [[0, 1, 25, 16777215, 1_700_000_000_000 + i], f"第{i}条", [i, f"u{i}"]],
    }


def texts(decoded: list[Any]) -> list[str]:
    return [d.body["info"][1] for d in decoded if isinstance(d, Command)]


# -- header and single packets -------------------------------------------------------------------------------


def test_header_is_16_bytes_big_endian() -> None:
    raw = encode_packet(b"xy", Operation.HEARTBEAT, ProtoVer.HEARTBEAT, sequence=7)
    assert HEADER_SIZE == 16 and HEADER_STRUCT.format == ">I2H2I"
    assert raw[:16] == struct.pack(">IHHII", 18, 16, 1, 2, 7)
    assert Header(*HEADER_STRUCT.unpack_from(raw)) == Header(18, 16, 1, 2, 7)


def test_auth_packet_carries_room_uid_key_and_protover_3() -> None:
    d = Decoder()
    [pkt] = d.feed(encode_auth(12345, uid=42, key="tok", buvid="B"))
    assert isinstance(pkt, ClientPacket) and pkt.operation is Operation.AUTH
    assert pkt.body == {
        "uid": 42,
        "roomid": 12345,
        "protover": 3,
        "platform": "web",
        "type": 2,
        "buvid": "B",
        "key": "tok",
    }
    anon = d.feed(encode_auth(1))[0]
    assert isinstance(anon, ClientPacket) and "key" not in anon.body and anon.body["uid"] == 0


def test_heartbeat_round_trip() -> None:
    raw = encode_heartbeat()
    assert Header(*HEADER_STRUCT.unpack_from(raw)).operation == Operation.HEARTBEAT
    [pkt] = Decoder().feed(raw)
    assert isinstance(pkt, ClientPacket) and pkt.operation is Operation.HEARTBEAT and pkt.body == {}


def test_heartbeat_reply_popularity_and_echoed_trailer_ignored() -> None:
    d = Decoder()
    assert d.feed(encode_heartbeat_reply(123456)) == [HeartbeatReply(123456, 1)]
    # the server echoes the client body after the reply without counting it: not a drop
    assert d.feed(encode_heartbeat_reply(7, trailer=b"[object Object]")) == [HeartbeatReply(7, 1)]
    assert d.dropped == 0


@pytest.mark.parametrize("code", [0, AUTH_TOKEN_ERROR])
def test_auth_reply_round_trip(code: int) -> None:
    [reply] = Decoder().feed(encode_auth_reply(code))
    assert isinstance(reply, AuthReply) and reply.code == code and reply.ok is (code == 0)


@pytest.mark.parametrize("version", [ProtoVer.NORMAL, ProtoVer.HEARTBEAT])
def test_plain_command_round_trip_in_versions_0_and_1(version: ProtoVer) -> None:
    raw = encode_packet(danmu(1), Operation.SEND_MSG_REPLY, version, sequence=9)
    assert Decoder().feed(raw) == [Command("DANMU_MSG", danmu(1), 9)]


@pytest.mark.parametrize("version", [ProtoVer.DEFLATE, ProtoVer.BROTLI])
def test_compressed_command_round_trip_in_versions_2_and_3(version: ProtoVer) -> None:
    d = Decoder()
    assert texts(d.feed(encode_commands([danmu(1)], version))) == ["第1条"]
    assert d.decompressed_bytes > 0 and d.dropped == 0


def test_every_operation_round_trips_or_is_counted() -> None:
    d = Decoder()
    for op in Operation:
        body: bytes = encode_packet({"code": 0, "cmd": "X"}, op)[HEADER_SIZE:]
        if op == Operation.HEARTBEAT_REPLY:
            body = struct.pack(">I", 5)
        out = d.feed(encode_packet(body, op))
        if op in (
            Operation.HEARTBEAT,
            Operation.HEARTBEAT_REPLY,
            Operation.SEND_MSG_REPLY,
            Operation.AUTH,
            Operation.AUTH_REPLY,
        ):
            assert len(out) == 1, op
        else:
            assert out == [], op
    assert d.drops == {Drop.UNKNOWN_OPERATION: len(Operation) - 5}


def test_command_suffix_is_stripped() -> None:
    assert command_name("DANMU_MSG:4:0:2:2:2:0") == "DANMU_MSG"
    [cmd] = Decoder().feed(encode_command({"cmd": "DANMU_MSG:4:0:2:2:2:0", "info": []}))
    assert isinstance(cmd, Command) and cmd.cmd == "DANMU_MSG"


# -- bundles -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 50])
@pytest.mark.parametrize("version", list(ProtoVer))
def test_bundles_of_1_2_and_50_packets(n: int, version: ProtoVer) -> None:
    d = Decoder()
    if version == ProtoVer.HEARTBEAT:  # version 1 bodies are plain: packets back to back
        raw = b"".join(encode_packet(danmu(i), Operation.SEND_MSG_REPLY, version) for i in range(n))
    else:
        raw = encode_commands([danmu(i) for i in range(n)], version)
    assert texts(d.feed(raw)) == [f"第{i}条" for i in range(n)]
    assert d.packets == n and d.dropped == 0


def test_a_message_mixes_plain_zlib_and_brotli_packets() -> None:
    raw = (
        encode_command(danmu(0))
        + encode_commands([danmu(1), danmu(2)], ProtoVer.DEFLATE)
        + encode_commands([danmu(3)], ProtoVer.BROTLI)
    )
    assert texts(Decoder().feed(raw)) == ["第0条", "第1条", "第2条", "第3条"]


def test_zlib_inside_brotli_nesting_up_to_the_depth_limit() -> None:
    inner = encode_commands([danmu(1), danmu(2)], ProtoVer.DEFLATE)
    outer = encode_bundle([inner, encode_command(danmu(3))], ProtoVer.BROTLI)
    assert texts(Decoder(DecoderLimits(max_depth=2)).feed(outer)) == ["第1条", "第2条", "第3条"]
    d = Decoder(DecoderLimits(max_depth=1))
    assert texts(d.feed(outer)) == ["第3条"]  # the too-deep level is dropped, its sibling kept
    assert d.drops == {Drop.TOO_DEEP: 1}


def test_deep_nesting_bomb_is_bounded() -> None:
    raw = encode_command(danmu(0))
    for i in range(50):
        raw = encode_bundle([raw], ProtoVer.BROTLI if i % 2 else ProtoVer.DEFLATE)
    d = Decoder()
    assert d.feed(raw) == [] and d.drops == {Drop.TOO_DEEP: 1}


@pytest.mark.parametrize("version", [ProtoVer.DEFLATE, ProtoVer.BROTLI])
def test_decompression_bomb_is_dropped(version: ProtoVer) -> None:
    zeros = b"\0" * (2 * 1024 * 1024)
    body = zlib.compress(zeros, 9) if version == ProtoVer.DEFLATE else brotli.compress(zeros)
    assert len(body) < 10_000
    d = Decoder(DecoderLimits(max_decompressed_bytes=1024 * 1024))
    raw = encode_packet(body, Operation.SEND_MSG_REPLY, version) + encode_command(danmu(9))
    assert texts(d.feed(raw)) == ["第9条"]
    assert d.drops == {Drop.DECOMPRESSED_TOO_LARGE: 1}


def test_too_many_packets_in_one_message_is_bounded() -> None:
    d = Decoder(DecoderLimits(max_packets_per_message=10))
    assert len(d.feed(encode_commands([danmu(i) for i in range(20)], ProtoVer.NORMAL))) == 10
    assert d.drops == {Drop.TOO_MANY_PACKETS: 1}


# -- malformed input: counted drops, the rest goes on --------------------------------------------------------


def test_truncated_header_and_body() -> None:
    d = Decoder()
    good = encode_command(danmu(1))
    assert d.feed(good[:10]) == []
    assert d.feed(good[:-3]) == []
    assert texts(d.feed(good + good[:5])) == ["第1条"]  # a short tail after a good packet
    assert d.drops == {Drop.TRUNCATED: 3}


def test_length_field_lies() -> None:
    d = Decoder(DecoderLimits(max_packet_bytes=1 << 20))
    body = encode_command(danmu(1))[HEADER_SIZE:]
    too_long = Header(HEADER_SIZE + len(body) + 100, 16, 0, 5, 0).pack() + body
    too_short = Header(8, 16, 0, 5, 0).pack() + body
    huge = Header(0xFFFFFFFF, 16, 0, 5, 0).pack() + body
    assert d.feed(too_long) == [] and d.feed(too_short) == [] and d.feed(huge) == []
    assert d.drops == {Drop.TRUNCATED: 1, Drop.BAD_LENGTH: 1, Drop.OVERSIZED: 1}


def test_bad_header_length_skips_that_packet_only() -> None:
    d = Decoder()
    bad = bytearray(encode_command(danmu(1)))
    bad[4:6] = (20).to_bytes(2, "big")
    assert texts(d.feed(bytes(bad) + encode_command(danmu(2)))) == ["第2条"]
    assert d.drops == {Drop.BAD_HEADER_LENGTH: 1}


def test_corrupt_bodies_are_counted_by_reason() -> None:
    d = Decoder()
    cases = [
        encode_packet(b"\x78\x9cgarbage", Operation.SEND_MSG_REPLY, ProtoVer.DEFLATE),
        encode_packet(b"not brotli at all", Operation.SEND_MSG_REPLY, ProtoVer.BROTLI),
        encode_packet(
            zlib.compress(encode_command(danmu(1)))[:-4], Operation.SEND_MSG_REPLY, ProtoVer.DEFLATE
        ),
        encode_packet(b'{"cmd": "DANMU', Operation.SEND_MSG_REPLY, ProtoVer.NORMAL),
        encode_packet(b"\xff\xfe", Operation.SEND_MSG_REPLY, ProtoVer.NORMAL),
        encode_packet(b"[1, 2]", Operation.SEND_MSG_REPLY, ProtoVer.NORMAL),
        encode_packet(b'{"cmd": 5}', Operation.SEND_MSG_REPLY, ProtoVer.NORMAL),
        encode_packet(b"{}", Operation.SEND_MSG_REPLY, 9),
        encode_packet(b'{"msg": "no code"}', Operation.AUTH_REPLY),
        encode_packet(b"{}", 99),
    ]
    for raw in cases:  # the next packet of the same message still decodes
        assert d.feed(raw + encode_command(danmu(7))) == [Command("DANMU_MSG", danmu(7), 0)]
    assert d.feed(encode_packet(b"\0\0", Operation.HEARTBEAT_REPLY)) == []
    assert d.drops == {
        Drop.DECOMPRESS_ERROR: 3,
        Drop.BAD_JSON: 2,
        Drop.NOT_A_COMMAND: 2,
        Drop.UNKNOWN_PROTOVER: 1,
        Drop.BAD_HEARTBEAT_REPLY: 1,
        Drop.BAD_AUTH_REPLY: 1,
        Drop.UNKNOWN_OPERATION: 1,
    }
    assert d.last_drop.startswith("bad_heartbeat_reply")


def test_empty_message_and_empty_command_body_are_nothing() -> None:
    d = Decoder()
    assert d.feed(b"") == [] and d.feed(encode_packet(b"", Operation.SEND_MSG_REPLY, 0)) == []
    assert d.dropped == 0 and d.messages == 2


# -- fuzz ----------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_VALID = [
    encode_commands([danmu(i) for i in range(3)], ProtoVer.BROTLI),
    encode_commands([danmu(i) for i in range(3)], ProtoVer.DEFLATE),
    encode_commands([danmu(1)], ProtoVer.NORMAL) + encode_heartbeat_reply(3),
    encode_auth_reply(0) + encode_auth(5, 1, "k"),
    encode_bundle([encode_commands([danmu(2)], ProtoVer.DEFLATE)], ProtoVer.BROTLI),
]


@FUZZ
@given(st.binary(max_size=2048))
def test_decoder_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    d = Decoder()
    out = d.feed(data)
    assert isinstance(out, list) and d.drops[Drop.DECODER_ERROR] == 0


@FUZZ
@given(
    st.sampled_from(_VALID),
    st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 4096),
)
def test_decoder_never_raises_on_mutated_valid_messages(
    base: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(base)
    for pos, value in flips:
        data[pos % len(data)] = value
    d = Decoder()
    d.feed(bytes(data[: max(1, len(data) - cut % len(data))]))
    d.feed(bytes(data))
    assert d.drops[Drop.DECODER_ERROR] == 0


@FUZZ
@given(st.lists(st.text(max_size=40), min_size=1, max_size=20), st.sampled_from(list(ProtoVer)))
def test_round_trip_any_texts(items: list[str], version: ProtoVer) -> None:
    cmds = [{"cmd": "DANMU_MSG", "info": [[], t, [1, "x"]]} for t in items]
    if version == ProtoVer.HEARTBEAT:
        raw = b"".join(encode_packet(c, Operation.SEND_MSG_REPLY, version) for c in cmds)
    else:
        raw = encode_commands(cmds, version)
    assert texts(Decoder().feed(raw)) == items
