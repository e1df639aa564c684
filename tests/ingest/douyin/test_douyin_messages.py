"""Douyin webcast messages → Comment / LiveEvent: every handled kind, tiers, ids, counted bad input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livecs.ingest.douyin import webcast_pb2 as pb
from livecs.ingest.douyin.messages import (
    CHAT,
    CONTROL,
    GIFT,
    SOCIAL,
    MessageParser,
    member_tier,
)
from livecs.models import Comment, EventKind, LiveEvent, MemberTier
from tests.ingest.douyin.dy_fixtures import (
    ANCHOR_ID,
    OTHER_ANCHOR_ID,
    TS_MS,
    chat,
    control,
    enter,
    fansclub,
    gift,
    like,
    social,
    unknown,
    viewers,
)

NOW = 1_800_000_000.0


def parse(p: MessageParser, m: pb.Message) -> list[Comment | LiveEvent]:
    return p.parse(m.method, m.payload, m.msg_id, now=NOW)


def parser() -> MessageParser:
    return MessageParser("dyroom", anchor_id=ANCHOR_ID)


def test_chat_becomes_a_comment() -> None:
    [c] = parse(parser(), chat(3, "这个多少钱"))
    assert isinstance(c, Comment)
    assert c.comment_id == "dy-10003" and c.platform == "douyin" and c.room == "dyroom"
    assert c.user_id == "1003" and c.nickname == "抖友3" and c.text == "这个多少钱"
    assert c.ts == (TS_MS + 10_003) / 1000 and c.member_tier is MemberTier.NONE


def test_tiers_from_pay_grade_and_own_fan_club() -> None:
    p = parser()
    [svip] = parse(p, chat(1, pay_grade=55))
    [vip] = parse(p, chat(2, pay_grade=31, club_level=3))
    [member] = parse(p, chat(3, club_level=12))
    [fan] = parse(p, chat(4, club_level=2))
    [other] = parse(p, chat(5, club_level=15, club_anchor=OTHER_ANCHOR_ID))
    assert [c.member_tier for c in (svip, vip, member, fan, other)] == [
        MemberTier.SVIP,
        MemberTier.VIP,
        MemberTier.MEMBER,
        MemberTier.FAN,
        MemberTier.NONE,
    ]
    assert member.fan_level == 12 and other.fan_level == 0
    assert svip.extras == {"pay_grade": 55} and fan.extras["fansclub"] == {"level": 2, "name": "小店团"}
    assert member_tier(0, 0) is MemberTier.NONE


def test_gift_like_enter_follow_viewers_fansclub() -> None:
    p = parser()
    [g] = parse(p, gift(1, name="玫瑰", diamonds=1, repeat=9))
    assert isinstance(g, LiveEvent) and g.kind is EventKind.GIFT and g.event_id == "dy-gift-20001"
    assert g.data["gift_name"] == "玫瑰" and g.data["count"] == 9 and g.data["diamonds"] == 9
    assert g.data["value"] == 0.9 and g.member_tier is MemberTier.VIP
    [lk] = parse(p, like(2, count=7))
    assert lk.kind is EventKind.LIKE and lk.data["count"] == 7 and lk.data["total"] == 1002  # type: ignore[union-attr]
    [e] = parse(p, enter(3))
    assert e.kind is EventKind.ENTER and e.data["viewers"] == 503  # type: ignore[union-attr]
    [f] = parse(p, social(4))
    assert f.kind is EventKind.FOLLOW and f.user_id == "1004"  # type: ignore[union-attr]
    [v] = parse(p, viewers(5, online=88, watched=999))
    assert v.kind is EventKind.VIEWERS and v.data["online"] == 88 and v.data["watched"] == 999  # type: ignore[union-attr]
    [fc] = parse(p, fansclub(6))
    assert fc.kind is EventKind.MEMBERSHIP and fc.data["fansclub"] == "join"  # type: ignore[union-attr]
    assert sum(p.parsed.values()) == 6 and not p.malformed


def test_combo_gift_only_its_last_push_counts() -> None:
    p = parser()
    running = [gift(1, repeat=k, combo=True, end=0) for k in (1, 2, 3)]
    assert all(parse(p, m) == [] for m in running)
    [done] = parse(p, gift(1, repeat=3, combo=True, end=1))
    assert done.data["count"] == 3  # type: ignore[union-attr]
    assert p.skipped == {f"{GIFT}:combo_running": 3}


def test_share_skipped_control_ends_the_live() -> None:
    p = parser()
    assert parse(p, social(1, action=3)) == []
    assert p.skipped == {f"{SOCIAL}:share": 1}
    assert parse(p, control(1)) == [] and not p.ended
    assert parse(p, control(3)) == [] and p.ended
    assert p.skipped[f"{CONTROL}:1"] == 1


def test_unknown_counted_malformed_counted() -> None:
    p = parser()
    assert parse(p, unknown(1)) == [] and parse(p, unknown(2)) == []
    assert p.unknown == {"WebcastInRoomBannerMessage": 2}
    assert p.parse(CHAT, b"\x1a\xff\xff", 1, now=NOW) == []  # lying length
    assert p.parse(CHAT, b"\x12\x03\x08\x80", 1, now=NOW) == []  # user with a truncated varint
    assert p.parse(CHAT, pb.ChatMessage().SerializeToString(), 1, now=NOW) == []  # no text
    assert p.parse(GIFT, b"\x10", 1, now=NOW) == []
    assert p.malformed == {CHAT: 3, GIFT: 1}


def test_ids_without_msg_id_are_stable() -> None:
    m = pb.ChatMessage(user=pb.User(id=5), content="hi").SerializeToString()
    a = parser().parse(CHAT, m, 0, now=NOW)
    b = parser().parse(CHAT, m, 0, now=NOW + 5)
    assert a[0].comment_id == b[0].comment_id and a[0].comment_id.startswith("dy-h-")  # type: ignore[union-attr]
    assert a[0].ts == NOW


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(parser().handled)), st.binary(max_size=200))
def test_fuzz_payloads_never_raise(method: str, payload: bytes) -> None:
    p = parser()
    out = p.parse(method, payload, 1, now=NOW)
    assert isinstance(out, list)
