"""Bilibili live commands (decoded JSON) → livecs :class:`Comment` and :class:`LiveEvent` records. Pure.

Handled commands (field layouts as xfgryujk/blivedm ``models/web.py`` reads them):

==================== ====================================================================================
``DANMU_MSG``        a :class:`Comment`: ``info[1]`` text, ``info[2]`` [uid, uname, …], ``info[3]`` fan
                     medal [level, name, anchor name, room id, …], ``info[7]`` guard level, ``info[0][4]``
                     timestamp (ms), ``info[0][12]`` dm type (1 = sticker), ``info[0][13]`` sticker options,
                     ``info[0][15]['extra']`` (JSON text: ``id_str``, ``emots``, ``reply_uname``…)
``SEND_GIFT``        a ``gift`` event: ``gift_name``, ``count``, ``value`` (yuan, gold gifts only), …
``SUPER_CHAT_MESSAGE`` a ``super_chat`` event **and** a comment with its message (a paid question is the
                     one comment a streamer must not miss)
``GUARD_BUY``        a ``membership`` event (guard level, months, price)
``INTERACT_WORD``    ``enter`` (msg_type 1) or ``follow`` (2, 4 special follow, 5 mutual follow); 3 (share)
                     is counted and skipped
``LIKE_INFO_V3_CLICK`` a ``like`` event (``count`` 1)
``WATCHED_CHANGE``   a ``viewers`` event (``watched``: people who watched so far)
==================== ====================================================================================

Fields are read defensively (a missing or mistyped field takes its default); a command that still cannot
become a record is counted in :attr:`CommandParser.malformed`; any other command is counted in
:attr:`CommandParser.unknown` and logged once per command name. Nothing here raises on bad input.

**Member tier** (:class:`MemberTier`) from the viewer's standing *in this room*: guard level 1 总督 and 2
提督 → ``SVIP``, 3 舰长 → ``VIP``; otherwise this room's fan medal: level ≥ ``member_medal_level``
(default :data:`MEMBER_MEDAL_LEVEL`) → ``MEMBER``, any level ≥ 1 → ``FAN``; else ``NONE``. A medal of
another room (its room id differs from ``room_id`` when both are known) does not count; it is kept in
``extras``. ``fan_level`` is this room's medal level.

**Ids** (for redelivery dedup in the sink): a danmaku's own ``id_str`` when present, else a stable hash of
uid, timestamp, ``rnd`` and text; a gift's ``tid`` (or ``rnd``); a super chat's ``id``; others a stable hash
of their identifying fields.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from livecs.ingest.message_parser import PlatformParser, Record, stable_id
from livecs.models import EventKind, LiveEvent, MemberTier

log = logging.getLogger("livecs.ingest.bilibili")

PLATFORM: Final = "bilibili"
#: guard (大航海) levels: 1 总督, 2 提督, 3 舰长
GUARD_GOVERNOR: Final = 1
GUARD_ADMIRAL: Final = 2
GUARD_CAPTAIN: Final = 3
GUARD_TIERS: Final = {
    GUARD_GOVERNOR: MemberTier.SVIP,
    GUARD_ADMIRAL: MemberTier.SVIP,
    GUARD_CAPTAIN: MemberTier.VIP,
}
GUARD_NAMES: Final = {GUARD_GOVERNOR: "总督", GUARD_ADMIRAL: "提督", GUARD_CAPTAIN: "舰长"}
#: this room's fan-medal level from which a viewer counts as MEMBER (below: FAN)
MEMBER_MEDAL_LEVEL: Final = 10
#: gold coins (金瓜子) per yuan
GOLD_PER_YUAN: Final = 1000
GOLD_COIN: Final = "gold"
#: DANMU_MSG dm_type of a sticker (表情) danmaku
DM_TYPE_STICKER: Final = 1
#: DANMU_MSG timestamps are in milliseconds; values above this are taken as ms, below as seconds
MS_THRESHOLD: Final = 10**11
#: INTERACT_WORD msg_type values
INTERACT_ENTER: Final = 1
INTERACT_FOLLOW: Final = 2
INTERACT_SHARE: Final = 3
INTERACT_SPECIAL_FOLLOW: Final = 4
INTERACT_MUTUAL_FOLLOW: Final = 5
INTERACT_KINDS: Final = {
    INTERACT_ENTER: EventKind.ENTER,
    INTERACT_FOLLOW: EventKind.FOLLOW,
    INTERACT_SPECIAL_FOLLOW: EventKind.FOLLOW,
    INTERACT_MUTUAL_FOLLOW: EventKind.FOLLOW,
}
#: likes carry no id or time: clicks by one viewer within this many seconds are one like for dedup
LIKE_BUCKET_S: Final = 1.0
#: inline emoticon names kept per danmaku
MAX_EMOTS: Final = 16


# -- defensive readers -----------------------------------------------------------------------------------
def at(value: Any, *path: int | str) -> Any:
    """``value[p0][p1]…`` following list indices and dict keys; ``None`` when any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(step)
    return value


def as_int(value: Any, default: int = 0) -> int:
    """An int from an int, a float or a numeric string; ``default`` otherwise (bools are not numbers)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def as_float(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        f = float(value)
        return f if f == f and abs(f) != float("inf") else default
    if isinstance(value, str):
        try:
            return as_float(float(value), default)
        except ValueError:
            return default
    return default


def as_str(value: Any, default: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return default


def as_dict(value: Any) -> dict[str, Any]:
    """A dict, or a JSON object given as text (Bilibili nests JSON in strings), else ``{}``."""
    if isinstance(value, dict):
        return value
    if isinstance(value, (str, bytes)) and value:
        try:
            decoded = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {}


def timestamp(value: Any, now: float) -> float:
    """Epoch seconds from a seconds or milliseconds value; ``now`` when absent."""
    t = as_float(value)
    if t <= 0:
        return now
    return t / 1000.0 if t >= MS_THRESHOLD else t


@dataclass(frozen=True, slots=True)
class Standing:
    """A viewer's guard level and fan medal, and the tier they map to."""

    tier: MemberTier
    fan_level: int
    guard_level: int
    medal_level: int
    medal_name: str
    medal_room_id: int


def member_tier(
    guard_level: int, medal_level: int, member_medal_level: int = MEMBER_MEDAL_LEVEL
) -> MemberTier:
    """The tier mapping (see the module docstring); ``medal_level`` is this room's medal (0 = none)."""
    if guard_level in GUARD_TIERS:
        return GUARD_TIERS[guard_level]
    if medal_level >= member_medal_level:
        return MemberTier.MEMBER
    if medal_level >= 1:
        return MemberTier.FAN
    return MemberTier.NONE


# -- the parser ------------------------------------------------------------------------------------------
class CommandParser(PlatformParser[Standing]):
    """Commands of one room → records. Counters: :attr:`parsed`, :attr:`unknown`, :attr:`malformed`."""

    label = "bilibili"
    name_kind = "command"
    logger = log

    def __init__(
        self,
        room: str,
        *,
        room_id: int | None = None,
        member_medal_level: int = MEMBER_MEDAL_LEVEL,
        platform: str = PLATFORM,
    ) -> None:
        super().__init__(room, platform)
        self.room_id = room_id if room_id is not None else (as_int(room) or None)
        self.member_medal_level = member_medal_level
        self._handlers: dict[str, Callable[[dict[str, Any], float], list[Record]]] = {
            "DANMU_MSG": self._danmu,
            "SEND_GIFT": self._gift,
            "SUPER_CHAT_MESSAGE": self._super_chat,
            "GUARD_BUY": self._guard_buy,
            "INTERACT_WORD": self._interact,
            "LIKE_INFO_V3_CLICK": self._like,
            "WATCHED_CHANGE": self._watched,
        }

    def parse(self, command: dict[str, Any], now: float | None = None) -> list[Record]:
        """Records for one command (``[]`` for unknown, skipped or malformed ones). Never raises."""
        now = time.time() if now is None else now
        cmd = as_str(command.get("cmd") if isinstance(command, dict) else None).split(":", 1)[0]
        handler = self._handlers.get(cmd)
        if handler is None:
            return self.not_handled(cmd)
        return self.guarded(cmd, lambda: handler(command, now))

    # -- standing -----------------------------------------------------------------------------------------
    def standing(self, guard_level: int, medal_level: int, medal_name: str, medal_room_id: int) -> Standing:
        own = medal_level > 0 and (not medal_room_id or not self.room_id or medal_room_id == self.room_id)
        level = medal_level if own else 0
        tier = member_tier(guard_level, level, self.member_medal_level)
        return Standing(tier, level, guard_level, medal_level, medal_name, medal_room_id)

    def _medal_standing(self, medal: Any, guard_level: int) -> Standing:
        """From a ``medal_info`` / ``fans_medal`` object (gift, super chat, interact, like)."""
        m = medal if isinstance(medal, dict) else {}
        guard = guard_level or as_int(m.get("guard_level"))
        room_id = as_int(m.get("anchor_roomid"))
        return self.standing(guard, as_int(m.get("medal_level")), as_str(m.get("medal_name")), room_id)

    def standing_extras(self, s: Standing) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if s.guard_level:
            out["guard_level"] = s.guard_level
        if s.medal_level:
            out["medal"] = {"level": s.medal_level, "name": s.medal_name, "room_id": s.medal_room_id}
        return out

    def _event(
        self,
        event_id: str,
        kind: EventKind,
        ts: float,
        uid: Any,
        nickname: Any,
        standing: Standing | None,
        data: dict[str, Any],
    ) -> LiveEvent:
        return self.event(
            event_id, kind, ts, user_id=as_str(uid), nickname=as_str(nickname), standing=standing, data=data
        )

    # -- handlers -----------------------------------------------------------------------------------------
    def _danmu(self, command: dict[str, Any], now: float) -> list[Record]:
        info = command.get("info")
        text = at(info, 1)
        if not isinstance(text, str) or not text:
            self.malformed["DANMU_MSG"] += 1
            return []
        meta = at(info, 0)
        mode_info = as_dict(at(meta, 15))
        extra = as_dict(mode_info.get("extra"))
        uid = at(info, 2, 0)
        if uid is None:
            uid = at(mode_info, "user", "uid")
        nickname = as_str(at(info, 2, 1)) or as_str(at(mode_info, "user", "base", "name"))
        ts_raw = at(meta, 4)
        ts = timestamp(ts_raw if ts_raw is not None else at(info, 9, "ts"), now)
        medal = at(info, 3)
        standing = self.standing(
            as_int(at(info, 7)),
            as_int(at(medal, 0)),
            as_str(at(medal, 1)),
            as_int(at(medal, 3)),
        )
        id_str = as_str(extra.get("id_str"))
        if id_str:
            comment_id = f"bili-{id_str}"
        else:
            comment_id = stable_id("bili-h", as_str(uid), as_str(ts_raw), as_str(at(meta, 5)), text)
        extras: dict[str, Any] = self.standing_extras(standing)
        user_level = as_int(at(info, 4, 0))
        if user_level:
            extras["user_level"] = user_level
        if as_int(at(info, 2, 2)):
            extras["admin"] = True
        dm_type = as_int(at(meta, 12))
        if dm_type == DM_TYPE_STICKER:
            options = as_dict(at(meta, 13))
            extras["sticker"] = as_str(options.get("emoticon_unique")) or text
        emots = extra.get("emots")
        if isinstance(emots, dict) and emots:
            extras["emots"] = [as_str(k) for k in list(emots)[:MAX_EMOTS]]
        reply_to = as_str(extra.get("reply_uname"))
        if reply_to:
            extras["reply_to"] = reply_to
        return [
            self.comment(
                comment_id,
                user_id=as_str(uid),
                nickname=nickname,
                text=text,
                ts=ts,
                standing=standing,
                extras=extras,
            )
        ]

    def _gift(self, command: dict[str, Any], now: float) -> list[Record]:
        d = as_dict(command.get("data"))
        name = as_str(d.get("giftName")) or as_str(d.get("gift_name"))
        count = as_int(d.get("num"), 1)
        coin_type = as_str(d.get("coin_type"))
        total = as_int(d.get("total_coin")) or as_int(d.get("price")) * count
        tid = as_str(d.get("tid")) or as_str(d.get("rnd"))
        uid = d.get("uid")
        ts = timestamp(d.get("timestamp"), now)
        event_id = f"bili-gift-{tid}" if tid else stable_id("bili-gift", as_str(uid), ts, name, count)
        data: dict[str, Any] = {
            "gift_name": name,
            "gift_id": as_int(d.get("giftId")),
            "count": count,
            "coin_type": coin_type,
            "total_coin": total,
            "value": round(total / GOLD_PER_YUAN, 3) if coin_type == GOLD_COIN else 0.0,
        }
        standing = self._medal_standing(d.get("medal_info"), as_int(d.get("guard_level")))
        return [self._event(event_id, EventKind.GIFT, ts, uid, d.get("uname"), standing, data)]

    def _super_chat(self, command: dict[str, Any], now: float) -> list[Record]:
        d = as_dict(command.get("data"))
        user = as_dict(d.get("user_info"))
        uid = d.get("uid")
        message = as_str(d.get("message"))
        price = as_float(d.get("price"))
        ts = timestamp(d.get("start_time") or d.get("ts"), now)
        sc_id = as_str(d.get("id"))
        base = f"bili-sc-{sc_id}" if sc_id else stable_id("bili-sc", as_str(uid), ts, message)
        standing = self._medal_standing(d.get("medal_info"), as_int(user.get("guard_level")))
        nickname = as_str(user.get("uname"))
        data: dict[str, Any] = {"price": price, "message": message, "duration_s": as_int(d.get("time"))}
        records: list[Record] = [self._event(base, EventKind.SUPER_CHAT, ts, uid, nickname, standing, data)]
        if message:
            extras = self.standing_extras(standing) | {"super_chat": True, "price": price}
            records.append(
                self.comment(
                    base,
                    user_id=as_str(uid),
                    nickname=nickname,
                    text=message,
                    ts=ts,
                    standing=standing,
                    extras=extras,
                )
            )
        return records

    def _guard_buy(self, command: dict[str, Any], now: float) -> list[Record]:
        d = as_dict(command.get("data"))
        uid = d.get("uid")
        level = as_int(d.get("guard_level"))
        num = as_int(d.get("num"), 1)
        start = d.get("start_time")
        ts = timestamp(start, now)
        price = as_int(d.get("price"))
        data: dict[str, Any] = {
            "guard_level": level,
            "guard_name": as_str(d.get("gift_name")) or GUARD_NAMES.get(level, ""),
            "months": num,
            "price_gold": price,
            "value": round(price * num / GOLD_PER_YUAN, 3),
        }
        standing = self.standing(level, 0, "", 0)
        event_id = stable_id("bili-guard", as_str(uid), level, num, as_str(start) or ts)
        return [self._event(event_id, EventKind.MEMBERSHIP, ts, uid, d.get("username"), standing, data)]

    def _interact(self, command: dict[str, Any], now: float) -> list[Record]:
        d = as_dict(command.get("data"))
        msg_type = as_int(d.get("msg_type"))
        kind = INTERACT_KINDS.get(msg_type)
        if kind is None:
            self.skipped[f"INTERACT_WORD:{msg_type}"] += 1
            return []
        uid = d.get("uid")
        ts = timestamp(d.get("timestamp"), now)
        when = as_str(d.get("trigger_time")) or as_str(d.get("timestamp")) or ts
        standing = self._medal_standing(d.get("fans_medal"), 0)
        event_id = stable_id("bili-iw", as_str(uid), msg_type, when)
        return [self._event(event_id, kind, ts, uid, d.get("uname"), standing, {})]

    def _like(self, command: dict[str, Any], now: float) -> list[Record]:
        d = as_dict(command.get("data"))
        uid = d.get("uid")
        ts = timestamp(d.get("timestamp"), now)
        standing = self._medal_standing(d.get("fans_medal"), 0)
        event_id = stable_id("bili-like", as_str(uid), int(ts // LIKE_BUCKET_S))
        data: dict[str, Any] = {"count": 1, "like_text": as_str(d.get("like_text"))}
        return [self._event(event_id, EventKind.LIKE, ts, uid, d.get("uname"), standing, data)]

    def _watched(self, command: dict[str, Any], now: float) -> list[Record]:
        d = as_dict(command.get("data"))
        num = as_int(d.get("num"), -1)
        if num < 0:
            self.malformed["WATCHED_CHANGE"] += 1
            return []
        data: dict[str, Any] = {"watched": num, "text": as_str(d.get("text_large"))}
        return [self._event(f"bili-watched-{num}", EventKind.VIEWERS, now, "", "", None, data)]
