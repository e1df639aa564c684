"""Short garbage-collector pauses on the event loop that runs ingest, triage, the store and the console.

CPython's full (generation 2) collection walks every container object that survived earlier collections:
under a flood that is the console's cards, the triage and matching caches, the deduplication window… and it
stalls the one event loop for as long as that walk takes — 60–90 ms on this machine after 10 s at 2,000
comments/s, growing with the heap over a long broadcast. Two measures:

- :func:`freeze_startup_heap`: once the pipeline has started, everything allocated so far (the triage
  model, lexicons, the script library, settings) is frozen: it lives as long as the process.
- :class:`SurvivorFreezer` (installed by :func:`freeze_startup_heap`): after each full collection, what
  survived it is frozen too, so the next full collection walks only what survived since — a pause bounded
  by the recent allocation rate, not by the size of the heap (measured: 60–90 ms → ≈ 20 ms). Cyclic garbage
  among frozen objects would outlive its use (measured: a few dozen objects per 10 s at 2,000 comments/s),
  so every ``deep_every_s`` (:data:`DEEP_COLLECTION_S`) one full collection walks the whole heap again.

Collections of the young generations are untouched (raising their thresholds made each pause longer).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

#: how often one full collection walks everything again (cyclic garbage among frozen survivors is freed)
DEEP_COLLECTION_S = 600.0
OLDEST = 2  # the generation of a full collection

_heap_frozen = False


class SurvivorFreezer:
    """A :data:`gc.callbacks` entry: freezes the survivors of each full collection (see the module)."""

    def __init__(
        self, deep_every_s: float = DEEP_COLLECTION_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.deep_every_s = deep_every_s
        self.clock = clock
        self.last_deep = clock()
        self.deep_pending = False  # the next full collection walks the whole (unfrozen) heap
        self.full_collections = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != OLDEST:
            return
        self.full_collections += 1
        now = self.clock()
        if self.deep_pending:
            self.deep_pending = False
            self.last_deep = now
        elif now - self.last_deep >= self.deep_every_s:
            gc.unfreeze()  # the next full collection walks everything once
            self.deep_pending = True
            return
        gc.freeze()


def installed() -> SurvivorFreezer | None:
    """The process's :class:`SurvivorFreezer`, if one is installed."""
    return next((cb for cb in gc.callbacks if isinstance(cb, SurvivorFreezer)), None)


def freeze_survivors(deep_every_s: float = DEEP_COLLECTION_S) -> SurvivorFreezer:
    """Install the :class:`SurvivorFreezer` (once per process; returns the installed one)."""
    freezer = installed()
    if freezer is None:
        freezer = SurvivorFreezer(deep_every_s)
        gc.callbacks.append(freezer)
    return freezer


def release() -> None:
    """Undo :func:`freeze_startup_heap`: the freezer is removed and everything frozen is collectable again."""
    global _heap_frozen
    gc.callbacks[:] = [cb for cb in gc.callbacks if not isinstance(cb, SurvivorFreezer)]
    gc.unfreeze()
    _heap_frozen = False


def freeze_startup_heap() -> None:
    """Freeze everything allocated so far and install the :class:`SurvivorFreezer`: later full collections
    walk only what survived since the previous one. Once per process (the first pipeline: what a command
    runs)."""
    global _heap_frozen
    if _heap_frozen:
        return
    _heap_frozen = True
    gc.collect()
    gc.freeze()
    freeze_survivors()
