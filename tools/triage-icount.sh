#!/usr/bin/env bash
# Instructions per comment of the triage engine, counted by valgrind (repeatable on a noisy machine).
# usage: tools/triage-icount.sh [realistic|unique] [N]     (run from the repository root; apt-get install valgrind)
set -euo pipefail
kind=${1:-realistic}
n=${2:-4000}
py=${PYTHON:-.venv/bin/python}
count() {
  local out
  out=$(mktemp)
  PYTHONPATH=. valgrind --tool=callgrind --callgrind-out-file=/dev/null "$py" tools/triage_icount.py "$kind" "$1" \
    >/dev/null 2>"$out"
  grep -o 'Collected : [0-9]*' "$out" | grep -o '[0-9]*$'
  rm -f "$out"
}
base=$(count 0)
total=$(count "$n")
echo "$kind: $(( (total - base) / n )) instructions per comment ($n comments)"
