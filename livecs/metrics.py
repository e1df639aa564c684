"""Pipeline counters (received, rejected by reason, processed, recorded, shed, lag) and throttled logging.

One :class:`Counters` object per process; the console and the demo summary read :meth:`Counters.snapshot`.
Bad input is logged once per reason per interval (:class:`ThrottledLog`), so a flood of garbage costs a
counter increment, not a log line each.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ThrottledLog:
    """Logs a message for a key at most once per ``interval_s``, reporting how many were suppressed."""

    def __init__(self, logger: logging.Logger, interval_s: float = 60.0) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def warning(self, key: str, msg: str, *args: Any, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._suppressed[key] += 1
            return False
        self._last[key] = now
        extra = self._suppressed.pop(key, 0)
        if extra:
            msg += f" (+{extra} more since last report)"
        self.logger.warning(msg, *args)
        return True


@dataclass
class LagStats:
    """Recent ingest→processed delays in seconds (bounded sample)."""

    samples: deque[float] = field(default_factory=lambda: deque(maxlen=4096))

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def quantile(self, q: float) -> float:
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Counters:
    received: int = 0  # raw inputs seen (records, lines, objects)
    accepted: int = 0  # records published on the bus
    rejected: Counter[str] = field(default_factory=Counter)  # by reason
    cleaned: Counter[str] = field(default_factory=Counter)  # accepted after a fix (truncated…)
    processed: int = 0  # records through the processing stage
    recorded: int = 0  # comments newly written to the store
    events: Counter[str] = field(default_factory=Counter)  # non-comment events by kind
    buy_signals: int = 0  # paid orders + buy-signal comments
    shed_display: int = 0  # results not pushed to displays (never from the record)
    process_errors: int = 0
    refused: int = 0  # valid records refused with "unavailable" (stopping / bus away): never accepted
    untriaged: int = 0  # accepted records written to the record without triage (stop deadline, outage)
    lost: int = 0  # accepted records that could not be recorded at all (said loudly; should stay 0)
    stopping: str = ""  # "" while running, else what the stop is doing ("draining", "flushing", "closed")
    sources: dict[str, str] = field(default_factory=dict)  # source name -> status
    lag: LagStats = field(default_factory=LagStats)
    queue_depths: dict[str, int] = field(default_factory=dict)
    bus_health: dict[str, int] = field(default_factory=dict)  # Bus.health(): dropped / dead-lettered entries
    #: capture health of live-platform sources: source name -> snapshot function (Ingestor.register_capture)
    capture: dict[str, Callable[[], dict[str, Any]]] = field(default_factory=dict)
    bus_status: dict[str, Any] = field(default_factory=lambda: {"state": "ok"})  # Bus.status(): reachable?
    started: float = field(default_factory=time.time)

    def reject(self, reason: str, n: int = 1) -> None:
        self.rejected[reason] += n

    def capture_snapshot(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, fn in list(self.capture.items()):
            try:
                out[name] = fn()
            except Exception as exc:  # a source's health must never break the stats
                out[name] = {"error": repr(exc)}
        return out

    def snapshot(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "rejected": dict(self.rejected),
            "rejected_total": sum(self.rejected.values()),
            "cleaned": dict(self.cleaned),
            "processed": self.processed,
            "recorded": self.recorded,
            "events": dict(self.events),
            "buy_signals": self.buy_signals,
            "shed_display": self.shed_display,
            "process_errors": self.process_errors,
            "refused": self.refused,
            "untriaged": self.untriaged,
            "lost": self.lost,
            "stopping": self.stopping,
            "bus_status": dict(self.bus_status),
            "sources": dict(self.sources),
            "queue_depths": dict(self.queue_depths),
            "bus": dict(self.bus_health),
            "capture": self.capture_snapshot(),
            "lag_p50_ms": round(self.lag.quantile(0.5) * 1000, 2),
            "lag_p99_ms": round(self.lag.quantile(0.99) * 1000, 2),
            "uptime_s": round(time.time() - self.started, 1),
        }
