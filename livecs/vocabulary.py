"""The product's one vocabulary: which intents are questions, the statuses a queue item and a delivery go
through, and the Chinese label of every code an operator, a merchant or a reviewer reads.

The codes of the records are the enums of :mod:`livecs.models` (intents, priorities, actions, events); the
statuses of items, deliveries and tickets are defined here, with what is said about every code, once.
The console serves the labels to the browser from here (:func:`browser_vocabulary`, as ``/vocabulary.js``),
the review and the exports read the same tables, so a label is changed in one place.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from livecs.models import ActionKind, Emotion, EventKind, Intent, MemberTier, Priority, Sentiment

#: Intents that ask the shop something answerable (the six question intents of TAXONOMY.md), in the
#: taxonomy's order (the review binds them into SQL in this order).
QUESTION_INTENT_ORDER: tuple[Intent, ...] = (
    Intent.PRODUCT,
    Intent.PRICE_PROMO,
    Intent.ORDER,
    Intent.LOGISTICS,
    Intent.PAYMENT,
    Intent.AFTER_SALES,
)
QUESTION_INTENTS: frozenset[Intent] = frozenset(QUESTION_INTENT_ORDER)
#: Intents whose repeats the console gathers into one cluster card (×N): the questions, and complaints.
CLUSTER_CARD_INTENTS: frozenset[Intent] = QUESTION_INTENTS | {Intent.COMPLAINT}


class ItemStatus(enum.StrEnum):
    """Where a queue item (a card on the console) stands; every status but ``open`` closes the card."""

    OPEN = "open"
    SENT = "sent"
    COPIED = "copied"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"
    MUTED = "muted"
    BANNED = "banned"
    DELETED = "deleted"
    EVICTED = "evicted"  # closed by the console itself when the queue overflowed
    RESOLVED = "resolved"  # marked 已解决 while open
    UNRESOLVED = "unresolved"  # marked 未解决 while open


#: The status an action leaves a card in, for the actions that close it by themselves.
STATUS_AFTER_ACTION: Mapping[ActionKind, ItemStatus] = {
    ActionKind.SEND: ItemStatus.SENT,
    ActionKind.REPLY_ALL: ItemStatus.SENT,
    ActionKind.DISMISS: ItemStatus.DISMISSED,
    ActionKind.ESCALATE: ItemStatus.ESCALATED,
    ActionKind.COPY: ItemStatus.COPIED,
    ActionKind.MUTE: ItemStatus.MUTED,
    ActionKind.BAN: ItemStatus.BANNED,
    ActionKind.DELETE: ItemStatus.DELETED,
}
#: Moderation actions (they act on the viewer, not only on the card).
MODERATION_KINDS: tuple[ActionKind, ...] = (ActionKind.MUTE, ActionKind.BAN, ActionKind.DELETE)
#: Actions that issue a coupon (an approval of the suggested coupon issues it too).
COUPON_KINDS: tuple[ActionKind, ...] = (ActionKind.ISSUE_COUPON, ActionKind.APPROVE_COUPON)
#: Actions that are not a first response to a viewer (copying a reply is not answering; pinning neither).
NON_RESPONSE_KINDS: tuple[ActionKind, ...] = (ActionKind.COPY, ActionKind.PIN)
#: Priorities from the most urgent (the queue's and the review's order).
PRIORITY_ORDER: tuple[Priority, ...] = tuple(sorted(Priority, key=lambda p: p.rank))


class DeliveryStatus(enum.StrEnum):
    """Where a reply sent through the outbound connector stands."""

    QUEUED = "queued"
    SENT = "sent"
    RETRYING = "retrying"
    GAVE_UP = "gave_up"
    FAILED = "failed"


class Outcome(enum.StrEnum):
    """How a card, a cluster or a ticket ended (问题解决率)."""

    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"


class TicketStatus(enum.StrEnum):
    """Where a ticket (工单) stands."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketChange(enum.StrEnum):
    """The changes a ticket goes through (recorded as ``ticket`` actions with this in ``note``)."""

    CREATE = "create"
    TAKE = "take"
    REASSIGN = "reassign"
    NOTE = "note"
    CONTACT = "contact"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


class Satisfaction(enum.StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


# --- Chinese labels --------------------------------------------------------------------------------------

INTENT_ZH: Mapping[str, str] = {
    Intent.PRODUCT: "商品咨询",
    Intent.PRICE_PROMO: "价格优惠",
    Intent.ORDER: "订单",
    Intent.LOGISTICS: "物流",
    Intent.PAYMENT: "支付",
    Intent.AFTER_SALES: "售后",
    Intent.COMPLAINT: "投诉",
    Intent.BUY_SIGNAL: "下单信号",
    Intent.CHITCHAT: "互动闲聊",
    Intent.SPAM: "违规",
}
SENTIMENT_ZH: Mapping[str, str] = {Sentiment.POS: "正面", Sentiment.NEU: "中性", Sentiment.NEG: "负面"}
EMOTION_ZH: Mapping[str, str] = {
    Emotion.ANGRY: "愤怒",
    Emotion.ANXIOUS: "焦急",
    Emotion.CONFUSED: "困惑",
    Emotion.DISAPPOINTED: "失望",
}
PRIORITY_ZH: Mapping[str, str] = {
    Priority.P0: "P0 紧急",
    Priority.P1: "P1 阻碍下单",
    Priority.P2: "P2 普通问题",
    Priority.P3: "P3 计数",
    Priority.MOD: "审核",
}
ACTION_ZH: Mapping[str, str] = {
    ActionKind.TAKE: "接手",
    ActionKind.SEND: "回复",
    ActionKind.COPY: "复制",
    ActionKind.EDIT: "改写",
    ActionKind.DISMISS: "忽略",
    ActionKind.ESCALATE: "转工单",
    ActionKind.ISSUE_COUPON: "发券",
    ActionKind.APPROVE_COUPON: "审批发券",
    ActionKind.MUTE: "禁言",
    ActionKind.BAN: "封禁",
    ActionKind.DELETE: "删除",
    ActionKind.TAKEOVER: "接管",
    ActionKind.REPLY_ALL: "回复全部",
    ActionKind.PIN: "置顶主播",
    ActionKind.RESOLVE: "标记解决",
    ActionKind.SATISFACTION: "标记满意度",
    ActionKind.TICKET: "工单",
}
ITEM_STATUS_ZH: Mapping[str, str] = {
    ItemStatus.OPEN: "待处理",
    ItemStatus.SENT: "已回复",
    ItemStatus.COPIED: "已复制",
    ItemStatus.DISMISSED: "已忽略",
    ItemStatus.ESCALATED: "已转工单",
    ItemStatus.MUTED: "已禁言",
    ItemStatus.BANNED: "已封禁",
    ItemStatus.DELETED: "已删除",
    ItemStatus.EVICTED: "已移出",
    ItemStatus.RESOLVED: "已解决",
    ItemStatus.UNRESOLVED: "未解决",
}
DELIVERY_ZH: Mapping[str, str] = {
    DeliveryStatus.QUEUED: "排队发送中",
    DeliveryStatus.SENT: "已发送",
    DeliveryStatus.RETRYING: "发送失败，重试中",
    DeliveryStatus.GAVE_UP: "发送失败，已放弃",
    DeliveryStatus.FAILED: "发送失败",
}
OUTCOME_ZH: Mapping[str, str] = {Outcome.RESOLVED: "已解决", Outcome.UNRESOLVED: "未解决"}
SATISFACTION_ZH: Mapping[str, str] = {Satisfaction.SATISFIED: "满意", Satisfaction.UNSATISFIED: "不满意"}
EVENT_ZH: Mapping[str, str] = {
    EventKind.GIFT: "礼物",
    EventKind.LIKE: "点赞",
    EventKind.FOLLOW: "关注",
    EventKind.ENTER: "进场",
    EventKind.ORDER_PAID: "已付款订单",
    EventKind.SUPER_CHAT: "醒目留言",
    EventKind.MEMBERSHIP: "开通会员",
    EventKind.VIEWERS: "在线人数",
    EventKind.SURVEY: "满意度调查",
    EventKind.ON_AIR: "上架讲解",
}
MEMBER_TIER_ZH: Mapping[int, str] = {
    MemberTier.NONE: "",
    MemberTier.FAN: "粉丝团",
    MemberTier.MEMBER: "会员",
    MemberTier.VIP: "高级会员",
    MemberTier.SVIP: "至尊会员",
}
TICKET_STATUS_ZH: Mapping[str, str] = {
    TicketStatus.OPEN: "待处理",
    TicketStatus.IN_PROGRESS: "处理中",
    TicketStatus.RESOLVED: "已解决",
    TicketStatus.CLOSED: "已关闭",
}
TICKET_CHANGE_ZH: Mapping[str, str] = {
    TicketChange.CREATE: "创建",
    TicketChange.TAKE: "接手",
    TicketChange.REASSIGN: "转派",
    TicketChange.NOTE: "备注",
    TicketChange.CONTACT: "联系观众",
    TicketChange.RESOLVE: "标记已解决",
    TicketChange.CLOSE: "关闭",
    TicketChange.REOPEN: "重新打开",
}
TICKET_OVERDUE_ZH: Mapping[str, str] = {"first_response": "首次响应超期", "resolution": "处理超期"}
#: the state of an ingest source as the operator reads it
SOURCE_STATE_ZH: Mapping[str, str] = {
    "running": "运行中",
    "connected": "已连接",
    "connecting": "连接中",
    "reconnecting": "重连中",
    "finished": "已结束",
    "stopped": "已停止",
    "failed": "失败",
    "paused": "已暂停",
    "draining": "收尾中",
    "disconnected": "已断开",
}
#: ingest sources by their ``source`` name
SOURCE_ZH: Mapping[str, str] = {
    "simulator": "模拟直播",
    "webhook": "Webhook",
    "ws": "中继",
    "replay": "回放",
    "bilibili": "B站",
    "douyin": "抖音",
    "test": "测试",
}


def _plain(table: Mapping[Any, str]) -> dict[str, str]:
    return {str(k.value if isinstance(k, enum.Enum) else k): v for k, v in table.items()}


def browser_vocabulary() -> dict[str, Any]:
    """Every label table the browser pages use, keyed by code (what ``/vocabulary.js`` carries)."""
    return {
        "intent": _plain(INTENT_ZH),
        "sentiment": _plain(SENTIMENT_ZH),
        "emotion": _plain(EMOTION_ZH),
        "priority": _plain(PRIORITY_ZH),
        "action": _plain(ACTION_ZH),
        "status": _plain(ITEM_STATUS_ZH),
        "delivery": _plain(DELIVERY_ZH),
        "outcome": _plain(OUTCOME_ZH),
        "satisfaction": _plain(SATISFACTION_ZH),
        "event": _plain(EVENT_ZH),
        "tier": [MEMBER_TIER_ZH[t] for t in sorted(MemberTier)],
        "ticket_status": _plain(TICKET_STATUS_ZH),
        "ticket_change": _plain(TICKET_CHANGE_ZH),
        "ticket_overdue": dict(TICKET_OVERDUE_ZH),
        "source_state": dict(SOURCE_STATE_ZH),
        "source": dict(SOURCE_ZH),
    }


def browser_script() -> str:
    """``/vocabulary.js``: the label tables as one frozen global (``LC_VOCAB``) for the pages' scripts."""
    body = json.dumps(browser_vocabulary(), ensure_ascii=False, sort_keys=True)
    return f'"use strict";\nvar LC_VOCAB = Object.freeze({body});\n'
