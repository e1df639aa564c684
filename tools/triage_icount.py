"""Instruction count of the triage engine per comment (robust on a noisy machine).

Run under ``valgrind --tool=callgrind --collect-atstart=no --toggle-collect=deque_extend`` by
``tools/triage-icount.sh``: imports, model load, reading the comments and (real rooms) the first
:data:`livecs.triage.bench.REAL_WARMUP` comments run uncounted; only the N timed comments, consumed inside
``collections.deque.extend``, are counted.
"""

from __future__ import annotations

import collections
import sys

from livecs.triage import bench
from livecs.triage.engine import TriageEngine


def main() -> None:
    kind, n = sys.argv[1], int(sys.argv[2])
    warm = 0
    if kind == "realistic":
        comments = bench.realistic_comments(20_000)[0]
    elif kind == "real":
        comments, warm = bench.real_room_comments(), bench.REAL_WARMUP
    else:
        comments = bench.unique_comments(max(n, 1))
    engine = TriageEngine.from_config()
    triage = engine.triage
    for comment in comments[:warm]:
        triage(comment, comment.ts)
    collections.deque((triage(c, c.ts) for c in comments[warm : warm + n]), maxlen=0)  # counted


if __name__ == "__main__":
    main()
