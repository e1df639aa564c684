#!/usr/bin/env bash
# Instructions per comment of the triage engine, counted by valgrind (repeatable on a noisy machine).
# usage: tools/triage-icount.sh [realistic|unique|real] [N]   (run from the repository root; apt-get install valgrind)
# real = the real selling rooms of ../shared/data/real/commerce_rooms_dev.csv in order, after 2,000 uncounted.
set -euo pipefail
kind=${1:-realistic}
n=${2:-4000}
py=${PYTHON:-.venv/bin/python}
out=$(mktemp)
PYTHONHASHSEED=0 PYTHONPATH=. valgrind --tool=callgrind --callgrind-out-file=/dev/null --collect-atstart=no \
  --toggle-collect=deque_extend "$py" tools/triage_icount.py "$kind" "$n" >/dev/null 2>"$out"
total=$(grep -o 'Collected : [0-9]*' "$out" | grep -o '[0-9]*$')
rm -f "$out"
echo "$kind: $(( total / n )) instructions per comment ($n comments)"
