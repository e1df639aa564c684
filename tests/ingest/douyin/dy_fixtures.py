"""Douyin webcast messages built with livecs's own ``webcast.proto`` (values made up, no captured data).

``python -m tests.ingest.douyin.dy_fixtures`` rewrites ``tests/ingest/douyin/data/room_frames.dyf``, the
recorded-frames fixture of the replay tests (deterministic: the same bytes every time).
"""

from __future__ import annotations

import sys
from pathlib import Path

from livecs.ingest.douyin import webcast_pb2 as pb
from livecs.ingest.douyin.codec import PAYLOAD_HEARTBEAT, encode_batch, encode_frame, encode_message
from livecs.ingest.douyin.messages import (
    CHAT,
    CONTROL,
    FANSCLUB,
    GIFT,
    LIKE,
    MEMBER,
    ROOM_USER_SEQ,
    SOCIAL,
)
from livecs.ingest.douyin.record import FrameWriter

ROOM_ID = 7_300_000_000_000_000_001
ANCHOR_ID = 99_000_001
OTHER_ANCHOR_ID = 99_000_002
TS_MS = 1_700_000_000_000
FIXTURE = Path(__file__).parent / "data" / "room_frames.dyf"
#: what the fixture holds (the replay tests check these counts)
FIXTURE_CHATS = 40
FIXTURE_GIFTS = 3
FIXTURE_LIKES = 5
FIXTURE_ENTERS = 6
FIXTURE_FOLLOWS = 2
FIXTURE_VIEWERS = 2
FIXTURE_CLUBS = 1
FIXTURE_UNKNOWN = 2
FIXTURE_BAD_FRAMES = 1
#: one batch is pushed again (as a server does after a reconnect resumed at an older cursor)
FIXTURE_REPUSHED_RECORDS = 4 + 1 + 1  # step 5: 4 chats, an enter, a gift


def user(
    i: int,
    *,
    nickname: str | None = None,
    pay_grade: int = 0,
    club_level: int = 0,
    club_anchor: int = ANCHOR_ID,
) -> pb.User:
    u = pb.User(id=1000 + i, nickname=f"抖友{i}" if nickname is None else nickname, id_str=str(1000 + i))
    if pay_grade:
        u.pay_grade.level = pay_grade
    if club_level:
        u.fans_club.data.level = club_level
        u.fans_club.data.club_name = "小店团"
        u.fans_club.data.anchor_id = club_anchor
    return u


def common(msg_id: int, ts_ms: int | None = None, method: str = "") -> pb.Common:
    return pb.Common(method=method, msg_id=msg_id, room_id=ROOM_ID, create_time=ts_ms or TS_MS + msg_id)


def chat(i: int, text: str | None = None, *, msg_id: int | None = None, **user_kw: int) -> pb.Message:
    mid = 10_000 + i if msg_id is None else msg_id
    m = pb.ChatMessage(common=common(mid, method=CHAT), user=user(i, **user_kw), content=text or f"弹幕{i}")
    return encode_message(CHAT, m, mid)


def gift(
    i: int, *, name: str = "小心心", diamonds: int = 1, repeat: int = 1, combo: bool = False, end: int = 1
) -> pb.Message:
    mid = 20_000 + i
    m = pb.GiftMessage(
        common=common(mid, method=GIFT),
        gift_id=463,
        repeat_count=repeat,
        user=user(i, pay_grade=35),
        repeat_end=end,
        gift=pb.GiftStruct(id=463, name=name, diamond_count=diamonds, combo=combo),
    )
    return encode_message(GIFT, m, mid)


def like(i: int, count: int = 3) -> pb.Message:
    mid = 30_000 + i
    m = pb.LikeMessage(common=common(mid, method=LIKE), count=count, total=1000 + i, user=user(i))
    return encode_message(LIKE, m, mid)


def enter(i: int) -> pb.Message:
    mid = 40_000 + i
    m = pb.MemberMessage(common=common(mid, method=MEMBER), user=user(i), member_count=500 + i, action=1)
    return encode_message(MEMBER, m, mid)


def social(i: int, action: int = 1) -> pb.Message:
    mid = 50_000 + i
    m = pb.SocialMessage(common=common(mid, method=SOCIAL), user=user(i), action=action, follow_count=77)
    return encode_message(SOCIAL, m, mid)


def viewers(i: int, online: int = 321, watched: int = 4567) -> pb.Message:
    mid = 60_000 + i
    m = pb.RoomUserSeqMessage(
        common=common(mid, method=ROOM_USER_SEQ), total=online, total_user=watched, total_str=str(online)
    )
    return encode_message(ROOM_USER_SEQ, m, mid)


def fansclub(i: int, kind: int = 2) -> pb.Message:
    mid = 70_000 + i
    m = pb.FansclubMessage(
        common=common(mid, method=FANSCLUB), type=kind, content="加入了粉丝团", user=user(i)
    )
    return encode_message(FANSCLUB, m, mid)


def control(status: int = 3) -> pb.Message:
    m = pb.ControlMessage(common=common(80_000, method=CONTROL), status=status)
    return encode_message(CONTROL, m, 80_000)


def unknown(i: int) -> pb.Message:
    return encode_message("WebcastInRoomBannerMessage", b"\x08\x01", 90_000 + i)


def fixture_frames() -> list[tuple[float, bytes]]:
    """The fixture room: (arrival second, frame) — 40 chats, gifts, likes, enters… then the live ends."""
    frames: list[tuple[float, bytes]] = []
    t = 0.0
    log_id = 1
    chat_i = 0
    for step in range(10):
        msgs = [chat(chat_i + k, pay_grade=55 if k == 0 and step == 0 else 0) for k in range(4)]
        chat_i += 4
        if step < 5:
            msgs.append(like(step))
        if step < 6:
            msgs.append(enter(step))
        if step in (2, 7):
            msgs.append(social(step))
            msgs.append(viewers(step))
        if step in (3, 6):
            msgs.append(unknown(step))
        if step == 4:
            msgs.append(fansclub(step))
        if step in (1, 5, 8):
            msgs.append(gift(step, repeat=step + 1))
        frames.append(
            (t, encode_batch(msgs, log_id=log_id, cursor=f"c-{log_id}", internal_ext=f"ie-{log_id}"))
        )
        log_id += 1
        t += 0.25
        if step == 6:
            frames.append((t, frames[-2][1]))  # step 5's batch again
        if step == 4:
            frames.append((t, encode_frame(b"", payload_type=PAYLOAD_HEARTBEAT, encoding="")))
            frames.append((t, b"\x0a\xff\xff"))  # a broken frame (lying length): a counted drop
    frames.append((t, encode_batch([control(3)], log_id=log_id)))
    return frames


def write_fixture(path: Path = FIXTURE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with FrameWriter(path, start=1_700_000_000.0, room="dyroom") as writer:
        for t, frame in fixture_frames():
            writer.write(frame, 1_700_000_000.0 + t)
    return path


if __name__ == "__main__":
    print(write_fixture(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURE))
