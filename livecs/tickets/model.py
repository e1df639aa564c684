"""Tickets (工单): what an escalated card becomes, and every change a ticket can go through. Pure.

A ticket carries the viewer, the comments, the operator's note, an owner, a status (待处理 → 处理中 → 已解决 →
已关闭), a priority and two due times set from :class:`TicketSettings` when it is created (first response, by
default 24 h; resolution, by default 72 h). Each change (:func:`apply`) checks that it is allowed, updates
the ticket and returns a :class:`Change` — the line the caller records as an action in the record. Overdue is
a function of the ticket and the time (:func:`overdue`), never stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from livecs.errors import ErrorCode, LivecsError
from livecs.vocabulary import TICKET_STATUS_ZH as STATUS_ZH
from livecs.vocabulary import Outcome, TicketChange, TicketStatus

#: the ticket's statuses and changes, by their short names here (defined in the vocabulary)
Status = TicketStatus
Kind = TicketChange
SECONDS_PER_HOUR = 3600.0
MAX_TEXT = 2000
MAX_NOTES = 500  # notes kept on one ticket (the record keeps them all as actions)


class TicketSettings(BaseModel):
    """``console.tickets`` in ``config/livecs.yaml``."""

    model_config = ConfigDict(extra="forbid")

    first_response_h: float = Field(24.0, gt=0, description="hours to the first response (接手/联系观众)")
    resolution_h: float = Field(72.0, gt=0, description="hours to resolution (已解决/已关闭)")


#: how a ticket was closed
OUTCOMES = tuple(o.value for o in Outcome)
DONE = (Status.RESOLVED, Status.CLOSED)


class TicketError(LivecsError):
    """A change that cannot be made (by default an invalid one; ``code`` says otherwise)."""

    code = ErrorCode.INVALID


@dataclass(slots=True)
class Entry:
    """One line of the ticket's history (a note, a contact, a status change)."""

    at: float
    by: str
    kind: str
    text: str = ""


@dataclass(slots=True)
class Ticket:
    ticket_id: str
    room: str
    session_id: str
    item_id: str  # the card it came from
    target_id: str  # the comment id, or the cluster id
    source: str  # "single" | "cluster"
    intent: str
    priority: str
    viewer: dict[str, Any]  # user_id, nickname, member_tier
    comments: list[dict[str, Any]]  # comment_id, user_id, nickname, text, ts
    note: str
    created_at: float
    created_by: str
    due_first_response: float
    due_resolution: float
    owner: str = ""
    status: Status = Status.OPEN
    first_response_at: float | None = None
    resolved_at: float | None = None
    closed_at: float | None = None
    outcome: str = ""  # resolved | unresolved, once closed
    resolution: str = ""
    contact_status: str = ""  # delivery of the last reply to the viewer: sent | gave_up
    updated_at: float = 0.0
    history: list[Entry] = field(default_factory=list)

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        out["status_zh"] = STATUS_ZH[self.status]
        if now is not None:
            out["overdue"] = overdue(self, now)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ticket:
        d = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        d["status"] = Status(d.get("status", Status.OPEN))
        d["history"] = [Entry(**e) for e in d.get("history") or []]
        return cls(**d)


@dataclass(frozen=True, slots=True)
class Change:
    """What a change did, for the record (``ticket`` action: ``kind`` in its note, ``text`` its text)."""

    kind: Kind
    text: str = ""
    owner: str = ""


def new_ticket(
    ticket_id: str,
    *,
    room: str,
    session_id: str,
    item_id: str,
    target_id: str,
    source: str,
    intent: str,
    priority: str,
    viewer: dict[str, Any],
    comments: list[dict[str, Any]],
    note: str,
    by: str,
    now: float,
    settings: TicketSettings,
) -> Ticket:
    """A ticket escalated by ``by`` now: waiting (待处理) with no owner, due times from ``settings``."""
    note = note.strip()
    if not note:
        raise TicketError("请填写工单备注", "a ticket needs a note")
    t = Ticket(
        ticket_id=ticket_id,
        room=room,
        session_id=session_id,
        item_id=item_id,
        target_id=target_id,
        source=source,
        intent=intent,
        priority=priority,
        viewer=viewer,
        comments=comments,
        note=note[:MAX_TEXT],
        created_at=now,
        created_by=by,
        due_first_response=now + settings.first_response_h * SECONDS_PER_HOUR,
        due_resolution=now + settings.resolution_h * SECONDS_PER_HOUR,
        updated_at=now,
    )
    t.history.append(Entry(now, by, Kind.CREATE.value, t.note))
    return t


def overdue(t: Ticket, now: float) -> str:
    """``"first_response"`` when nobody responded in time, ``"resolution"`` when it is still not resolved
    past its resolution due time, else ``""`` (a resolved or closed ticket is never overdue)."""
    if t.status in DONE:
        return ""
    if now > t.due_resolution:
        return "resolution"
    if t.first_response_at is None and now > t.due_first_response:
        return "first_response"
    return ""


def _text(text: str, what_zh: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TicketError(f"请填写{what_zh}", f"{what} is empty")
    if len(text) > MAX_TEXT:
        raise TicketError(f"{what_zh}过长（最多 {MAX_TEXT} 字）", f"{what} too long")
    return text


def _open(t: Ticket) -> None:
    if t.status is Status.CLOSED:
        raise TicketError("工单已关闭", "ticket is closed", code=ErrorCode.CONFLICT)


def _respond(t: Ticket, now: float) -> None:
    if t.first_response_at is None:
        t.first_response_at = now
    if t.status is Status.OPEN:
        t.status = Status.IN_PROGRESS


def apply(
    t: Ticket,
    kind: Kind | str,
    by: str,
    now: float,
    *,
    text: str = "",
    owner: str = "",
    outcome: str = "",
) -> Change:
    """Make one change to ``t`` (in place) on behalf of ``by``; raises :class:`TicketError` when it is not
    allowed (empty text, closed ticket, unknown outcome)."""
    try:
        kind = Kind(kind)
    except ValueError:
        raise TicketError("不支持的工单操作", f"unknown ticket change {kind!r}") from None
    if kind is Kind.CREATE:
        raise TicketError("不支持的工单操作", "create is not a change")
    change: Change
    if kind is Kind.REOPEN:
        if t.status not in DONE:
            raise TicketError("工单未关闭", "ticket is not resolved or closed", code=ErrorCode.CONFLICT)
        t.status = Status.IN_PROGRESS if t.owner else Status.OPEN
        t.closed_at = t.resolved_at = None
        t.outcome = t.resolution = ""
        change = Change(kind, _text(text, "重新打开的原因", "reason") if text else "")
    else:
        _open(t)
        if kind is Kind.TAKE:
            t.owner = by
            _respond(t, now)
            change = Change(kind, owner=by)
        elif kind is Kind.REASSIGN:
            owner = (owner or "").strip()
            if not owner:
                raise TicketError("请选择转派给谁", "no owner given")
            t.owner = owner
            change = Change(kind, text.strip()[:MAX_TEXT], owner=owner)
        elif kind is Kind.NOTE:
            change = Change(kind, _text(text, "备注", "note"))
        elif kind is Kind.CONTACT:
            change = Change(kind, _text(text, "回复内容", "reply"))
            _respond(t, now)
            t.owner = t.owner or by
        elif kind is Kind.RESOLVE:
            if t.status is Status.RESOLVED:
                raise TicketError("工单已是已解决", "ticket already resolved", code=ErrorCode.CONFLICT)
            change = Change(kind, _text(text, "处理结果", "resolution"))
            _respond(t, now)
            t.status = Status.RESOLVED
            t.resolved_at = now
            t.outcome = "resolved"
            t.resolution = change.text
            t.owner = t.owner or by
        else:  # CLOSE
            if outcome not in OUTCOMES:
                raise TicketError("请选择已解决或未解决", f"outcome must be one of {OUTCOMES}")
            change = Change(kind, _text(text, "处理结果", "resolution"))
            if t.first_response_at is None:
                t.first_response_at = now
            t.status = Status.CLOSED
            t.closed_at = now
            t.outcome = outcome
            t.resolution = change.text
            if outcome == "resolved" and t.resolved_at is None:
                t.resolved_at = now
            t.owner = t.owner or by
    t.updated_at = now
    if len(t.history) < MAX_NOTES:
        label = change.text if kind is not Kind.REASSIGN else f"→ {change.owner} {change.text}".strip()
        t.history.append(Entry(now, by, kind.value, label))
    return change
