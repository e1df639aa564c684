"""Bilibili command fixtures shaped like the real ones (layout as blivedm reads them; values made up)."""

from __future__ import annotations

from typing import Any

import orjson

ROOM_ID = 12345
OTHER_ROOM_ID = 67890
TS_MS = 1_700_000_000_123


def danmu(
    i: int,
    text: str | None = None,
    *,
    uid: int | None = None,
    uname: str | None = None,
    guard: int = 0,
    medal: tuple[int, int] | None = None,  # (level, room id)
    id_str: str | None = "",
    ts_ms: int | None = None,
    dm_type: int = 0,
    emots: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A DANMU_MSG with the full ``info`` layout (18 slots, mode_info with an ``extra`` JSON string)."""
    text = f"弹幕{i}" if text is None else text
    uid = 1000 + i if uid is None else uid
    uname = f"观众{i}" if uname is None else uname
    ts_ms = TS_MS + i * 10 if ts_ms is None else ts_ms
    extra = {
        "send_from_me": False,
        "mode": 0,
        "color": 16777215,
        "dm_type": dm_type,
        "font_size": 25,
        "content": text,
        "user_hash": "2904574201",
        "emoticon_unique": "",
        "emots": emots,
        "id_str": f"6fa9959ab8feabcd1b337aa50667683{i:05d}" if id_str == "" else id_str,
        "reply_uname": "",
    }
    if id_str is None:
        del extra["id_str"]
    medal_arr: list[Any] = []
    if medal is not None:
        level, room = medal
        medal_arr = [level, "勋章", "主播", room, 6067854, "", 0, 6067854, 6067854, 6067854, guard, 1, 42]
    sticker = (
        {"emoticon_unique": "official_13", "url": "https://i0.hdslb.com/x.png", "width": 183, "height": 60}
        if dm_type == 1
        else "{}"
    )
    return {
        "cmd": "DANMU_MSG",
        "dm_v2": "",
        "info": [
            [
                0,
                1,
                25,
                16777215,
                ts_ms,
                1700000000 + i,
                0,
                "6a2d0e3f",
                0,
                0,
                0,
                "",
                dm_type,
                sticker,
                "{}",
                {
                    "mode": 0,
                    "show_player_type": 0,
                    "extra": orjson.dumps(extra).decode(),
                    "user": {"uid": uid, "base": {"name": uname, "face": "https://i0.hdslb.com/f.jpg"}},
                },
                {"activity_identity": "", "activity_source": 0, "not_show": 0},
                0,
            ],
            text,
            [uid, uname, 0, 0, 0, 10000, 1, ""],
            medal_arr,
            [21, 0, 5805790, ">50000", 0],
            ["", ""],
            0,
            guard,
            None,
            {"ts": ts_ms // 1000, "ct": "A1B2C3D4"},
            0,
            0,
            None,
            None,
            0,
            210,
            [12],
            None,
        ],
    }


def send_gift(tid: str = "1700000000123400001", *, guard: int = 0, medal_level: int = 5) -> dict[str, Any]:
    return {
        "cmd": "SEND_GIFT",
        "data": {
            "action": "投喂",
            "giftName": "小花花",
            "giftId": 31036,
            "giftType": 0,
            "num": 3,
            "price": 100,
            "coin_type": "gold",
            "total_coin": 300,
            "uid": 2001,
            "uname": "送礼的人",
            "face": "https://i0.hdslb.com/f.jpg",
            "guard_level": guard,
            "timestamp": 1_700_000_100,
            "rnd": "1700000100",
            "tid": tid,
            "gift_info": {"img_basic": "https://s1.hdslb.com/g.png"},
            "medal_info": {
                "anchor_roomid": ROOM_ID,
                "anchor_uname": "",
                "guard_level": guard,
                "is_lighted": 1,
                "medal_level": medal_level,
                "medal_name": "勋章",
                "target_id": 42,
            },
            "blind_gift": None,
        },
    }


def super_chat(sc_id: int = 7788, message: str = "主播这款有S码吗？") -> dict[str, Any]:
    return {
        "cmd": "SUPER_CHAT_MESSAGE",
        "data": {
            "id": sc_id,
            "uid": 3001,
            "price": 30,
            "message": message,
            "message_trans": "",
            "start_time": 1_700_000_200,
            "end_time": 1_700_000_260,
            "time": 60,
            "gift": {"gift_id": 12000, "gift_name": "醒目留言", "num": 1},
            "user_info": {
                "uname": "SC老板",
                "face": "https://i0.hdslb.com/f.jpg",
                "guard_level": 3,
                "user_level": 20,
            },
            "medal_info": {
                "anchor_roomid": ROOM_ID,
                "medal_level": 21,
                "medal_name": "勋章",
                "target_id": 42,
            },
            "background_color": "#EDF5FF",
        },
    }


def guard_buy(level: int = 3) -> dict[str, Any]:
    return {
        "cmd": "GUARD_BUY",
        "data": {
            "uid": 4001,
            "username": "新舰长",
            "guard_level": level,
            "num": 1,
            "price": 198000,
            "gift_id": 10003,
            "gift_name": "舰长",
            "start_time": 1_700_000_300,
            "end_time": 1_700_000_300,
        },
    }


def interact(msg_type: int = 1, uid: int = 5001) -> dict[str, Any]:
    return {
        "cmd": "INTERACT_WORD",
        "data": {
            "contribution": {"grade": 0},
            "dmscore": 4,
            "fans_medal": {
                "anchor_roomid": OTHER_ROOM_ID,
                "guard_level": 0,
                "medal_level": 12,
                "medal_name": "别家",
                "target_id": 6574487,
            },
            "identities": [1],
            "msg_type": msg_type,
            "roomid": ROOM_ID,
            "timestamp": 1_700_000_400,
            "trigger_time": 1_700_000_399_876_475_000,
            "uid": uid,
            "uname": "路过的人",
        },
    }


def like(uid: int = 6001) -> dict[str, Any]:
    return {
        "cmd": "LIKE_INFO_V3_CLICK",
        "data": {
            "show_area": 0,
            "msg_type": 6,
            "like_icon": "https://i0.hdslb.com/like.png",
            "uid": uid,
            "like_text": "给主播点了个赞",
            "uname": "点赞的人",
            "fans_medal": {
                "anchor_roomid": ROOM_ID,
                "medal_level": 3,
                "guard_level": 0,
                "medal_name": "勋章",
            },
            "dmscore": 20,
        },
    }


def watched(num: int = 17903) -> dict[str, Any]:
    return {"cmd": "WATCHED_CHANGE", "data": {"num": num, "text_small": "1.7万", "text_large": "1.7万人看过"}}
