"""The records every stage passes along: comments, other live-room events, triage, suggestions, actions.

Inside the pipeline these are plain slotted dataclasses (cheap to build in the hot loop); they cross the bus
and the store as plain dicts (``to_dict`` / ``from_dict``), and untrusted input is validated into them by the
pydantic models in :mod:`livecs.ingest.validate`.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar


class Intent(enum.StrEnum):
    """The ten intents of the taxonomy (``shared/data/TAXONOMY.md``)."""

    PRODUCT = "product"
    PRICE_PROMO = "price_promo"
    ORDER = "order"
    LOGISTICS = "logistics"
    PAYMENT = "payment"
    AFTER_SALES = "after_sales"
    COMPLAINT = "complaint"
    BUY_SIGNAL = "buy_signal"
    CHITCHAT = "chitchat"
    SPAM = "spam"


class Sentiment(enum.StrEnum):
    POS = "pos"
    NEU = "neu"
    NEG = "neg"


class Emotion(enum.StrEnum):
    NONE = ""
    ANGRY = "angry"
    ANXIOUS = "anxious"
    CONFUSED = "confused"
    DISAPPOINTED = "disappointed"


class Priority(enum.StrEnum):
    """Queue priority; ``MOD`` goes to the moderation queue, never a reply."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    MOD = "mod"

    @property
    def rank(self) -> int:
        """Sort key: lower is more urgent (mod sits between P1 and P2)."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.P0: 0, Priority.P1: 1, Priority.MOD: 2, Priority.P2: 3, Priority.P3: 4}


class EventKind(enum.StrEnum):
    """Live-room events other than comments that a platform relay sends."""

    GIFT = "gift"
    LIKE = "like"
    FOLLOW = "follow"
    ENTER = "enter"
    ORDER_PAID = "order_paid"
    SUPER_CHAT = "super_chat"
    MEMBERSHIP = "membership"
    VIEWERS = "viewers"
    SURVEY = "survey"  # a satisfaction survey result (``run.py survey``); never from a platform
    ON_AIR = "on_air"  # the merchant set a product on air (``data.link``; null = none); console-recorded only


class ActionKind(enum.StrEnum):
    """What an operator (or the system on their behalf) did to a queue item."""

    TAKE = "take"
    SEND = "send"
    COPY = "copy"
    EDIT = "edit"
    DISMISS = "dismiss"
    ESCALATE = "escalate"
    ISSUE_COUPON = "issue_coupon"
    APPROVE_COUPON = "approve_coupon"
    MUTE = "mute"
    BAN = "ban"
    DELETE = "delete"
    TAKEOVER = "takeover"  # take a card another operator holds (接管)
    REPLY_ALL = "reply_all"  # one room-level reply to a cluster, recorded against each member comment
    PIN = "pin"  # pin (or unpin) a cluster's question to the streamer view
    RESOLVE = "resolve"  # mark a card 已解决/未解决 (note: resolved | unresolved); the last mark counts
    SATISFACTION = "satisfaction"  # mark the viewer's follow-up 满意/不满意 (note: satisfied | unsatisfied)
    TICKET = "ticket"  # a change to a ticket (工单): target_id is the ticket id, note says which change


class MemberTier(enum.IntEnum):
    """Viewer standing in the room; platform specifics (guard level, fan medal) map onto it."""

    NONE = 0  # 普通观众
    FAN = 1  # 粉丝团
    MEMBER = 2  # 会员
    VIP = 3  # 高级会员 / 舰长
    SVIP = 4  # 至尊会员 / 提督、总督


_T = TypeVar("_T", bound="Record")


class Record:
    """Mixin: dataclass <-> plain dict for the bus and the store (enums become their values)."""

    KIND: ClassVar[str] = ""
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, enum.Enum):
                v = v.value
            elif isinstance(v, (list, tuple)):
                v = [x.value if isinstance(x, enum.Enum) else x for x in v]
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls: type[_T], data: dict[str, Any]) -> _T:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        obj = cls(**{k: v for k, v in data.items() if k in names})
        obj._coerce()
        return obj

    def _coerce(self) -> None:
        """Turn enum-valued fields read back from plain dicts into their enums."""


@dataclass(slots=True)
class Comment(Record):
    """One viewer comment (弹幕), normalised from any platform."""

    KIND: ClassVar[str] = "comment"

    comment_id: str
    platform: str
    room: str
    user_id: str
    nickname: str
    text: str
    ts: float
    member_tier: MemberTier = MemberTier.NONE
    fan_level: int = 0
    truncated: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    received_at: float = field(default_factory=time.time)

    def _coerce(self) -> None:
        self.member_tier = MemberTier(int(self.member_tier))


@dataclass(slots=True)
class LiveEvent(Record):
    """A gift, like, follow, paid order… (``kind``); ``data`` holds the kind-specific fields.

    For ``order_paid``: ``order_id``, ``sku``/``link``, ``quantity``, ``amount`` — it feeds the buy-signal
    counter. For ``gift``: ``gift_name``, ``count``, ``value``.
    """

    KIND: ClassVar[str] = "event"

    event_id: str
    platform: str
    room: str
    kind: EventKind
    ts: float
    user_id: str = ""
    nickname: str = ""
    member_tier: MemberTier = MemberTier.NONE
    data: dict[str, Any] = field(default_factory=dict)
    received_at: float = field(default_factory=time.time)

    def _coerce(self) -> None:
        self.kind = EventKind(self.kind)
        self.member_tier = MemberTier(int(self.member_tier))


@dataclass(slots=True)
class Triage(Record):
    """What the triage engine says about one comment."""

    KIND: ClassVar[str] = "triage"

    comment_id: str
    room: str
    normalized: str
    intent: Intent
    intent_confidence: float
    sentiment: Sentiment
    sentiment_score: float  # 0 = very negative … 1 = very positive
    emotion: Emotion = Emotion.NONE
    spam: bool = False
    spam_reason: str = ""
    cluster_id: str = ""
    cluster_size: int = 1
    priority: Priority = Priority.P3
    sla_deadline: float | None = None  # epoch seconds; None = no SLA
    reasons: list[str] = field(default_factory=list)

    def _coerce(self) -> None:
        self.intent = Intent(self.intent)
        self.sentiment = Sentiment(self.sentiment)
        self.emotion = Emotion(self.emotion)
        self.priority = Priority(self.priority)


@dataclass(slots=True)
class Suggestion(Record):
    """A reply (and on-air line) proposed to the operator for a comment or a cluster."""

    KIND: ClassVar[str] = "suggestion"

    suggestion_id: str
    room: str
    comment_id: str
    priority: Priority
    reply: str
    cluster_id: str = ""
    script_id: str = ""
    on_air: str = ""
    score: float = 0.0
    why: list[str] = field(default_factory=list)
    coupon_rule_id: str = ""
    created_at: float = field(default_factory=time.time)

    def _coerce(self) -> None:
        self.priority = Priority(self.priority)


@dataclass(slots=True)
class OperatorAction(Record):
    """One thing an operator did, with who and when (for response times in the review)."""

    KIND: ClassVar[str] = "action"

    action_id: str
    room: str
    operator: str
    kind: ActionKind
    target_id: str  # comment, cluster or suggestion id
    ts: float = field(default_factory=time.time)
    text: str = ""
    note: str = ""
    coupon_rule_id: str = ""
    user_id: str = ""
    delivery_status: str = ""  # sent | failed | retrying | gave_up | "" (not a delivery)

    def _coerce(self) -> None:
        self.kind = ActionKind(self.kind)


@dataclass(slots=True)
class Result(Record):
    """One processed comment for the display: the comment, its triage (``None`` when processing failed) and
    its suggestions, published together as ONE record on the ``results`` topic — a reader never has to pair
    them again, however its reads are cut."""

    KIND: ClassVar[str] = "result"

    comment: Comment
    triage: Triage | None = None
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def comment_id(self) -> str:
        return self.comment.comment_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "comment": self.comment.to_dict(),
            "triage": self.triage.to_dict() if self.triage is not None else None,
            "suggestions": [s.to_dict() for s in self.suggestions],
        }

    @classmethod
    def from_dict(cls: type[_T], data: dict[str, Any]) -> _T:
        triage = data.get("triage")
        suggestions = data.get("suggestions") or []
        if not isinstance(suggestions, list):
            raise TypeError("suggestions is not a list")
        return cls(
            Comment.from_dict(data["comment"]),  # type: ignore[call-arg]
            Triage.from_dict(triage) if triage is not None else None,
            [Suggestion.from_dict(s) for s in suggestions],
        )


RECORD_TYPES: dict[str, type[Record]] = {
    cls.KIND: cls for cls in (Comment, LiveEvent, Triage, Suggestion, OperatorAction, Result)
}


def encode_record(rec: Record) -> dict[str, Any]:
    """Wrap a record for the bus: ``{"k": kind, "d": fields}``."""
    return {"k": rec.KIND, "d": rec.to_dict()}


def decode_record(env: dict[str, Any]) -> Record:
    """Inverse of :func:`encode_record`; raises ``KeyError``, ``ValueError`` or ``TypeError`` if bad."""
    return RECORD_TYPES[env["k"]].from_dict(env["d"])
