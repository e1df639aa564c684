"""Short garbage-collector pauses on the event loop that runs ingest, triage, the store and the console.

CPython's full (generation 2) collection walks every container object that survived earlier collections:
under a flood that is the console's cards, the triage and matching caches, the deduplication window… and it
stalls the one event loop for as long as that walk takes — 60–90 ms on this machine after 10 s at 2,000
comments/s, growing with the heap over a long broadcast. Two measures:

- :func:`freeze_startup_heap`: once the pipeline has started, everything allocated so far (the triage
  model, lexicons, the script library, settings) is frozen: it lives as long as the process; the console,
  started next, freezes its own with :func:`freeze_more_startup`.
- :class:`SurvivorFreezer` (installed by :func:`freeze_startup_heap`): after each full collection, what
  survived it is frozen too, so the next full collection walks only what survived since — a pause bounded
  by the recent allocation rate, not by the size of the heap. And a full collection follows every
  collection of the middle generation (threshold 10 → 1), so each walks little: measured at 2,000
  comments/s, the in-run full collections went from 40–100 ms (two in 10 s) to 3–16 ms (a dozen). Cyclic
  garbage among frozen objects would outlive its use (none measurable after a 10-s run: the same count is
  freed by a final unfrozen collection with or without the freezer), so every ``deep_every_s``
  (:data:`DEEP_COLLECTION_S`) one full collection walks the whole heap again.

The young generation's threshold is untouched: raising it (700 → 5,000–10,000) made each pause longer.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

#: how often one full collection walks everything again (cyclic garbage among frozen survivors is freed)
DEEP_COLLECTION_S = 600.0
OLDEST = 2  # the generation of a full collection
#: a full collection after every collection of the middle generation (CPython's default: every 10th)
FULL_AFTER_MIDDLE = 1

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
        self.thresholds = gc.get_threshold()  # as they were before the freezer (restored by release())

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
    """Install the :class:`SurvivorFreezer` and a full collection after every middle one (once per process;
    returns the installed freezer)."""
    freezer = installed()
    if freezer is None:
        freezer = SurvivorFreezer(deep_every_s)
        young, middle, oldest = gc.get_threshold()
        freezer.thresholds = (young, middle, oldest)
        gc.set_threshold(young, middle, FULL_AFTER_MIDDLE)
        gc.callbacks.append(freezer)
    return freezer


def release() -> None:
    """Undo :func:`freeze_startup_heap`: the freezer is removed and everything frozen is collectable again."""
    global _heap_frozen
    freezer = installed()
    if freezer is not None:
        gc.set_threshold(*freezer.thresholds)
    gc.callbacks[:] = [cb for cb in gc.callbacks if not isinstance(cb, SurvivorFreezer)]
    gc.unfreeze()
    _heap_frozen = False


def freeze_more_startup() -> None:
    """A later start-up step (the console on a running pipeline) allocated for the process's life: freeze
    that too, now, before traffic (only where :func:`freeze_startup_heap` ran)."""
    if _heap_frozen:
        gc.collect()
        gc.freeze()


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
