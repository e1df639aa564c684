"""Frames → records through the shared pump: drops reported once each, mutated frames never raise."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecs.ingest.douyin import webcast_pb2 as pb
from livecs.ingest.douyin.codec import encode_batch
from livecs.ingest.douyin.messages import CHAT, MessageParser
from livecs.ingest.douyin.pump import MALFORMED_MESSAGE, UNKNOWN_METHOD, FramePump
from tests.ingest.douyin.dy_fixtures import chat, control, gift, unknown


def test_records_batches_drops_and_end(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="livecs.ingest.douyin")
    pump = FramePump(MessageParser("r"))
    bad_chat = pb.Message(method=CHAT, payload=b"\x1a\xff", msg_id=1)
    out = pump.feed(encode_batch([chat(1), gift(2), unknown(1), unknown(2), bad_chat], need_ack=True), 10.0)
    assert len(out.records) == 2 and len(out.batches) == 1 and out.batches[0].need_ack
    assert out.drops == [(MALFORMED_MESSAGE, f"{CHAT} 1")]
    assert pump.health.drops == {MALFORMED_MESSAGE: 1, UNKNOWN_METHOD: 2}
    assert caplog.text.count("WebcastInRoomBannerMessage") == 1  # logged once
    out = pump.feed(b"\x0a\xff", 11.0)
    assert [r for r, _ in out.drops] == ["bad_frame"] and not out.records
    out = pump.feed(encode_batch([control(3)]), 12.0)
    assert out.ended and pump.health.ended and pump.health.frames == 3
    empty = pump.feed(b"", 13.0)  # an empty message parses as an empty PushFrame: no payload type
    assert [r for r, _ in empty.drops] == ["unknown_payload_type"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_messages_inside_valid_frames(data: st.DataObject) -> None:
    msgs = [chat(1), gift(2), control(1)]
    for m in msgs:
        raw = bytearray(m.payload)
        for _ in range(data.draw(st.integers(0, 4))):
            if raw:
                raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        m.payload = bytes(raw[: data.draw(st.integers(0, len(raw)))])
    pump = FramePump(MessageParser("r"))
    out = pump.feed(encode_batch(msgs), 1.0)
    assert len(out.records) <= 2  # the chat and the gift at most; the control message makes none
    assert pump.decoder.drops.get("decoder_error", 0) == 0
