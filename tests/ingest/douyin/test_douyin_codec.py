"""The pure Douyin frame codec: round trips, bundles, compression, every malformed case a counted drop."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecs.ingest.douyin import webcast_pb2 as pb
from livecs.ingest.douyin.codec import (
    DROP_REASONS,
    PAYLOAD_ACK,
    PAYLOAD_HEARTBEAT,
    Batch,
    ClientFrame,
    Closing,
    Decoder,
    DecoderLimits,
    Drop,
    ServerHeartbeat,
    encode_ack,
    encode_batch,
    encode_frame,
    encode_heartbeat,
    encode_message,
    encode_response,
    gunzip,
    zlib_gzip,
)
from tests.ingest.douyin.dy_fixtures import chat, gift, like


def one(decoder: Decoder, data: bytes) -> Batch:
    [item] = decoder.feed(data)
    assert isinstance(item, Batch), item
    return item


def test_batch_round_trip_gzip_keeps_cursor_ack_and_messages() -> None:
    frame = encode_batch(
        [chat(1), gift(2), like(3)], log_id=77, cursor="cur-9", internal_ext="ext-9", need_ack=True
    )
    d = Decoder()
    b = one(d, frame)
    assert b.log_id == 77 and b.cursor == "cur-9" and b.internal_ext == "ext-9" and b.need_ack
    assert [m.method for m in b.messages] == [
        "WebcastChatMessage",
        "WebcastGiftMessage",
        "WebcastLikeMessage",
    ]
    assert [m.msg_id for m in b.messages] == [10_001, 20_002, 30_003]
    assert pb.ChatMessage.FromString(b.messages[0].payload).content == "弹幕1"
    assert d.messages == 3 and d.decompressed_bytes > 0 and not d.drops


def test_plain_payload_and_cursor_from_headers() -> None:
    response = encode_response([chat(1)])
    frame = encode_frame(response, encoding="", headers={"im-cursor": "h-cur", "im-internal_ext": "h-ext"})
    b = one(Decoder(), frame)
    assert b.cursor == "h-cur" and b.internal_ext == "h-ext" and len(b.messages) == 1


def test_bundle_of_many_messages() -> None:
    msgs = [chat(i) for i in range(2000)]
    b = one(Decoder(), encode_batch(msgs))
    assert len(b.messages) == 2000
    assert pb.ChatMessage.FromString(b.messages[-1].payload).content == "弹幕1999"


def test_too_many_messages_keeps_the_first_and_counts() -> None:
    d = Decoder(DecoderLimits(max_messages=10))
    b = one(d, encode_batch([chat(i) for i in range(25)]))
    assert len(b.messages) == 10
    assert d.drops == {"too_many_messages": 1}


def test_heartbeat_ack_close_frames() -> None:
    client = Decoder()
    server = Decoder(server_side=True)
    assert server.feed(encode_heartbeat()) == [ClientFrame(PAYLOAD_HEARTBEAT, 0, b"")]
    assert server.feed(encode_ack(42, "ext")) == [ClientFrame(PAYLOAD_ACK, 42, b"ext")]
    assert client.feed(encode_frame(b"", payload_type="hb", encoding="", log_id=5)) == [ServerHeartbeat(5)]
    assert client.feed(encode_frame(b"", payload_type="close", encoding="", log_id=6)) == [Closing(6)]
    ack = pb.PushFrame.FromString(encode_ack(42, "ext"))
    assert ack.payload_type == "ack" and ack.log_id == 42 and ack.payload == b"ext"


def test_gunzip_is_bounded() -> None:
    data = zlib_gzip(b"a" * 10_000)
    assert gunzip(data, 10_000) == b"a" * 10_000
    with pytest.raises(Exception):  # noqa: B017 - _Bomb is private
        gunzip(data, 9_999)


MALFORMED: list[tuple[str, bytes, str]] = [
    ("truncated varint", b"\x10\xff\xff", "bad_frame"),
    ("lying length", b"\x42\x40abc", "bad_frame"),
    ("bad tag (field 0)", b"\x00\x01", "bad_frame"),
    ("end group without start", b"\x0c", "bad_frame"),
    ("wrong wire type of log_id", b"\x12\x01a", "wrong_wire_type"),
    ("wrong wire type of payload", b"\x40\x05", "wrong_wire_type"),
    ("unknown payload type", pb.PushFrame(payload_type="zzz").SerializeToString(), "unknown_payload_type"),
    ("msg without payload", pb.PushFrame(payload_type="msg").SerializeToString(), "empty_payload"),
    (
        "unknown encoding",
        pb.PushFrame(payload_type="msg", payload_encoding="br", payload=b"x").SerializeToString(),
        "unknown_encoding",
    ),
    (
        "not gzip",
        pb.PushFrame(payload_type="msg", payload_encoding="gzip", payload=b"notgzip").SerializeToString(),
        "decompress_error",
    ),
    (
        "truncated gzip",
        pb.PushFrame(
            payload_type="msg", payload_encoding="gzip", payload=zlib_gzip(b"x" * 100)[:-6]
        ).SerializeToString(),
        "decompress_error",
    ),
    (
        "response is not protobuf",
        encode_frame(b"\x0a\xff\xff\xff\x0f", encoding="gzip"),
        "bad_response",
    ),
    ("hand-encoded valid response", encode_frame(b"\x18\x01\x48\x01\x12\x01c", encoding=""), "ok"),
    ("response cursor as varint", encode_frame(b"\x10\x07", encoding=""), "wrong_wire_type"),
    (
        "message without method",
        encode_frame(encode_response([pb.Message(payload=b"x")]), encoding=""),
        "bad_message",
    ),
]


@pytest.mark.parametrize(("name", "data", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_is_a_counted_drop(name: str, data: bytes, reason: str) -> None:
    d = Decoder()
    out = d.feed(data)
    if reason == "ok":  # fetch_interval=1, need_ack, cursor "c": a valid Response
        assert isinstance(out[0], Batch) and out[0].need_ack and out[0].cursor == "c"
        return
    assert reason in DROP_REASONS
    assert d.drops == {reason: 1}, (name, d.drops, d.last_drop)
    assert d.last_drop.startswith(reason)
    assert not any(isinstance(x, Batch) and x.messages for x in out)


def test_gzip_bomb_is_dropped_with_bounded_memory() -> None:
    bomb = zlib_gzip(b"\0" * (64 * 1024 * 1024), level=9)  # 64 MiB of zeros in ~64 KiB
    frame = pb.PushFrame(payload_type="msg", payload_encoding="gzip", payload=bomb).SerializeToString()
    d = Decoder(DecoderLimits(max_decompressed_bytes=1024 * 1024))
    assert d.feed(frame) == []
    assert d.drops == {Drop.DECOMPRESSED_TOO_LARGE.value: 1}


def test_oversized_frame() -> None:
    d = Decoder(DecoderLimits(max_frame_bytes=100))
    assert d.feed(encode_batch([chat(i) for i in range(50)], encoding="")) == []
    assert d.drops == {"oversized": 1}


def test_huge_repeated_field_is_bounded_by_the_frame_limit() -> None:
    """A Response claiming millions of messages: over the decompressed bound, or cut at max_messages."""
    msg = encode_message("WebcastChatMessage", b"", 1).SerializeToString()
    many = b"".join(b"\x0a" + bytes([len(msg)]) + msg for _ in range(200_000))
    d = Decoder(DecoderLimits(max_decompressed_bytes=1024 * 1024))
    assert d.feed(encode_frame(many)) == []
    assert d.drops == {"decompressed_too_large": 1}
    d2 = Decoder(DecoderLimits(max_messages=100))
    [b] = d2.feed(encode_frame(many))
    assert isinstance(b, Batch) and len(b.messages) == 100 and d2.drops == {"too_many_messages": 1}


def test_decoder_goes_on_after_drops() -> None:
    d = Decoder()
    assert d.feed(b"\x42\x40abc") == []
    assert len(one(d, encode_batch([chat(1)])).messages) == 1
    assert d.frames == 2 and d.dropped == 1


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_fuzz_random_bytes_never_raise(data: bytes) -> None:
    d = Decoder()
    out = d.feed(data)
    assert isinstance(out, list)
    assert d.drops.get("decoder_error", 0) == 0
    assert set(d.drops) <= set(DROP_REASONS)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=1, max_value=30), st.data())
def test_fuzz_mutated_frames_never_raise(n: int, data: st.DataObject) -> None:
    frame = bytearray(
        encode_batch(
            [chat(i) for i in range(n)], need_ack=True, encoding=data.draw(st.sampled_from(["gzip", ""]))
        )
    )
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        pos = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
        frame[pos] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=0, max_value=len(frame)))
    d = Decoder()
    for chunk in (bytes(frame), bytes(frame[:cut])):
        out = d.feed(chunk)
        assert all(isinstance(x, (Batch, ServerHeartbeat, Closing, ClientFrame)) for x in out)
    assert d.drops.get("decoder_error", 0) == 0


def test_gzip_container_is_deterministic() -> None:
    assert zlib_gzip(b"abc") == zlib_gzip(b"abc")
    assert zlib.decompress(zlib_gzip(b"abc"), 31) == b"abc"
