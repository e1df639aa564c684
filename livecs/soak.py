"""``python run.py bench soak``: a simulated room at a steady rate for minutes, watching memory and the
record.

The whole pipeline runs as ``serve`` runs it (simulator → ingest → triage + scripts → SQLite, results read by
a display consumer standing in for the console) for ``--minutes``; every ``--sample-s`` it samples the
process's resident memory (RSS) and the counters. At the end it stops the pipeline the normal way (doors
closed, drain) and reports the RSS curve, the growth after warm-up (the first ``--warmup`` fraction of the
run: dedup windows, clusters and caches filling), and accepted vs what the record holds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from livecs.cli import bench_target
from livecs.keys import RESULTS_TOPIC
from livecs.keys import SOAK_DISPLAY_STAGE as SOAK_STAGE


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux ``/proc``; else the peak from ``getrusage``)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


async def run_soak(
    rate: float, minutes: float, sample_s: float, warmup: float, redis_url: str | None, seed: int
) -> dict[str, Any]:
    from livecs.config import load_settings
    from livecs.ingest.simulator import BroadcastSimulator, SimulatorSource
    from livecs.processor.live import build_processor
    from livecs.runner import open_pipeline

    settings = load_settings()
    tmp = Path(tempfile.mkdtemp(prefix="livecs-soak-"))
    settings.store.path = str(tmp / "soak.db")
    settings.scripts.library_db = str(tmp / "library.db")
    settings.redis_url = redis_url
    duration_s = minutes * 60
    sim = BroadcastSimulator(seed=seed, room="soak", rate=rate)
    source = SimulatorSource(duration_s, simulator=sim, speed=1.0)
    samples: list[dict[str, float]] = []
    stop = asyncio.Event()
    seen = 0
    async with open_pipeline(
        settings, processor=build_processor(settings), publish_results=True, default_room="soak"
    ) as pipeline:
        await pipeline.bus.declare(RESULTS_TOPIC, SOAK_STAGE)
        c = pipeline.counters

        async def display() -> None:
            nonlocal seen
            while not stop.is_set():
                got = await pipeline.bus.read(RESULTS_TOPIC, SOAK_STAGE, "soak", 2000, 50)
                seen += len(got)
                await pipeline.bus.ack(RESULTS_TOPIC, SOAK_STAGE, got)

        async def sampler(started: float) -> None:
            while True:
                samples.append(
                    {
                        "t_s": round(time.monotonic() - started, 1),
                        "rss_mb": round(rss_mb(), 1),
                        "accepted": c.accepted,
                        "recorded": c.recorded,
                        "lag_p99_ms": c.lag.quantile(0.99) * 1000,
                    }
                )
                await asyncio.sleep(sample_s)

        reader = asyncio.create_task(display())
        started = time.monotonic()
        watch = asyncio.create_task(sampler(started))
        await pipeline.run_source(source)
        elapsed = time.monotonic() - started
        watch.cancel()
        samples.append({"t_s": round(elapsed, 1), "rss_mb": round(rss_mb(), 1), "accepted": c.accepted,
                        "recorded": c.recorded, "lag_p99_ms": c.lag.quantile(0.99) * 1000})  # fmt: skip
        pipeline.complete_on_stop = True
        await pipeline.stop()
        stop.set()
        await reader
        snapshot = c.snapshot()
        rows = dict(pipeline.recorded_rows)
    with contextlib.closing(sqlite3.connect(settings.store.path)) as conn:
        in_record = int(conn.execute("SELECT COUNT(*) FROM comments").fetchone()[0])
        events = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    shutil.rmtree(tmp, ignore_errors=True)  # a 30-minute record is over a GB
    after = [s for s in samples if s["t_s"] >= warmup * elapsed] or samples[-1:]
    base = after[0]["rss_mb"]
    peak = max(s["rss_mb"] for s in after)
    return {
        "bus": "redis" if redis_url else "memory",
        "rate": rate,
        "minutes": minutes,
        "elapsed_s": round(elapsed, 1),
        "accepted": snapshot["accepted"],
        "recorded": snapshot["recorded"],
        "in_record_comments": in_record,
        "in_record_events": events,
        "recorded_equals_accepted": in_record + events == snapshot["accepted"],
        "untriaged": snapshot["untriaged"],
        "lost": snapshot["lost"],
        "rss_start_mb": samples[0]["rss_mb"],
        "rss_after_warmup_mb": base,
        "rss_peak_after_warmup_mb": peak,
        "rss_end_mb": samples[-1]["rss_mb"],
        "rss_growth_after_warmup_pct": round((peak - base) / base * 100, 1) if base else 0.0,
        "lag_p99_ms": snapshot["lag_p99_ms"],
        "results_seen_by_display": seen,
        "sessions": rows,
        "samples": samples,
    }


def cmd_soak(args: argparse.Namespace) -> int:
    result = asyncio.run(run_soak(args.rate, args.minutes, args.sample_s, args.warmup, args.redis, args.seed))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0 if result["recorded_equals_accepted"] and not result["lost"] else 1
    print(f"livecs soak: {args.rate:g} comments/s for {args.minutes:g} min on the {result['bus']} bus")
    print(f"  {'t (s)':>8} {'RSS (MB)':>9} {'accepted':>10} {'recorded':>10}")
    for s in result["samples"]:
        print(f"  {s['t_s']:>8.0f} {s['rss_mb']:>9.1f} {s['accepted']:>10} {s['recorded']:>10}")
    for key, value in result.items():
        if key not in ("samples", "sessions"):
            print(f"  {key:>30}: {value}")
    return 0 if result["recorded_equals_accepted"] and not result["lost"] else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = bench_target(subparsers, "soak", "a simulated room for minutes: RSS over time, recorded vs accepted")
    p.add_argument("--rate", type=float, default=1000.0, help="simulated comments per second")
    p.add_argument("--minutes", type=float, default=30.0, help="how long the room runs")
    p.add_argument("--sample-s", type=float, default=30.0, help="seconds between two RSS samples")
    p.add_argument("--warmup", type=float, default=0.2, help="fraction of the run counted as warm-up")
    p.add_argument("--redis", metavar="URL", help="run the bus on Redis Streams")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_soak)
