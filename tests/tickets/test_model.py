"""The ticket model on its own: due times from the settings, every change and what it refuses, overdue."""

from __future__ import annotations

import pytest

from livecs.errors import ErrorCode
from livecs.tickets.model import (
    Kind,
    Status,
    Ticket,
    TicketError,
    TicketSettings,
    apply,
    new_ticket,
    overdue,
)

T0 = 1_800_000_000.0
H = 3600.0


def _ticket(settings: TicketSettings | None = None, note: str = "要求退款，核实物流") -> Ticket:
    return new_ticket(
        "T00001",
        room="r1",
        session_id="s1",
        item_id="i1",
        target_id="c1",
        source="single",
        intent="complaint",
        priority="P0",
        viewer={"user_id": "u1", "nickname": "小美", "member_tier": 0},
        comments=[
            {"comment_id": "c1", "user_id": "u1", "nickname": "小美", "text": "三天了还不发货", "ts": T0}
        ],
        note=note,
        by="alice",
        now=T0,
        settings=settings or TicketSettings(),
    )


def test_new_ticket_waits_with_default_due_times() -> None:
    t = _ticket()
    assert t.status is Status.OPEN and t.owner == ""
    assert t.due_first_response == T0 + 24 * H and t.due_resolution == T0 + 72 * H
    assert [h.kind for h in t.history] == ["create"]
    with pytest.raises(TicketError) as e:
        _ticket(note="  ")
    assert e.value.code is ErrorCode.INVALID


def test_due_times_come_from_the_settings() -> None:
    t = _ticket(TicketSettings(first_response_h=1, resolution_h=4))
    assert (t.due_first_response, t.due_resolution) == (T0 + H, T0 + 4 * H)


def test_lifecycle_take_reassign_note_contact_close() -> None:
    t = _ticket()
    c = apply(t, "take", "alice", T0 + 60)
    assert c.kind is Kind.TAKE and t.owner == "alice" and t.status is Status.IN_PROGRESS
    assert t.first_response_at == T0 + 60
    apply(t, "reassign", "alice", T0 + 120, owner="bob", text="物流组跟进")
    assert t.owner == "bob" and t.first_response_at == T0 + 60
    with pytest.raises(TicketError):
        apply(t, "reassign", "alice", T0 + 121, owner=" ")
    with pytest.raises(TicketError):
        apply(t, "note", "bob", T0 + 130, text="")
    apply(t, "note", "bob", T0 + 130, text="已联系快递")
    apply(t, "contact", "bob", T0 + 140, text="亲，已为您加急")
    with pytest.raises(TicketError) as e:
        apply(t, "close", "bob", T0 + 150, text="已补发")
    assert e.value.code is ErrorCode.INVALID  # an outcome is required
    apply(t, "close", "bob", T0 + 150, text="已补发", outcome="resolved")
    assert t.status is Status.CLOSED and t.outcome == "resolved" and t.resolved_at == T0 + 150
    with pytest.raises(TicketError) as e:
        apply(t, "note", "bob", T0 + 160, text="再看看")
    assert e.value.code is ErrorCode.CONFLICT
    assert [h.kind for h in t.history] == ["create", "take", "reassign", "note", "contact", "close"]
    apply(t, "reopen", "bob", T0 + 170)
    assert t.status is Status.IN_PROGRESS and t.outcome == "" and t.closed_at is None
    assert Ticket.from_dict(t.to_dict()) == t  # what the store keeps comes back whole


def test_overdue_first_response_then_resolution() -> None:
    t = _ticket(TicketSettings(first_response_h=1, resolution_h=2))
    assert overdue(t, T0 + H - 1) == ""
    assert overdue(t, T0 + H + 1) == "first_response"
    apply(t, "contact", "alice", T0 + H + 2, text="亲，在处理")
    assert overdue(t, T0 + H + 3) == ""
    assert overdue(t, T0 + 2 * H + 1) == "resolution"
    apply(t, "resolve", "alice", T0 + 2 * H + 2, text="已退款")
    assert t.status is Status.RESOLVED and overdue(t, T0 + 10 * H) == ""


def test_unknown_change_is_refused() -> None:
    t = _ticket()
    for kind in ("explode", "create"):
        with pytest.raises(TicketError) as e:
            apply(t, kind, "alice", T0)
        assert e.value.code is ErrorCode.INVALID
