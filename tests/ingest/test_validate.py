"""Untrusted JSON becomes clean records or a named reject — never an exception of another kind."""

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecs.ingest.settings import RecordLimits
from livecs.ingest.validate import Rejected, Validator, clean_text, parse_ts
from livecs.models import Comment, EventKind, LiveEvent, MemberTier

V = Validator(RecordLimits(max_text_chars=20))


def reason(obj: object, room: str | None = "r") -> str:
    with pytest.raises(Rejected) as exc:
        V.record(obj, room=room)
    return exc.value.reason


def test_aliases_and_types_are_normalised() -> None:
    c = V.record(
        {"msg_id": 42, "uid": 7, "content": 1111, "timestamp": 1_700_000_000_123, "member_tier": "vip"},
        room="r",
    )
    assert isinstance(c, Comment)
    assert (c.comment_id, c.user_id, c.text, c.ts, c.member_tier) == (
        "42",
        "7",
        "1111",
        1_700_000_000.123,
        MemberTier.VIP,
    )


def test_control_and_bidi_characters_are_removed() -> None:
    c = V.record({"id": "1", "text": "有\x00S码\u202e吗\r\n", "nickname": "a\x07b"}, room="r")
    assert c.text == "有S码吗" and c.nickname == "ab"


def test_long_text_is_capped_and_marked() -> None:
    c = V.record({"id": "1", "text": "啊" * 1000}, room="r")
    assert len(c.text) == 20 and c.truncated


def test_missing_id_gets_a_stable_hash() -> None:
    a = V.record({"text": "hi", "user_id": "u", "ts": 5}, room="r")
    b = V.record({"text": "hi", "user_id": "u", "ts": 5}, room="r")
    assert a.comment_id == b.comment_id and a.comment_id.startswith("h")


def test_events_keep_their_data() -> None:
    e = V.record(
        {"type": "order_paid", "id": "o1", "data": {"amount": 99, "sku": "A1"}, "quantity": 2}, room="r"
    )
    assert isinstance(e, LiveEvent) and e.kind is EventKind.ORDER_PAID
    assert e.data == {"amount": 99, "sku": "A1", "quantity": 2}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"user_id": "u"}, "missing_field"),
        ({"text": "   "}, "empty_text"),
        ({"text": "\x00\x01"}, "empty_text"),
        ({"text": "a", "ts": "yesterday"}, "invalid_field"),
        ({"text": "a", "ts": -5}, "invalid_field"),
        ({"text": "a", "fan_level": -1}, "invalid_field"),
        ({"text": ["a"]}, "invalid_field"),
        ({"text": "a", "type": "teleport"}, "unknown_type"),
        ({"text": "a", "type": 5}, "invalid_field"),
        ([1, 2], "not_an_object"),
        ("text", "not_an_object"),
    ],
)
def test_rejects_have_reasons(obj: object, expected: str) -> None:
    assert reason(obj) == expected


def test_room_is_required_somewhere() -> None:
    assert reason({"text": "a"}, room=None) == "missing_field"


def test_payload_decoding() -> None:
    assert V.decode_payload(b'{"text": "a"}') == [{"text": "a"}]
    assert len(V.decode_payload('[{"text": "a"}, {"text": "b"}]')) == 2
    for bad, why in [(b"\xff\xfe{}", "invalid_utf8"), (b"{nope", "malformed_json"), (b"", "malformed_json")]:
        with pytest.raises(Rejected) as exc:
            V.decode_payload(bad)
        assert exc.value.reason == why
    small = Validator(RecordLimits(max_payload_bytes=10, max_batch=2))
    with pytest.raises(Rejected, match="payload_too_large"):
        small.decode_payload(b"[" + b" " * 20 + b"]")
    with pytest.raises(Rejected, match="batch_too_large"):
        small.decode_payload(b"[1,2,3]")


def test_parse_ts_forms() -> None:
    assert parse_ts("2024-01-01T00:00:00Z") == 1704067200.0
    assert parse_ts("1700000000") == 1_700_000_000.0
    with pytest.raises(ValueError):
        parse_ts(True)


def test_parse_ts_reads_an_export_time_as_china_time() -> None:
    # the rooms file of the shared data (and platform exports) write minutes without an offset
    assert parse_ts("2025/4/10 20:18") == parse_ts("2025-04-10T12:18:00Z")
    assert parse_ts("2025-04-10 20:18:05") == parse_ts("2025-04-10T12:18:05Z")
    assert parse_ts("2025.4.10") == parse_ts("2025-04-09T16:00:00Z")
    assert parse_ts(" 2025/4/10 20:18 ") == parse_ts("2025-04-10T20:18:00+08:00")
    for bad in ("2025/13/40 20:18", "2025/4/10 25:99", "20:18", "2025/4"):
        with pytest.raises(ValueError):
            parse_ts(bad)


def test_clean_text_keeps_chinese_and_emoji() -> None:
    assert clean_text(" 冲冲冲🔥\t好看 ") == "冲冲冲🔥 好看"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_value_is_a_record_or_a_reject(value: object) -> None:
    try:
        V.record(value, room="r")
    except Rejected:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "text", "ts", "user_id", "type", "member_tier", "room", "nickname"]),
        json_values,
    )
)
def test_records_from_arbitrary_fields_never_crash(obj: dict[str, object]) -> None:
    try:
        rec = V.record(obj, room="r")
    except Rejected:
        return
    orjson.dumps(rec.to_dict())  # whatever was accepted can travel on the bus
