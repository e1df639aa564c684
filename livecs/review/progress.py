"""A plain terminal progress bar on stderr (no dependency):
``[#####-----]  52%  导出 comments 520,000/1,000,000``.

Redraws at most every ``interval_s`` seconds in place on a terminal; on a pipe or file it prints one line
per stage change and at most one line per ``LINE_INTERVAL_S`` seconds, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30
LINE_INTERVAL_S = 5.0
PERCENT = 100


class TerminalProgress:
    """Callable ``progress(stage, done, total)`` for :func:`livecs.review.build.build_review`."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.25) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval_s if self.tty else LINE_INTERVAL_S
        self._stage = ""
        self._last = 0.0
        self._started = time.monotonic()
        self._width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total > 0 and done >= total
        if stage == self._stage and not finished and now - self._last < self.interval:
            return
        self._stage, self._last = stage, now
        frac = min(1.0, done / total) if total > 0 else 0.0
        filled = int(frac * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"[{bar}] {int(frac * PERCENT):3d}%  {stage} {done:,}/{total:,}  {now - self._started:6.1f}s"
        if self.tty:
            self.stream.write("\r" + line.ljust(self._width) + ("\n" if finished else ""))
            self._width = 0 if finished else len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self) -> None:
        """End an unfinished bar's line."""
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0
