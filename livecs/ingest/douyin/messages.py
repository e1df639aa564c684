"""Douyin webcast messages (method + protobuf payload) → livecs :class:`Comment` and :class:`LiveEvent`. Pure.

Handled methods (layouts in ``webcast.proto``):

============================ =============================================================================
``WebcastChatMessage``       a :class:`Comment`: ``content``, the sender, ``common.create_time`` (ms) or
                             ``event_time`` (s)
``WebcastGiftMessage``       a ``gift`` event: ``gift.name``, count, ``gift.diamond_count`` (1 钻 = 0.1 元).
                             A combo gift is pushed again and again while the combo runs (``repeat_count``
                             growing); only its last push (``repeat_end`` 1) becomes an event, the others are
                             counted ``skipped`` — so a combo is one gift of its final count, never summed
                             twice
``WebcastLikeMessage``       a ``like`` event (``count`` of this push, ``total`` of the room)
``WebcastMemberMessage``     an ``enter`` event (``member_count``: viewers now)
``WebcastSocialMessage``     ``action`` 1 a ``follow`` event; a share (3) is counted ``skipped``
``WebcastRoomUserSeqMessage`` a ``viewers`` event: ``online`` (now) and ``watched`` (so far)
``WebcastFansclubMessage``   a ``membership`` event (``fansclub`` ``join`` (type 2) or ``upgrade`` (1))
``WebcastControlMessage``    ``status`` 3: the live ended (:attr:`MessageParser.ended`; no record)
============================ =============================================================================

Every payload is parsed by the generated protobuf code; a payload that does not parse, or a chat without
text, is counted in :attr:`MessageParser.malformed` (by method); any other method is counted in
:attr:`MessageParser.unknown` and logged once per method. Nothing here raises on bad input.

**Member tier** (:class:`MemberTier`) from the viewer's standing: pay grade (财富等级) ≥ ``svip_grade`` →
``SVIP``, ≥ ``vip_grade`` → ``VIP``; otherwise this anchor's fan club (粉丝团): level ≥ ``member_club_level``
→ ``MEMBER``, any level ≥ 1 → ``FAN``; else ``NONE``. A fan club of another anchor (its ``anchor_id``
differs from the room's anchor when both are known) does not count. ``fan_level`` is the fan-club level.

**Ids** (for redelivery dedup in the sink, so a batch pushed again after a reconnect is recorded once):
``dy-<common.msg_id>`` (the server's message id, else the Message's ``msg_id``); without one, a stable
hash of the identifying fields.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage

from livecs.ingest.douyin import webcast_pb2 as pb
from livecs.ingest.message_parser import PlatformParser, Record, stable_id
from livecs.models import EventKind, LiveEvent, MemberTier

log = logging.getLogger("livecs.ingest.douyin")

PLATFORM: Final = "douyin"
CHAT: Final = "WebcastChatMessage"
GIFT: Final = "WebcastGiftMessage"
LIKE: Final = "WebcastLikeMessage"
MEMBER: Final = "WebcastMemberMessage"
SOCIAL: Final = "WebcastSocialMessage"
ROOM_USER_SEQ: Final = "WebcastRoomUserSeqMessage"
FANSCLUB: Final = "WebcastFansclubMessage"
CONTROL: Final = "WebcastControlMessage"
#: default tier thresholds (see the module docstring)
SVIP_GRADE: Final = 50
VIP_GRADE: Final = 30
MEMBER_CLUB_LEVEL: Final = 10
#: diamonds (抖币) per yuan
DIAMONDS_PER_YUAN: Final = 10
SOCIAL_FOLLOW: Final = 1
SOCIAL_SHARE: Final = 3
FANSCLUB_UPGRADE: Final = 1
FANSCLUB_JOIN: Final = 2
CONTROL_LIVE_ENDED: Final = 3
#: create_time values above this are milliseconds
MS_THRESHOLD: Final = 10**11
#: likes carry no id of their own when common.msg_id is missing: one bucket per viewer and second
LIKE_BUCKET_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class Standing:
    tier: MemberTier
    fan_level: int
    pay_grade: int
    club_name: str


def member_tier(
    pay_grade: int,
    club_level: int,
    *,
    svip_grade: int = SVIP_GRADE,
    vip_grade: int = VIP_GRADE,
    member_club_level: int = MEMBER_CLUB_LEVEL,
) -> MemberTier:
    """The tier mapping (see the module docstring); ``club_level`` is this anchor's fan club (0 = none)."""
    if pay_grade >= svip_grade:
        return MemberTier.SVIP
    if pay_grade >= vip_grade:
        return MemberTier.VIP
    if club_level >= member_club_level:
        return MemberTier.MEMBER
    if club_level >= 1:
        return MemberTier.FAN
    return MemberTier.NONE


def _ts(create_ms: int, fallback_s: int, now: float) -> float:
    if create_ms > 0:
        return create_ms / 1000.0 if create_ms >= MS_THRESHOLD else float(create_ms)
    if fallback_s > 0:
        return fallback_s / 1000.0 if fallback_s >= MS_THRESHOLD else float(fallback_s)
    return now


def user_id(user: pb.User) -> str:
    return user.id_str or (str(user.id) if user.id else "") or user.sec_uid


class MessageParser(PlatformParser[Standing]):
    """Messages of one room → records. Counters: :attr:`parsed`, :attr:`unknown`, :attr:`malformed`,
    :attr:`skipped` (by method); :attr:`ended` once the live-ended control message arrived."""

    label = "douyin"
    name_kind = "method"
    logger = log

    def __init__(
        self,
        room: str,
        *,
        anchor_id: int = 0,
        svip_grade: int = SVIP_GRADE,
        vip_grade: int = VIP_GRADE,
        member_club_level: int = MEMBER_CLUB_LEVEL,
        platform: str = PLATFORM,
    ) -> None:
        super().__init__(room, platform)
        self.anchor_id = anchor_id
        self.svip_grade = svip_grade
        self.vip_grade = vip_grade
        self.member_club_level = member_club_level
        self.ended = False
        self._handlers: dict[str, tuple[type[ProtoMessage], Callable[[Any, int, float], list[Record]]]] = {
            CHAT: (pb.ChatMessage, self._chat),
            GIFT: (pb.GiftMessage, self._gift),
            LIKE: (pb.LikeMessage, self._like),
            MEMBER: (pb.MemberMessage, self._member),
            SOCIAL: (pb.SocialMessage, self._social),
            ROOM_USER_SEQ: (pb.RoomUserSeqMessage, self._room_user_seq),
            FANSCLUB: (pb.FansclubMessage, self._fansclub),
            CONTROL: (pb.ControlMessage, self._control),
        }

    def parse(self, method: str, payload: bytes, msg_id: int = 0, now: float | None = None) -> list[Record]:
        """Records for one message (``[]`` for unknown, skipped or malformed ones). Never raises."""
        now = time.time() if now is None else now
        entry = self._handlers.get(method)
        if entry is None:
            return self.not_handled(method)
        message_type, handler = entry

        def read() -> list[Record]:
            message = message_type()
            message.ParseFromString(payload)
            return handler(message, msg_id, now)

        return self.guarded(method, read, quiet=(DecodeError,))

    # -- standing -----------------------------------------------------------------------------------------
    def standing(self, user: pb.User) -> Standing:
        club = user.fans_club.data
        own = club.level > 0 and (
            not club.anchor_id or not self.anchor_id or club.anchor_id == self.anchor_id
        )
        level = int(club.level) if own else 0
        grade = int(user.pay_grade.level)
        tier = member_tier(
            grade,
            level,
            svip_grade=self.svip_grade,
            vip_grade=self.vip_grade,
            member_club_level=self.member_club_level,
        )
        return Standing(tier, level, grade, club.club_name if own else "")

    def standing_extras(self, s: Standing) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if s.pay_grade:
            out["pay_grade"] = s.pay_grade
        if s.fan_level:
            out["fansclub"] = {"level": s.fan_level, "name": s.club_name}
        return out

    @staticmethod
    def _msg_id(common: pb.Common, msg_id: int) -> int:
        return int(common.msg_id) or max(int(msg_id), 0)

    def _event(
        self,
        event_id: str,
        kind: EventKind,
        ts: float,
        user: pb.User | None,
        data: dict[str, Any],
    ) -> LiveEvent:
        if user is None:
            return self.event(event_id, kind, ts, user_id="", nickname="", standing=None, data=data)
        return self.event(
            event_id,
            kind,
            ts,
            user_id=user_id(user),
            nickname=user.nickname,
            standing=self.standing(user),
            data=data,
        )

    # -- handlers -----------------------------------------------------------------------------------------
    def _chat(self, m: pb.ChatMessage, msg_id: int, now: float) -> list[Record]:
        if not m.content:
            self.malformed[CHAT] += 1
            return []
        ts = _ts(m.common.create_time, m.event_time, now)
        uid = user_id(m.user)
        mid = self._msg_id(m.common, msg_id)
        comment_id = f"dy-{mid}" if mid else stable_id("dy-h", uid, m.common.create_time, m.content)
        standing = self.standing(m.user)
        return [
            self.comment(
                comment_id,
                user_id=uid,
                nickname=m.user.nickname,
                text=m.content,
                ts=ts,
                standing=standing,
                extras=self.standing_extras(standing),
            )
        ]

    def _gift(self, m: pb.GiftMessage, msg_id: int, now: float) -> list[Record]:
        if m.gift.combo and not m.repeat_end:
            self.skipped[f"{GIFT}:combo_running"] += 1
            return []
        count = int(m.repeat_count or m.combo_count or m.group_count or 1)
        diamonds = int(m.gift.diamond_count) * count
        ts = _ts(m.common.create_time, m.send_time, now)
        mid = self._msg_id(m.common, msg_id)
        uid = user_id(m.user)
        gift_id = int(m.gift_id or m.gift.id)
        if mid:
            event_id = f"dy-gift-{mid}"
        else:
            event_id = stable_id("dy-gift", uid, gift_id, m.group_id, m.trace_id or m.log_id, count)
        data: dict[str, Any] = {
            "gift_name": m.gift.name,
            "gift_id": gift_id,
            "count": count,
            "diamonds": diamonds,
            "value": round(diamonds / DIAMONDS_PER_YUAN, 2),
        }
        if m.HasField("to_user") and m.to_user.id:
            data["to_user"] = m.to_user.nickname  # co-hosting: a gift to the guest
        return [self._event(event_id, EventKind.GIFT, ts, m.user, data)]

    def _like(self, m: pb.LikeMessage, msg_id: int, now: float) -> list[Record]:
        ts = _ts(m.common.create_time, 0, now)
        mid = self._msg_id(m.common, msg_id)
        uid = user_id(m.user)
        event_id = f"dy-like-{mid}" if mid else stable_id("dy-like", uid, int(ts // LIKE_BUCKET_S), m.total)
        data: dict[str, Any] = {"count": int(m.count) or 1, "total": int(m.total)}
        return [self._event(event_id, EventKind.LIKE, ts, m.user, data)]

    def _member(self, m: pb.MemberMessage, msg_id: int, now: float) -> list[Record]:
        ts = _ts(m.common.create_time, 0, now)
        mid = self._msg_id(m.common, msg_id)
        uid = user_id(m.user)
        event_id = f"dy-enter-{mid}" if mid else stable_id("dy-enter", uid, m.common.create_time)
        data: dict[str, Any] = {"viewers": int(m.member_count)}
        return [self._event(event_id, EventKind.ENTER, ts, m.user, data)]

    def _social(self, m: pb.SocialMessage, msg_id: int, now: float) -> list[Record]:
        if m.action != SOCIAL_FOLLOW:
            self.skipped[f"{SOCIAL}:{'share' if m.action == SOCIAL_SHARE else m.action}"] += 1
            return []
        ts = _ts(m.common.create_time, 0, now)
        mid = self._msg_id(m.common, msg_id)
        uid = user_id(m.user)
        event_id = f"dy-follow-{mid}" if mid else stable_id("dy-follow", uid, m.common.create_time)
        data: dict[str, Any] = {"followers": int(m.follow_count)}
        return [self._event(event_id, EventKind.FOLLOW, ts, m.user, data)]

    def _room_user_seq(self, m: pb.RoomUserSeqMessage, msg_id: int, now: float) -> list[Record]:
        if m.total < 0 or m.total_user < 0:
            self.malformed[ROOM_USER_SEQ] += 1
            return []
        ts = _ts(m.common.create_time, 0, now)
        mid = self._msg_id(m.common, msg_id)
        event_id = f"dy-viewers-{mid}" if mid else stable_id("dy-viewers", m.total, m.total_user)
        data: dict[str, Any] = {"online": int(m.total), "watched": int(m.total_user), "text": m.total_str}
        return [self._event(event_id, EventKind.VIEWERS, ts, None, data)]

    def _fansclub(self, m: pb.FansclubMessage, msg_id: int, now: float) -> list[Record]:
        kinds = {FANSCLUB_JOIN: "join", FANSCLUB_UPGRADE: "upgrade"}
        what = kinds.get(int(m.type))
        if what is None:
            self.skipped[f"{FANSCLUB}:{m.type}"] += 1
            return []
        ts = _ts(m.common.create_time, 0, now)
        mid = self._msg_id(m.common, msg_id)
        uid = user_id(m.user)
        event_id = f"dy-club-{mid}" if mid else stable_id("dy-club", uid, m.type, m.content)
        data: dict[str, Any] = {"fansclub": what, "text": m.content}
        return [self._event(event_id, EventKind.MEMBERSHIP, ts, m.user, data)]

    def _control(self, m: pb.ControlMessage, msg_id: int, now: float) -> list[Record]:
        if m.status == CONTROL_LIVE_ENDED:
            if not self.ended:
                log.info("douyin room %s: the live ended (control status %d)", self.room, m.status)
            self.ended = True
        else:
            self.skipped[f"{CONTROL}:{m.status}"] += 1
        return []
