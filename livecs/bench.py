"""``python run.py bench pipeline``: the whole pipeline under a paced or unpaced simulated broadcast.

Measures what an operator feels: comments/s through ingest → triage/scripts → store, the ingest→stored lag
and the ingest→display latency (a consumer of the ``results`` topic standing in for the console), with the
real processor and the demo library. Paced mode (``--rate N``) checks the latency budget at a given load;
``--speed max`` measures the ceiling. Runs on the in-process bus, or on Redis with ``--redis URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from livecs.config import load_settings
from livecs.models import Result
from livecs.pipeline import RESULTS_TOPIC

BENCH_STAGE = "bench-display"


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_pipeline_bench(
    rate: float, duration_s: float, speed: float | None, redis_url: str | None, seed: int
) -> dict[str, Any]:
    from livecs.app import open_pipeline
    from livecs.ingest.simulator import BroadcastSimulator, SimulatorSource
    from livecs.stages import build_processor

    settings = load_settings()
    tmp = Path(tempfile.mkdtemp(prefix="livecs-bench-"))
    settings.store.path = str(tmp / "bench.db")
    settings.scripts.library_db = str(tmp / "library.db")
    settings.redis_url = redis_url
    settings.pipeline.shed_display_priorities = []  # measure every result
    processor = build_processor(settings)
    sim = BroadcastSimulator(seed=seed, room="bench", rate=rate)
    source = SimulatorSource(duration_s, simulator=sim, speed=speed)
    latencies: list[float] = []
    stop = asyncio.Event()

    async with open_pipeline(settings, processor=processor, publish_results=True) as pipeline:
        await pipeline.bus.declare(RESULTS_TOPIC, BENCH_STAGE)

        async def display() -> None:
            while not stop.is_set():
                got = await pipeline.bus.read(RESULTS_TOPIC, BENCH_STAGE, "bench", 2000, 50)
                now = time.time()
                latencies.extend(
                    now - d.record.comment.received_at for d in got if isinstance(d.record, Result)
                )
                await pipeline.bus.ack(RESULTS_TOPIC, BENCH_STAGE, got)

        reader = asyncio.create_task(display())
        started = time.perf_counter()
        await pipeline.run_source(source)
        await pipeline.drain(60)
        elapsed = time.perf_counter() - started
        while len(latencies) < pipeline.counters.processed - sum(pipeline.counters.events.values()):
            await asyncio.sleep(0.05)
            if time.perf_counter() - started > elapsed + 30:
                break
        stop.set()
        await reader
        counters = pipeline.counters.snapshot()
    comments = len(latencies)
    return {
        "mode": "paced" if speed else "max",
        "bus": "redis" if redis_url else "memory",
        "target_rate": rate if speed else None,
        "accepted": counters["accepted"],
        "recorded": counters["recorded"],
        "elapsed_s": round(elapsed, 2),
        "throughput_per_s": round(counters["accepted"] / elapsed, 1) if elapsed else 0.0,
        "display_p50_ms": round(_quantile(latencies, 0.5) * 1000, 2),
        "display_p99_ms": round(_quantile(latencies, 0.99) * 1000, 2),
        "display_mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
        "stored_p99_ms": counters["lag_p99_ms"],
        "comments_seen_by_display": comments,
    }


def cmd_bench_pipeline(args: argparse.Namespace) -> int:
    speed = None if args.speed == "max" else float(args.speed)
    result = asyncio.run(run_pipeline_bench(args.rate, args.duration, speed, args.redis, args.seed))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print("livecs pipeline bench (simulator → ingest → triage+scripts → store → display)")
        for key, value in result.items():
            print(f"  {key:>26}: {value}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = subparsers.choices.get("bench")
    if bench is None:
        bench = subparsers.add_parser("bench", help="benchmarks")
    targets = next(
        (a for a in bench._actions if isinstance(a, argparse._SubParsersAction)),
        None,
    )
    if targets is None:
        targets = bench.add_subparsers(dest="bench_target", metavar="<target>", required=True)
    p = targets.add_parser("pipeline", help="end-to-end pipeline throughput and ingest→display latency")
    p.add_argument("--rate", type=float, default=2000.0, help="simulated comments per second (paced mode)")
    p.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    p.add_argument("--speed", default="1", help="1 = real pace at --rate; 'max' = as fast as possible")
    p.add_argument("--redis", metavar="URL", help="run the bus on Redis Streams")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_bench_pipeline)
