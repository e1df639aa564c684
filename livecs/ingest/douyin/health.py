"""Capture health of a live-room source, pure (time is passed in): what an operator needs to trust capture.

:class:`CaptureHealth` counts webcast messages per method in one-second buckets over ``window_s`` and
reports, in :meth:`CaptureHealth.snapshot` (the ``capture`` object of ``GET /api/stats``):

- ``rates``: messages per second per method over the window (``total`` all methods);
- ``last_message_age_s`` and ``last_chat_age_s``: seconds since the last message / the last chat
  (``None`` before the first);
- ``reconnects``, ``connects``, ``frames``, ``messages``;
- ``drops``: dropped frames and messages by reason (codec drops, malformed and unknown messages);
- ``stalled``: the room is live (connected, the live not ended) and no chat arrived for ``stall_after_s``
  (counted from the connection when no chat came yet) — the console raises its 弹幕停滞 alert on it.
  Douyin connections are known to stay open yet stop pushing; this is how that is seen.

Thread-safe (one lock): the client may pump a large frame on a worker thread while the console reads a
snapshot on the event loop.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

DEFAULT_WINDOW_S: Final = 60
DEFAULT_STALL_AFTER_S: Final = 60.0
CHAT_METHODS: Final = frozenset({"WebcastChatMessage"})


@dataclass
class CaptureHealth:
    window_s: int = DEFAULT_WINDOW_S
    stall_after_s: float = DEFAULT_STALL_AFTER_S
    drops: Counter[str] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    connects: int = 0
    reconnects: int = 0
    live: bool = False  # connected to a room that has not ended
    ended: bool = False
    last_message: float | None = None
    last_chat: float | None = None
    live_since: float | None = None
    _buckets: deque[tuple[int, Counter[str]]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def frame(self, now: float) -> None:
        with self._lock:
            self.frames += 1

    def message(self, method: str, now: float) -> None:
        second = int(now)
        with self._lock:
            if not self._buckets or self._buckets[-1][0] != second:
                self._buckets.append((second, Counter()))
                self._trim(second)
            self._buckets[-1][1][method] += 1
            self.totals[method] += 1
            self.last_message = now
            if method in CHAT_METHODS:
                self.last_chat = now

    def drop(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self.drops[reason] += n

    def connected(self, now: float) -> None:
        with self._lock:
            if self.connects:
                self.reconnects += 1
            self.connects += 1
            self.live = not self.ended
            self.live_since = now

    def disconnected(self) -> None:
        with self._lock:
            self.live = False

    def live_ended(self) -> None:
        with self._lock:
            self.ended = True
            self.live = False

    def _trim(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] <= second - self.window_s:
            self._buckets.popleft()

    def rates(self, now: float) -> dict[str, float]:
        with self._lock:
            return self._rates(now)

    def _rates(self, now: float) -> dict[str, float]:
        self._trim(int(now))
        summed: Counter[str] = Counter()
        for _, bucket in self._buckets:
            summed.update(bucket)
        out = {m: round(n / self.window_s, 3) for m, n in sorted(summed.items())}
        out["total"] = round(sum(summed.values()) / self.window_s, 3)
        return out

    def stalled(self, now: float) -> bool:
        with self._lock:
            return self._stalled(now)

    def _stalled(self, now: float) -> bool:
        if not self.live:
            return False
        since = self.last_chat if self.last_chat is not None else self.live_since
        return since is not None and now - since >= self.stall_after_s

    def snapshot(self, now: float) -> dict[str, Any]:
        def age(t: float | None) -> float | None:
            return round(max(0.0, now - t), 1) if t is not None else None

        with self._lock:
            return self._snapshot(now, age)

    def _snapshot(self, now: float, age: Callable[[float | None], float | None]) -> dict[str, Any]:
        return {
            "rates": self._rates(now),
            "window_s": self.window_s,
            "last_message_age_s": age(self.last_message),
            "last_chat_age_s": age(self.last_chat),
            "frames": self.frames,
            "messages": sum(self.totals.values()),
            "by_method": dict(self.totals),
            "connects": self.connects,
            "reconnects": self.reconnects,
            "drops": dict(self.drops),
            "dropped": sum(self.drops.values()),
            "live": self.live,
            "ended": self.ended,
            "stalled": self._stalled(now),
            "stall_after_s": self.stall_after_s,
        }
