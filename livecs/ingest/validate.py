"""Untrusted input → :class:`~livecs.models.Comment` / :class:`~livecs.models.LiveEvent`, or a reject reason.

The wire format every JSON source shares (websocket frame, webhook body, JSONL replay line)::

    {"type": "comment", "id": "m-1", "platform": "douyin", "room": "r1", "user_id": "u1",
     "nickname": "小王", "member_tier": 2, "fan_level": 5, "text": "有S码吗", "ts": 1700000000.5}

``type`` defaults to ``comment``; other types are the :class:`~livecs.models.EventKind` values (``gift``,
``like``, ``follow``, ``order_paid``…) whose extra fields land in ``data``. Aliases accepted: ``comment_id``/
``msg_id`` for ``id``, ``uid`` for ``user_id``, ``content`` for ``text``, ``timestamp``/``time`` for ``ts``
(epoch seconds or milliseconds, or ISO 8601). ``member_tier`` is 0–4 or a name (``none``, ``fan``,
``member``, ``vip``, ``svip``). A missing ``id`` gets a stable hash of the record so a redelivery still
deduplicates.

Cleaning (never a reject): control and bidi-override characters are removed, text longer than the configured
cap is cut and marked ``truncated``. Rejects raise :class:`Rejected` with a reason used as a counter name.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from livecs.errors import ErrorCode, LivecsError
from livecs.ingest.settings import RecordLimits
from livecs.models import Comment, EventKind, LiveEvent, MemberTier

# C0/C1 controls, DEL, zero-width joiners used to smuggle text past filters are kept for the normaliser,
# but bidi overrides/isolates (which can flip how a console renders a line) are removed.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINES_RE = re.compile("[\r\n\t]+")

_TIER_NAMES = {t.name.lower(): t for t in MemberTier}
#: what a platform may send (on-air changes and survey results are recorded by livecs only)
_EVENT_KINDS = {k.value for k in EventKind} - {EventKind.ON_AIR.value, EventKind.SURVEY.value}
_MS_THRESHOLD = 1e11  # epoch values above this are milliseconds (1e11 s is the year 5138)
#: A date-time without an offset is China time: what Douyin, Kuaishou and Taobao exports write.
NAIVE_TIME_ZONE = timezone(timedelta(hours=8))
# An export's date-time: 2025/4/10 20:18, 2025-04-10 20:18:05, 2025.4.10 (ISO 8601 goes to fromisoformat)
_EXPORT_TIME_RE = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


class Rejected(LivecsError):
    """Input that cannot become a record. ``reason`` is a short counter name."""

    code = ErrorCode.INVALID

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def clean_text(value: str) -> str:
    """Remove control/bidi characters, fold line breaks and tabs to a space, strip the ends."""
    value = _NEWLINES_RE.sub(" ", value)
    return _CONTROL_RE.sub("", value).strip()


def parse_ts(value: Any) -> float:
    """Epoch seconds from seconds, milliseconds, numeric strings, ISO 8601 or an export's ``2025/4/10 20:18``
    (no offset: China time, :data:`NAIVE_TIME_ZONE`); raises ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError("boolean timestamp")
    if isinstance(value, (int, float)):
        ts = float(value)
    elif isinstance(value, str):
        try:
            ts = float(value)
        except ValueError:
            ts = _parse_datetime(value.strip())
    else:
        raise ValueError(f"unsupported timestamp {type(value).__name__}")
    if ts != ts or ts < 0:  # NaN or negative
        raise ValueError("timestamp out of range")
    if ts > _MS_THRESHOLD:
        ts /= 1000.0
    if ts > _MS_THRESHOLD:
        raise ValueError("timestamp out of range")
    return ts


def _parse_datetime(text: str) -> float:
    """ISO 8601 or an export's ``2025/4/10 20:18``; without an offset, :data:`NAIVE_TIME_ZONE`."""
    export = _EXPORT_TIME_RE.fullmatch(text)
    if export is not None:
        year, month, day, hour, minute, second = (int(g or 0) for g in export.groups())
        moment = datetime(year, month, day, hour, minute, second)  # ValueError for 2025/13/40
    else:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=NAIVE_TIME_ZONE)
    return moment.timestamp()


def parse_tier(value: Any) -> MemberTier:
    if value is None or value == "":
        return MemberTier.NONE
    if isinstance(value, str) and value.strip().lower() in _TIER_NAMES:
        return _TIER_NAMES[value.strip().lower()]
    try:
        tier = int(value)
    except (TypeError, OverflowError) as exc:
        raise ValueError(f"member_tier: {exc}") from None
    return MemberTier(max(MemberTier.NONE, min(MemberTier.SVIP, tier)))


class RecordIn(BaseModel):
    """Common fields of every inbound record (aliases accepted)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)

    type: str = "comment"
    id: str | None = Field(default=None, validation_alias="id")
    platform: str = "generic"
    room: str | None = None
    user_id: str = ""
    nickname: str = ""
    member_tier: MemberTier = MemberTier.NONE
    ts: float | None = None

    @field_validator("id", "user_id", "platform", "room", "nickname", mode="before")
    @classmethod
    def _to_str(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)
        return v

    @field_validator("member_tier", mode="before")
    @classmethod
    def _tier(cls, v: Any) -> MemberTier:
        return parse_tier(v)

    @field_validator("ts", mode="before")
    @classmethod
    def _ts(cls, v: Any) -> float | None:
        return None if v is None or v == "" else parse_ts(v)


class CommentIn(RecordIn):
    text: str
    fan_level: int = Field(default=0, ge=0, le=1000)
    extras: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(v)  # "1111" sent as a number is still a comment
        return v


_ALIASES = {
    "comment_id": "id",
    "msg_id": "id",
    "message_id": "id",
    "event_id": "id",
    "uid": "user_id",
    "user": "user_id",
    "content": "text",
    "msg": "text",
    "timestamp": "ts",
    "time": "ts",
    "nick": "nickname",
    "uname": "nickname",
}


def _apply_aliases(obj: dict[str, Any]) -> dict[str, Any]:
    if not any(k in _ALIASES for k in obj):
        return obj
    out = dict(obj)
    for alias, name in _ALIASES.items():
        if alias in out and name not in out:
            out[name] = out.pop(alias)
    return out


def _reason_of(err: ValidationError) -> tuple[str, str]:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    kind = "missing_field" if first.get("type") == "missing" else "invalid_field"
    return kind, f"{loc}: {first.get('msg', '')}"


def stable_id(*parts: Any) -> str:
    """A deterministic id for records that arrive without one (redeliveries still deduplicate)."""
    h = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode("utf-8", "replace"), digest_size=10)
    return "h" + h.hexdigest()


class Validator:
    """Turns decoded JSON objects into records, applying :class:`RecordLimits` and counting nothing itself."""

    def __init__(self, limits: RecordLimits | None = None, default_platform: str = "generic") -> None:
        self.limits = limits or RecordLimits()
        self.default_platform = default_platform

    def decode_payload(self, payload: bytes | str) -> list[Any]:
        """A JSON text → list of values (one object or an array). Raises :class:`Rejected`."""
        if len(payload) > self.limits.max_payload_bytes:
            raise Rejected("payload_too_large", f"{len(payload)} bytes")
        if isinstance(payload, bytes):
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Rejected("invalid_utf8", str(exc)) from None
        try:
            value = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise Rejected("malformed_json", str(exc)[:120]) from None
        if isinstance(value, list):
            if len(value) > self.limits.max_batch:
                raise Rejected("batch_too_large", f"{len(value)} items")
            return value
        return [value]

    def record(self, obj: Any, *, room: str | None = None, now: float | None = None) -> Comment | LiveEvent:
        """One decoded JSON value → a record. ``room`` is the default when the object has none."""
        if not isinstance(obj, dict):
            raise Rejected("not_an_object", type(obj).__name__)
        obj = _apply_aliases(obj)
        kind = obj.get("type", "comment")
        if not isinstance(kind, str):
            raise Rejected("invalid_field", "type")
        now = time.time() if now is None else now
        if kind == "comment":
            return self._comment(obj, room, now)
        if kind in _EVENT_KINDS:
            return self._event(obj, kind, room, now)
        raise Rejected("unknown_type", kind[:40])

    def _common(self, m: RecordIn, room: str | None) -> tuple[str, str, str, str]:
        lim = self.limits
        room_id = clean_text(m.room or room or "")[: lim.max_id_chars]
        if not room_id:
            raise Rejected("missing_field", "room")
        user_id = clean_text(m.user_id)[: lim.max_id_chars]
        nickname = clean_text(m.nickname)[: lim.max_nickname_chars]
        platform = clean_text(m.platform or self.default_platform)[:32] or self.default_platform
        return room_id, user_id, nickname, platform

    def _comment(self, obj: dict[str, Any], room: str | None, now: float) -> Comment:
        try:
            m = CommentIn.model_validate(obj)
        except ValidationError as exc:
            raise Rejected(*_reason_of(exc)) from None
        room_id, user_id, nickname, platform = self._common(m, room)
        text = clean_text(m.text)
        if not text:
            raise Rejected("empty_text")
        truncated = len(text) > self.limits.max_text_chars
        if truncated:
            text = text[: self.limits.max_text_chars]
        ts = m.ts if m.ts is not None else now
        cid = clean_text(m.id)[: self.limits.max_id_chars] if m.id else ""
        if not cid:
            cid = stable_id(platform, room_id, user_id, ts, text)
        extras = m.extras
        if m.model_extra:
            extras = {**m.model_extra, **extras}
        if extras and len(orjson.dumps(extras, default=str)) > self.limits.max_extras_bytes:
            extras = {"dropped": "extras_too_large"}
        return Comment(
            comment_id=cid,
            platform=platform,
            room=room_id,
            user_id=user_id,
            nickname=nickname,
            text=text,
            ts=ts,
            member_tier=m.member_tier,
            fan_level=m.fan_level,
            truncated=truncated,
            extras=extras,
            received_at=now,
        )

    def _event(self, obj: dict[str, Any], kind: str, room: str | None, now: float) -> LiveEvent:
        try:
            m = RecordIn.model_validate(obj)
        except ValidationError as exc:
            raise Rejected(*_reason_of(exc)) from None
        room_id, user_id, nickname, platform = self._common(m, room)
        data = dict(m.model_extra or {})
        nested = data.pop("data", None)
        if isinstance(nested, dict):
            data.update(nested)
        if len(orjson.dumps(data, default=str)) > self.limits.max_extras_bytes:
            raise Rejected("invalid_field", "event data too large")
        ts = m.ts if m.ts is not None else now
        eid = clean_text(m.id)[: self.limits.max_id_chars] if m.id else ""
        if not eid:
            eid = stable_id(platform, room_id, kind, user_id, ts, sorted(data.items()))
        return LiveEvent(
            event_id=eid,
            platform=platform,
            room=room_id,
            kind=EventKind(kind),
            ts=ts,
            user_id=user_id,
            nickname=nickname,
            member_tier=m.member_tier,
            data=data,
            received_at=now,
        )
