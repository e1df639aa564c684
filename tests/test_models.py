"""Records survive the bus envelope and keep their enums."""

from livecs.models import (
    ActionKind,
    Comment,
    Emotion,
    EventKind,
    Intent,
    LiveEvent,
    MemberTier,
    OperatorAction,
    Priority,
    Result,
    Sentiment,
    Suggestion,
    Triage,
    decode_record,
    encode_record,
)


def test_round_trip_every_record_type() -> None:
    recs = [
        Comment("c1", "douyin", "r", "u", "昵称", "有S码吗", 1.5, MemberTier.VIP, 7, extras={"a": 1}),
        LiveEvent("e1", "douyin", "r", EventKind.ORDER_PAID, 2.0, "u", data={"order_id": "o", "amount": 9.9}),
        Triage("c1", "r", "有s码吗", Intent.PRODUCT, 0.9, Sentiment.NEU, 0.5, Emotion.NONE, reasons=["x"]),
        Suggestion("s1", "r", "c1", Priority.P2, "有的亲", why=["kw:S码"]),
        OperatorAction("a1", "r", "op1", ActionKind.SEND, "s1", text="有的"),
        Result(
            Comment("c2", "douyin", "r", "u", "昵称", "多少钱", 3.0, MemberTier.FAN),
            Triage("c2", "r", "多少钱", Intent.PRICE_PROMO, 0.8, Sentiment.NEU, 0.5, priority=Priority.P1),
            [Suggestion("s2", "r", "c2", Priority.P1, "129元", score=0.7)],
        ),
        Result(Comment("c3", "douyin", "r", "u", "n", "boom", 4.0)),  # processing failed: no triage
    ]
    for rec in recs:
        back = decode_record(encode_record(rec))
        assert back == rec
        assert type(back) is type(rec)


def test_priority_rank_orders_urgent_first() -> None:
    ordered = sorted([Priority.P3, Priority.MOD, Priority.P0, Priority.P2, Priority.P1], key=lambda p: p.rank)
    assert ordered == [Priority.P0, Priority.P1, Priority.MOD, Priority.P2, Priority.P3]


def test_a_result_with_a_bad_part_is_refused_not_half_decoded() -> None:
    env = encode_record(Result(Comment("c1", "p", "r", "u", "n", "t", 1.0)))
    env["d"]["suggestions"] = "not a list"
    try:
        decode_record(env)
    except (KeyError, ValueError, TypeError):
        pass
    else:
        raise AssertionError("a malformed result was decoded")
