"""Instruction count of the triage engine per comment (robust on a noisy machine).

Run under ``valgrind --tool=callgrind`` by ``tools/triage-icount.sh``: once with N comments and once with none
(imports, model load); the difference divided by N is the engine's cost per comment in instructions.
"""

from __future__ import annotations

import sys

from livecs.triage import bench
from livecs.triage.engine import TriageEngine


def main() -> None:
    kind, n = sys.argv[1], int(sys.argv[2])
    if kind == "realistic":
        comments = bench.realistic_comments(20_000)[0][:n]
    else:
        comments = bench.unique_comments(max(n, 1))[:n]
    engine = TriageEngine.from_config()
    for comment in comments:
        engine.triage(comment, comment.ts)


if __name__ == "__main__":
    main()
