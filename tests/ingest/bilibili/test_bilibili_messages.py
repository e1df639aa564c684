"""Bilibili commands → Comment / LiveEvent: fields, tier mapping, ids, and defensive reading."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecs.ingest.bilibili.messages import CommandParser, as_int, at, member_tier
from livecs.models import Comment, EventKind, LiveEvent, MemberTier
from tests.ingest.bilibili.bili_fixtures import (
    OTHER_ROOM_ID,
    ROOM_ID,
    TS_MS,
    danmu,
    guard_buy,
    interact,
    like,
    send_gift,
    super_chat,
    watched,
)

NOW = 1_800_000_000.0


def parser() -> CommandParser:
    return CommandParser(str(ROOM_ID))


def one(records: list[Any]) -> Any:
    assert len(records) == 1, records
    return records[0]


def test_danmu_fields() -> None:
    c = one(parser().parse(danmu(3, "有S码吗", medal=(12, ROOM_ID)), NOW))
    assert isinstance(c, Comment)
    assert (c.platform, c.room, c.user_id, c.nickname, c.text) == (
        "bilibili",
        "12345",
        "1003",
        "观众3",
        "有S码吗",
    )
    assert c.ts == pytest.approx((TS_MS + 30) / 1000)
    assert c.comment_id == "bili-6fa9959ab8feabcd1b337aa5066768300003"
    assert (c.member_tier, c.fan_level) == (MemberTier.MEMBER, 12)
    assert c.extras["medal"] == {"level": 12, "name": "勋章", "room_id": ROOM_ID}
    assert c.extras["user_level"] == 21


def test_danmu_suffixed_cmd_sticker_and_emots() -> None:
    cmd = danmu(1, "妙啊", dm_type=1, emots={"[dog]": {"url": "x"}, "[妙]": {}})
    cmd["cmd"] = "DANMU_MSG:4:0:2:2:2:0"
    c = one(parser().parse(cmd, NOW))
    assert c.extras["sticker"] == "official_13" and c.extras["emots"] == ["[dog]", "[妙]"]


@pytest.mark.parametrize(
    ("guard", "medal", "tier", "fan_level"),
    [
        (1, None, MemberTier.SVIP, 0),  # 总督
        (2, (5, ROOM_ID), MemberTier.SVIP, 5),  # 提督
        (3, None, MemberTier.VIP, 0),  # 舰长
        (0, (25, ROOM_ID), MemberTier.MEMBER, 25),
        (0, (10, ROOM_ID), MemberTier.MEMBER, 10),
        (0, (9, ROOM_ID), MemberTier.FAN, 9),
        (0, (1, ROOM_ID), MemberTier.FAN, 1),
        (0, (20, OTHER_ROOM_ID), MemberTier.NONE, 0),  # another room's medal does not count
        (0, None, MemberTier.NONE, 0),
    ],
)
def test_tier_mapping(guard: int, medal: tuple[int, int] | None, tier: MemberTier, fan_level: int) -> None:
    c = one(parser().parse(danmu(1, guard=guard, medal=medal), NOW))
    assert (c.member_tier, c.fan_level) == (tier, fan_level)


def test_member_tier_threshold_is_configurable() -> None:
    assert member_tier(0, 5, member_medal_level=5) is MemberTier.MEMBER
    p = CommandParser("r", room_id=ROOM_ID, member_medal_level=30)
    assert one(p.parse(danmu(1, medal=(25, ROOM_ID)), NOW)).member_tier is MemberTier.FAN


def test_danmu_id_falls_back_to_a_stable_hash() -> None:
    p = parser()
    a = one(p.parse(danmu(1, id_str=None), NOW))
    b = one(p.parse(danmu(1, id_str=None), NOW + 5))
    c = one(p.parse(danmu(2, id_str=None), NOW))
    assert a.comment_id == b.comment_id != c.comment_id and a.comment_id.startswith("bili-h-")


def test_minimal_old_style_danmu() -> None:
    c = one(parser().parse({"cmd": "DANMU_MSG", "info": [[], "你好", [66, "弹幕君"]]}, NOW))
    assert (c.text, c.user_id, c.nickname, c.ts, c.member_tier) == (
        "你好",
        "66",
        "弹幕君",
        NOW,
        MemberTier.NONE,
    )


def test_gift() -> None:
    e = one(parser().parse(send_gift(guard=0, medal_level=5), NOW))
    assert isinstance(e, LiveEvent) and e.kind is EventKind.GIFT
    assert e.event_id == "bili-gift-1700000000123400001" and e.ts == 1_700_000_100
    assert (e.user_id, e.nickname, e.member_tier) == ("2001", "送礼的人", MemberTier.FAN)
    assert e.data["gift_name"] == "小花花" and e.data["count"] == 3 and e.data["value"] == pytest.approx(0.3)
    assert one(parser().parse(send_gift(guard=3), NOW)).member_tier is MemberTier.VIP


def test_super_chat_is_an_event_and_a_comment() -> None:
    ev, c = parser().parse(super_chat(), NOW)
    assert isinstance(ev, LiveEvent) and ev.kind is EventKind.SUPER_CHAT
    assert (
        ev.data["price"] == 30
        and ev.data["message"] == "主播这款有S码吗？"
        and ev.member_tier is MemberTier.VIP
    )
    assert isinstance(c, Comment) and c.text == "主播这款有S码吗？" and c.extras["super_chat"] is True
    assert c.comment_id == ev.event_id == "bili-sc-7788" and c.fan_level == 21 and c.ts == 1_700_000_200


def test_guard_buy() -> None:
    e = one(parser().parse(guard_buy(3), NOW))
    assert e.kind is EventKind.MEMBERSHIP and e.member_tier is MemberTier.VIP
    assert e.data["guard_name"] == "舰长" and e.data["value"] == pytest.approx(198.0)
    assert one(parser().parse(guard_buy(1), NOW)).member_tier is MemberTier.SVIP
    assert one(parser().parse(guard_buy(3), NOW)).event_id == e.event_id


@pytest.mark.parametrize(
    ("msg_type", "kind"),
    [(1, EventKind.ENTER), (2, EventKind.FOLLOW), (4, EventKind.FOLLOW), (5, EventKind.FOLLOW)],
)
def test_interact_word(msg_type: int, kind: EventKind) -> None:
    e = one(parser().parse(interact(msg_type), NOW))
    assert e.kind is kind and e.nickname == "路过的人" and e.ts == 1_700_000_400
    assert e.member_tier is MemberTier.NONE  # the medal is another room's
    assert e.data["medal"]["room_id"] == OTHER_ROOM_ID


def test_interact_share_is_skipped_and_counted() -> None:
    p = parser()
    assert p.parse(interact(3), NOW) == [] and p.skipped == {"INTERACT_WORD:3": 1}


def test_like_and_watched() -> None:
    p = parser()
    e = one(p.parse(like(), NOW))
    assert e.kind is EventKind.LIKE and e.data["count"] == 1 and e.member_tier is MemberTier.FAN
    assert one(p.parse(like(), NOW + 0.2)).event_id == e.event_id  # same click window: a redelivery
    v = one(p.parse(watched(17903), NOW))
    assert v.kind is EventKind.VIEWERS and v.data["watched"] == 17903 and v.ts == NOW


def test_unknown_commands_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    p = parser()
    with caplog.at_level(logging.INFO, logger="livecs.ingest.bilibili"):
        for _ in range(5):
            assert p.parse({"cmd": "ONLINE_RANK_COUNT", "data": {"count": 3}}, NOW) == []
        assert p.parse({"cmd": "STOP_LIVE_ROOM_LIST"}, NOW) == []
    assert p.unknown == {"ONLINE_RANK_COUNT": 5, "STOP_LIVE_ROOM_LIST": 1}
    assert sum("ONLINE_RANK_COUNT" in r.message for r in caplog.records) == 1


@pytest.mark.parametrize(
    "cmd",
    [
        {"cmd": "DANMU_MSG"},
        {"cmd": "DANMU_MSG", "info": "x"},
        {"cmd": "DANMU_MSG", "info": [[], None, None]},
        {"cmd": "DANMU_MSG", "info": [[], ""]},
        {"cmd": "WATCHED_CHANGE", "data": "nope"},
    ],
)
def test_malformed_commands_are_counted(cmd: dict[str, Any]) -> None:
    p = parser()
    assert p.parse(cmd, NOW) == [] and sum(p.malformed.values()) == 1


def test_defensive_readers() -> None:
    assert at([[1, {"a": [5]}]], 0, 1, "a", 0) == 5
    assert at([1], 3) is None and at({"a": 1}, 0) is None and at(None, "x") is None
    assert as_int("42") == 42 and as_int(True) == 0 and as_int(float("nan")) == 0 and as_int(None, 7) == 7


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(CommandParser("r").handled)),
    st.dictionaries(st.sampled_from(["info", "data", "x"]), _json, max_size=3),
)
def test_parser_never_raises_on_odd_shapes(cmd: str, body: dict[str, Any]) -> None:
    p = parser()
    records = p.parse({"cmd": cmd, **body}, NOW)
    assert isinstance(records, list)
    for r in records:
        r.to_dict()  # every record is serialisable for the bus


def test_each_danmu_slot_missing_still_reads() -> None:
    p = parser()
    for i in range(len(danmu(1)["info"])):
        cmd = danmu(1)
        cmd["info"][i] = None
        records = p.parse(cmd, NOW)
        assert len(records) == (0 if i == 1 else 1), i  # only the text is required
    assert p.malformed == {"DANMU_MSG": 1}
