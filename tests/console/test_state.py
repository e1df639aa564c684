"""The console's room state without I/O, on scripted comment streams: one result per comment (no pairing by
position), clusters as one card, alerts against the room's own baseline, the moderation queue in a raid."""

from __future__ import annotations

from livecs.config import ConsoleSettings
from livecs.console.state import RoomState
from livecs.models import EventKind, Intent, LiveEvent, Priority, Record, Sentiment

from .conftest import SESSION, comment_group


def feed(st: RoomState, groups: list[list[Record]], now: float, *, per_call: int = 1000) -> None:
    flat = [(SESSION, r) for g in groups for r in g]
    for i in range(0, len(flat), per_call):
        st.apply(flat[i : i + per_call], now)


def test_reads_cut_anywhere_lose_no_card() -> None:
    """Each comment is one record: reads of one record at a time give every card, none untriaged."""
    groups = [comment_group(f"问题{i}", priority=Priority.P1) for i in range(20)]
    groups.append([LiveEvent("e1", "test", "r1", EventKind.ORDER_PAID, 1.0)])
    for per_call in (1, 2, 3, 7, 1000):
        st = RoomState("r1", ConsoleSettings())
        feed(st, groups, 1000.0, per_call=per_call)
        assert len(st.items) == 20, per_call
        assert st.totals["untriaged"] == 0 and st.totals["comments"] == 20 and st.totals["buy"] == 1
        assert all(i.suggestion is not None for i in st.items.values())


def test_a_result_without_triage_is_counted_not_carded() -> None:
    (res,) = comment_group("boom")
    res.triage = None  # type: ignore[attr-defined]
    st = RoomState("r1", ConsoleSettings())
    st.apply([(SESSION, res)], 1.0)
    assert st.items == {} and st.totals["untriaged"] == 1


def test_negative_and_complaint_counts_come_from_the_triage() -> None:
    st = RoomState("r1", ConsoleSettings())
    feed(
        st,
        [
            comment_group("差评", intent=Intent.COMPLAINT, priority=Priority.P0, sentiment=Sentiment.NEG)
            for _ in range(3)
        ],
        5.0,
    )
    assert st.totals["complaint"] == 3 and st.totals["neg"] == 3
