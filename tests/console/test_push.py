"""The push policy (:mod:`livecs.console.push`) on a controllable clock, and what a feed's pushes carry: a new
card goes out ``coalesce`` after it arrives and at most ``1/min_gap`` times a second under a steady stream;
numbers on the live panel alone are refreshed at the panel rate, and a push between two panel refreshes
carries the cards without the panel."""

from __future__ import annotations

import itertools
from typing import Any

from livecs.console.push import PushSchedule
from livecs.console.views.feed import ClientFeed
from livecs.models import Priority
from tests.console.conftest import comment_group

COALESCE, MIN_GAP, PANEL_GAP, IDLE = 0.005, 1 / 40, 0.1, 1.0


def schedule() -> PushSchedule:
    return PushSchedule(coalesce_s=COALESCE, min_gap_s=MIN_GAP, panel_gap_s=PANEL_GAP, idle_s=IDLE)


def drive(
    s: PushSchedule, changes: list[tuple[float, bool]], until: float, step: float = 0.0001
) -> list[tuple[float, bool]]:
    """Run the schedule as the feed does on a virtual clock: changes ``(at, cards)``; returns the pushes
    ``(at, with_panel)``."""
    pushes: list[tuple[float, bool]] = []
    pending = sorted(changes)
    now = 0.0
    while now <= until:
        while pending and pending[0][0] <= now:
            s.changed(now, cards=pending.pop(0)[1])
        if s.due() <= now:
            panel = s.panel_due(now)
            s.sent(now, panel)
            pushes.append((now, panel))
        now = round(now + step, 6)
    return pushes


def test_a_new_card_after_a_quiet_spell_goes_out_after_the_coalescing_window() -> None:
    s = schedule()
    s.sent(0.0, panel=True)  # the first (full) push
    pushes = drive(s, [(0.5, True)], until=0.6)
    assert [round(at, 4) for at, _ in pushes] == [round(0.5 + COALESCE, 4)]


def test_under_a_steady_stream_every_card_change_is_pushed_within_gap_plus_window() -> None:
    s = schedule()
    s.sent(0.0, panel=True)
    changes = [(i * 0.0005, True) for i in range(1, 4000)]  # 2,000 card changes a second for 2 s
    pushes = drive(s, changes, until=2.1)
    times = [at for at, _ in pushes]
    waits = [next(t for t in times if t >= at) - at for at, _ in changes]
    assert max(waits) <= MIN_GAP + COALESCE + 0.0002
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= MIN_GAP - 1e-9  # the bound on the browser's re-renders
    assert len(pushes) <= 2.1 / MIN_GAP + 1
    panels = [at for at, with_panel in pushes if with_panel]
    assert all(b - a >= PANEL_GAP - 1e-9 for a, b in itertools.pairwise(panels))
    assert len(panels) >= 2.0 / PANEL_GAP * 0.8  # and the panel keeps being refreshed


def test_numbers_alone_are_pushed_at_the_panel_rate_and_a_quiet_room_once_a_second() -> None:
    s = schedule()
    s.sent(0.0, panel=True)
    counted_only = [(i * 0.001, False) for i in range(1, 1000)]  # P3 chatter: no card changes
    pushes = drive(s, counted_only, until=1.0)
    assert all(panel for _, panel in pushes)
    assert len(pushes) <= 1.0 / PANEL_GAP + 1
    s = schedule()
    s.sent(0.0, panel=True)
    assert [round(at, 3) for at, _ in drive(s, [], until=2.5)] == [1.0, 2.0]  # ages, alerts


async def test_the_feed_pushes_card_changes_and_leaves_the_panel_for_its_own_beat(make_console: Any) -> None:
    con = await make_console()
    feed = ClientFeed(con.hub, ws=None, view="console", room=None, cfg=con.settings, operator="alice")
    assert feed.cards_changed()  # the first push: everything
    first = feed.build(panel=False)
    assert first["full"] and "stats" in first and "rooms" in first  # a full push carries the panel
    feed._force = False
    await con.publish(comment_group("有S码吗", priority=Priority.P1, cluster="size"))
    await con.settle()
    assert feed.cards_changed()
    msg = feed.build(panel=False)
    assert [i["text"] for i in msg["items"]] == ["有S码吗"] and msg["views"]["all"] == 1
    assert "stats" not in msg and "rooms" not in msg
    await con.publish(comment_group("哈哈哈", priority=Priority.P3))  # counted only: no card moves
    await con.settle()
    assert not feed.cards_changed()
    await con.publish(comment_group("有S码吗", priority=Priority.P1, cluster="size"))  # joins the card
    await con.settle()
    assert feed.cards_changed()
    msg = feed.build(panel=True)
    assert msg["items"][0]["count"] == 2 and msg["stats"]["comments_total"] == 3
