"""``python run.py bench triage``: engine throughput on one core.

(a) realistic replay: the broadcast simulator (natural repetition) — falls back to the real Bilibili danmaku
    file when the simulator is not importable; (b) all-unique comments (every text distinct, cold caches);
(c) real rooms: the 36 real selling rooms of ``../shared/data/real/commerce_rooms_dev.csv`` in each room's
    order (84 % distinct texts), on a fresh engine, the first :data:`REAL_WARMUP` comments not timed — when
    the file is there; (d) the naive baseline per comment: jieba cut + snownlp sentiment + rapidfuzz WRatio
    over a ~300-string library (skipped, saying what to install, without the benchmark-only packages of
    ``requirements-dev.txt``; see :mod:`livecs.triage.baselines`). Reports comments/s, the ratios to the
    baseline and p50/p99 per-comment latency.
"""

from __future__ import annotations

import csv
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from livecs.models import Comment, MemberTier
from livecs.triage import baselines
from livecs.triage.engine import TriageEngine
from livecs.triage.examples import load_hand_examples
from livecs.triage.real_data import REAL_DIR
from livecs.triage.template_examples import synthetic_examples

BILIBILI_CSV = REAL_DIR / "bilibili_room11365_danmaku.csv"
NAIVE_LIBRARY_SIZE = 300  # strings the naive baseline fuzzy-matches every comment against
NAIVE_MAX_N = 600  # the naive baseline is ~400/s: a few hundred comments measure it well
UNIQUE_GAP_S = 0.001  # simulated seconds between unique comments (a busy room)
REAL_ROOMS_CSV = REAL_DIR / "commerce_rooms_dev.csv"
REAL_WARMUP = 2_000  # real-rooms comments run before timing starts (imports, first cache entries)


def real_room_comments(path: Path = REAL_ROOMS_CSV) -> list[Comment]:
    """The real rooms' comments, room after room, each in its own time order (as ``eval-rooms`` replays)."""
    from livecs.triage.rooms import read_rooms

    rows = read_rooms(path)
    rows.sort(key=lambda r: (r.room, r.ts, r.row))
    return [
        Comment(
            comment_id=f"{r.room}#{r.row}",
            platform=r.platform,
            room=r.room,
            user_id=r.user_id,
            nickname="",
            text=r.text,
            ts=r.ts,
        )
        for r in rows
        if r.text
    ]


def realistic_comments(n: int) -> tuple[list[Comment], str]:
    try:
        from livecs.ingest.simulator import BroadcastSimulator
    except ImportError:
        return bilibili_comments(n), "bilibili_room11365_danmaku.csv"
    return BroadcastSimulator(seed=7, room="bench").generate_comments(n), "simulator(seed=7)"


def bilibili_comments(n: int, path: Path = BILIBILI_CSV) -> list[Comment]:
    out: list[Comment] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i >= n:
                break
            out.append(
                Comment(
                    comment_id=f"bili-{i}",
                    platform="bilibili",
                    room="bench-bili",
                    user_id=row["user"],
                    nickname="",
                    text=row["text"],
                    ts=float(row["delta_s"]),
                )
            )
    return out


def unique_comments(n: int) -> list[Comment]:
    """``n`` comments with pairwise different texts (template and hand-written phrasings, numbered)."""
    texts = [e.text for e in load_hand_examples()] + [e.text for e in synthetic_examples(seed=99)]
    pool = list(dict.fromkeys(texts))
    out = []
    for i in range(n):
        base = pool[i % len(pool)]
        text = base if i < len(pool) else f"{base} {i // len(pool)}号"
        out.append(
            Comment(
                comment_id=f"u-{i}",
                platform="bench",
                room="bench-unique",
                user_id=f"user-{i % 5000}",
                nickname="",
                text=text,
                ts=i * UNIQUE_GAP_S,
                member_tier=MemberTier(i % 5),
            )
        )
    return out


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def measure(process: Callable[[Comment, float], Any], comments: list[Comment]) -> dict[str, float]:
    """Throughput (comments/s) and per-comment latency percentiles (µs).

    ``per_s`` divides by the process's CPU time (one core's throughput, robust to other processes on a
    shared machine); ``wall_per_s`` divides by wall-clock time."""
    latencies: list[float] = []
    clock = time.perf_counter_ns
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        started = clock()
        cpu_started = time.process_time()
        for comment in comments:
            t0 = clock()
            process(comment, comment.ts)
            latencies.append((clock() - t0) / 1000.0)
        elapsed = (clock() - started) / 1e9
        cpu_elapsed = time.process_time() - cpu_started
    finally:
        if gc_was_enabled:
            gc.enable()
    latencies.sort()
    return {
        "per_s": len(comments) / cpu_elapsed if cpu_elapsed else 0.0,
        "wall_per_s": len(comments) / elapsed if elapsed else 0.0,
        "p50_us": _percentile(latencies, 0.50),
        "p99_us": _percentile(latencies, 0.99),
    }


def naive_processor() -> Callable[[Comment, float], Any]:
    import jieba
    from rapidfuzz import fuzz, process
    from snownlp import SnowNLP

    jieba.setLogLevel(60)
    jieba.initialize()
    library = [e.text for e in load_hand_examples()][:NAIVE_LIBRARY_SIZE]

    def run(comment: Comment, now: float) -> Any:
        words = jieba.lcut(comment.text)
        try:
            sentiment = SnowNLP(comment.text).sentiments if comment.text.strip() else 0.5
        except Exception:
            sentiment = 0.5
        return words, sentiment, process.extractOne(comment.text, library, scorer=fuzz.WRatio)

    return run


def run_bench(
    n: int = 20_000, n_unique: int | None = None, n_naive: int | None = None, real_rooms: bool = True
) -> dict[str, Any]:
    n_unique = n_unique or max(1, n // 4)
    n_naive = n_naive or min(NAIVE_MAX_N, max(1, n // 20))
    comments, source = realistic_comments(n)
    engine = TriageEngine.from_config()
    realistic = measure(engine.triage, comments)
    engine_unique = TriageEngine.from_config()
    unique = measure(engine_unique.triage, unique_comments(n_unique))
    lacking = baselines.missing(baselines.NAIVE_PACKAGES)
    naive = (
        {"per_s": 0.0, "wall_per_s": 0.0, "p50_us": 0.0}
        if lacking
        else measure(naive_processor(), comments[:n_naive])
    )
    real: dict[str, Any] = {}
    if real_rooms and REAL_ROOMS_CSV.exists():
        real_comments = real_room_comments()
        engine_real = TriageEngine.from_config()
        for comment in real_comments[:REAL_WARMUP]:
            engine_real.triage(comment, comment.ts)
        timed = measure(engine_real.triage, real_comments[REAL_WARMUP:])
        real = {
            "real_rooms_n": len(real_comments) - REAL_WARMUP,
            "real_rooms_per_s": round(timed["per_s"], 1),
            "real_rooms_wall_per_s": round(timed["wall_per_s"], 1),
            "real_rooms_vs_naive": round(timed["per_s"] / naive["per_s"], 1) if naive["per_s"] else None,
            "real_rooms_p50_us": round(timed["p50_us"], 1),
            "real_rooms_p99_us": round(timed["p99_us"], 1),
        }
    result = {
        **real,
        "realistic_source": source,
        "realistic_n": len(comments),
        "unique_n": n_unique,
        "naive_n": min(n_naive, len(comments)),
        "realistic_per_s": round(realistic["per_s"], 1),
        "unique_per_s": round(unique["per_s"], 1),
        "naive_per_s": round(naive["per_s"], 1),
        "realistic_wall_per_s": round(realistic["wall_per_s"], 1),
        "unique_wall_per_s": round(unique["wall_per_s"], 1),
        "naive_wall_per_s": round(naive["wall_per_s"], 1),
        "realistic_vs_naive": round(realistic["per_s"] / naive["per_s"], 1) if naive["per_s"] else None,
        "unique_vs_naive": round(unique["per_s"] / naive["per_s"], 1) if naive["per_s"] else None,
        "p50_us": round(realistic["p50_us"], 1),
        "p99_us": round(realistic["p99_us"], 1),
        "unique_p50_us": round(unique["p50_us"], 1),
        "unique_p99_us": round(unique["p99_us"], 1),
        "naive_p50_us": round(naive["p50_us"], 1),
        "state_after_realistic": engine.state_size(),
    }
    if lacking:  # no baseline figures: they would read as measured zeros
        for key in [k for k in result if "naive" in k]:
            result[key] = None
        result["naive_skipped"] = baselines.skipped("naive baseline", lacking)
    return result


def format_bench(result: dict[str, Any]) -> str:
    if result.get("naive_skipped"):
        naive_lines = [f"  naive baseline    ({result['naive_skipped']})"]
    else:
        naive_lines = [
            f"  naive baseline    {result['naive_per_s']:>10,.0f} comments/s   n={result['naive_n']}"
            f"   p50 {result['naive_p50_us']:.1f} µs  (jieba + snownlp + WRatio over {NAIVE_LIBRARY_SIZE})",
            f"  ratios: realistic/naive ×{result['realistic_vs_naive']},"
            f" unique/naive ×{result['unique_vs_naive']}",
        ]
    naive_wall = "" if result.get("naive_skipped") else f", naive {result['naive_wall_per_s']:,.0f}/s"
    return "\n".join(
        [
            f"triage bench (one core, comments per CPU-second; realistic = {result['realistic_source']})",
            f"  realistic replay  {result['realistic_per_s']:>10,.0f} comments/s   n={result['realistic_n']}"
            f"   p50 {result['p50_us']:.1f} µs  p99 {result['p99_us']:.1f} µs",
            f"  all unique        {result['unique_per_s']:>10,.0f} comments/s   n={result['unique_n']}"
            f"   p50 {result['unique_p50_us']:.1f} µs  p99 {result['unique_p99_us']:.1f} µs",
            *(
                [
                    f"  real rooms        {result['real_rooms_per_s']:>10,.0f} comments/s   "
                    f"n={result['real_rooms_n']}   p50 {result['real_rooms_p50_us']:.1f} µs  "
                    f"p99 {result['real_rooms_p99_us']:.1f} µs  (×{result['real_rooms_vs_naive']} naive)"
                ]
                if "real_rooms_per_s" in result
                else ["  real rooms        (../shared/data/real/commerce_rooms_dev.csv not found)"]
            ),
            *naive_lines,
            f"  wall clock: realistic {result['realistic_wall_per_s']:,.0f}/s, unique"
            f" {result['unique_wall_per_s']:,.0f}/s{naive_wall}",
        ]
    )
