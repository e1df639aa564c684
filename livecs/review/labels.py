"""Chinese headers and labels of the spreadsheet exports (CSV and XLSX); JSONL keeps the English codes.

A 运营 opens the CSV/XLSX in Excel: every column header is Chinese (``intent`` → 意图) and every code value
of a known column is shown by its Chinese label (``complaint`` → 投诉, ``mute`` → 禁言, ``True`` → 是). An
unknown code is kept as is (never dropped). Pure tables and one function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from livecs.vocabulary import (
    ACTION_ZH,
    DELIVERY_ZH,
    EMOTION_ZH,
    EVENT_ZH,
    INTENT_ZH,
    OUTCOME_ZH,
    PRIORITY_ZH,
    SATISFACTION_ZH,
    SENTIMENT_ZH,
    TICKET_CHANGE_ZH,
    TICKET_OVERDUE_ZH,
    TICKET_STATUS_ZH,
)

SHEET_ZH = {
    "summary": "概览",
    "comments": "评论",
    "suggestions": "建议回复",
    "actions": "客服操作",
    "coupons": "发券与库存",
    "events": "直播事件",
    "tickets": "工单",
    "products": "商品",
    "operators": "客服表现",
}

COLUMN_ZH = {
    "comment_id": "评论ID",
    "time": "时间",
    "ts": "时间戳",
    "user": "观众",
    "nickname": "昵称",
    "member_tier": "会员等级",
    "fan_level": "粉丝等级",
    "text": "内容",
    "product": "在播商品",
    "intent": "意图",
    "intent_confidence": "意图置信度",
    "sentiment": "情感",
    "sentiment_score": "情感分",
    "emotion": "情绪",
    "spam": "违规",
    "spam_reason": "违规原因",
    "cluster_id": "问题簇",
    "cluster_size": "簇大小",
    "priority": "优先级",
    "sla_deadline": "响应时限",
    "first_action_ts": "首次操作时间戳",
    "response_s": "响应秒数",
    "sla_breached": "超时",
    "suggestions": "建议数",
    "suggested_script": "建议话术",
    "reasons": "分诊依据",
    "extras": "附加信息",
    "suggestion_id": "建议ID",
    "created_at": "生成时间戳",
    "script_id": "话术ID",
    "reply": "建议回复",
    "on_air": "口播",
    "score": "匹配分",
    "coupon_rule_id": "券规则",
    "why": "匹配依据",
    "action_id": "操作ID",
    "operator": "操作员",
    "kind": "类型",
    "target_id": "对象ID",
    "delivery_status": "送达状态",
    "note": "备注",
    "name": "名称",
    "type": "券类型",
    "enabled": "启用",
    "issued": "本场发放",
    "stock": "库存",
    "stock_used": "已用/库存",
    "stock_used_share": "已用占库存",
    "remaining": "剩余",
    "per_user_limit": "每人限领",
    "status": "状态",
    "library_version": "话术库版本",
    "event_id": "事件ID",
    "data": "数据",
    "ticket_id": "工单号",
    "room": "直播间",
    "owner": "负责人",
    "created_by": "创建人",
    "created": "创建时间",
    "due_first_response": "首次响应时限",
    "due_resolution": "解决时限",
    "first_response": "首次响应时间",
    "resolved": "解决时间",
    "resolution": "处理结果",
    "overdue": "超期",
    "comments": "评论",
    "notes": "跟进记录",
    "on_air_s": "在播秒数",
    "orders": "订单",
    "gmv": "成交额",
    "orders_on_air": "在播时订单",
    "orders_per_min_on_air": "在播每分钟订单",
    "handled": "处理条目",
    "first_responses": "首次响应",
    "p50_s": "中位响应秒数",
    "p90_s": "P90响应秒数",
    "sla_breaches": "超时次数",
    "replies": "回复",
    "edited": "改写回复",
    "dismissed": "忽略",
    "escalated": "转工单",
    "tickets_resolved": "工单解决",
    "coupons_issued": "发券",
    "moderation": "审核操作",
    "resolved_marks": "标记已解决",
    "marked": "已标记",
}

ACTION_LABELS = ACTION_ZH
YES_NO = {True: "是", False: "否"}
#: the note of a ``resolve`` / ``satisfaction`` action is its mark (a free-text note is never one of these)
MARK_NOTE_ZH = {**OUTCOME_ZH, **SATISFACTION_ZH}

#: per table, the columns whose values are codes shown by a Chinese label
VALUE_ZH: dict[str, dict[str, Mapping[Any, str]]] = {
    "comments": {
        "intent": INTENT_ZH,
        "priority": PRIORITY_ZH,
        "sentiment": SENTIMENT_ZH,
        "emotion": EMOTION_ZH,
        "spam": YES_NO,
        "sla_breached": YES_NO,
    },
    "suggestions": {"priority": PRIORITY_ZH},
    "actions": {"kind": ACTION_LABELS, "delivery_status": DELIVERY_ZH},
    "coupons": {"enabled": YES_NO},
    "events": {"kind": EVENT_ZH},
    "tickets": {
        "status": TICKET_STATUS_ZH,
        "priority": PRIORITY_ZH,
        "intent": INTENT_ZH,
        "outcome": OUTCOME_ZH,
        "overdue": {**TICKET_OVERDUE_ZH, "": ""},
    },
}


TICKET_NOTE_ZH = TICKET_CHANGE_ZH
OUTCOME_ZH = {"resolved": "已解决", "unresolved": "未解决"}


def action_note(value: Any) -> Any:
    """An action's note in Chinese where it is a code: a mark (``resolved`` → 已解决) or a ticket change
    (``take`` → 接手, ``reassign → bob`` → 转派 → bob, ``close: resolved`` → 关闭：已解决). Free text is
    kept."""
    if not isinstance(value, str):
        return value
    if value in MARK_NOTE_ZH:
        return MARK_NOTE_ZH[value]
    if value in TICKET_NOTE_ZH:
        return TICKET_NOTE_ZH[value]
    if value.startswith("reassign → "):
        return "转派 → " + value[len("reassign → ") :]
    if value.startswith("close: "):
        outcome = value[len("close: ") :]
        return "关闭：" + OUTCOME_ZH.get(outcome, outcome)
    return value


#: per table, columns whose codes sit inside the value (translated by a function)
VALUE_FN: dict[tuple[str, str], Callable[[Any], Any]] = {("actions", "note"): action_note}


def header(columns: list[str]) -> list[str]:
    return [COLUMN_ZH.get(c, c) for c in columns]


def label(table: str, column: str, value: Any) -> Any:
    """The Chinese label of a code value (the value itself when it is not a known code)."""
    fn = VALUE_FN.get((table, column))
    if fn is not None:
        return fn(value)
    labels = VALUE_ZH.get(table, {}).get(column)
    if labels is None or value is None or isinstance(value, (dict, list)):
        return value
    try:
        return labels.get(value, value)
    except TypeError:  # unhashable
        return value
