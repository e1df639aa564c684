"""When a console's next websocket push is due: a pure schedule (times are passed in, nothing sleeps here).

What an operator needs under a flood: a new or changed card on screen fast, without the page re-rendering
for every comment. So a change to a card the client shows (a new card, a member joining, an action) is
pushed **promptly**: ``coalesce_s`` after the first such change (the comments arriving meanwhile ride along),
and never sooner than ``min_gap_s`` after the previous push (the bound on the browser's render rate, from
``console.max_push_per_s``). Everything else — the live panel's numbers, the room switcher, a streamer's
view — is refreshed at most every ``panel_gap_s`` (``console.panel_push_per_s``), and at least every
``idle_s`` even when nothing changed (ages, alerts).

Under a steady stream a card change is therefore on the wire within ``min_gap_s + coalesce_s`` of reaching
the console's state (plus the time to build and send one message).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class PushSchedule:
    """One client's push timing (see the module). Feed it :meth:`changed`, ask :meth:`due`, tell it
    :meth:`sent`; :meth:`panel_due` says whether a push should carry the live panel."""

    coalesce_s: float
    min_gap_s: float
    panel_gap_s: float
    idle_s: float
    last_sent: float = -math.inf
    last_panel: float = -math.inf
    cards_since: float | None = None  # the first card change not pushed yet
    panel_since: float | None = None  # the first other change not pushed yet

    def changed(self, now: float, cards: bool) -> None:
        """The room changed at ``now``; ``cards``: a card the client shows changed (or its order did)."""
        if cards and self.cards_since is None:
            self.cards_since = now
        if self.panel_since is None:
            self.panel_since = now  # every change moves some number on the live panel

    @property
    def cards_pending(self) -> bool:
        return self.cards_since is not None

    def due(self) -> float:
        """When the next push should go (possibly in the past: push now)."""
        floor = self.last_sent + self.min_gap_s
        when = self.last_panel + max(self.idle_s, self.panel_gap_s)  # the idle refresh
        if self.panel_since is not None:
            when = min(when, max(self.panel_since + self.coalesce_s, self.last_panel + self.panel_gap_s))
        if self.cards_since is not None:
            when = min(when, self.cards_since + self.coalesce_s)
        return max(when, floor)

    def panel_due(self, now: float) -> bool:
        """Whether a push at ``now`` also carries the live panel (at most every ``panel_gap_s``)."""
        return now >= self.last_panel + self.panel_gap_s

    def sent(self, now: float, panel: bool) -> None:
        """A push went at ``now``, with the live panel or without it."""
        self.last_sent = now
        self.cards_since = None
        if panel:
            self.last_panel = now
            self.panel_since = None
