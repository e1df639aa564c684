"""``python run.py bench pipeline``: the whole pipeline under a paced or unpaced simulated broadcast.

Measures what an operator feels: comments/s through ingest → triage/scripts → store, the ingest→stored lag
and the ingest→display latency, with the real processor and the demo library. Paced mode (``--rate N``) checks
the latency budget at a given load; ``--speed max`` measures the ceiling. Runs on the in-process bus, or on
Redis with ``--redis URL``.

Two displays: by default a consumer of the ``results`` topic stands in for the console; with ``--ws`` the
real console app is served (port 0), a client logs in as an operator and subscribes to ``/ws?view=console``
as a browser does, and the display latency of a comment is the time from its ingest (``received_at``) to the
arrival of the FIRST websocket push that contains it — its own card, or its cluster card with a member count
that includes it. The console pushes a changed card ``console.push_coalesce_ms`` after the change, never more
than ``console.max_push_per_s`` messages a second per client (see :mod:`livecs.console.push`), so under a
flood a comment waits up to one push gap by design. Comments that get no card (P3 counted only, muted
senders) or whose card is never among the pushed (``queue_visible``) cards are counted, not timed.
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

from livecs.cli import bench_target
from livecs.config import ConsoleUser, Settings, load_settings
from livecs.keys import BENCH_DISPLAY_STAGE as BENCH_STAGE
from livecs.keys import RESULTS_TOPIC
from livecs.models import Result


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run_figures(display: str, rate: float, speed: float | None, redis_url: str | None) -> dict[str, Any]:
    """What a bench run was: paced or flat out, on which bus, timed at which display."""
    return {
        "mode": "paced" if speed else "max",
        "bus": "redis" if redis_url else "memory",
        "display": display,
        "target_rate": rate if speed else None,
    }


def _display_figures(counters: dict[str, Any], elapsed: float, latencies: list[float]) -> dict[str, Any]:
    """Throughput and ingest→display latency (``latencies`` in seconds) of a bench run."""
    return {
        "accepted": counters["accepted"],
        "recorded": counters["recorded"],
        "elapsed_s": round(elapsed, 2),
        "throughput_per_s": round(counters["accepted"] / elapsed, 1) if elapsed else 0.0,
        "display_p50_ms": round(_quantile(latencies, 0.5) * 1000, 2),
        "display_p99_ms": round(_quantile(latencies, 0.99) * 1000, 2),
        "display_mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
    }


async def run_pipeline_bench(
    rate: float, duration_s: float, speed: float | None, redis_url: str | None, seed: int
) -> dict[str, Any]:
    from livecs.ingest.simulator import BroadcastSimulator, SimulatorSource
    from livecs.processor.live import build_processor
    from livecs.runner import open_pipeline

    settings = _bench_settings(redis_url)
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
    return {
        **_run_figures("results-topic consumer", rate, speed, redis_url),
        **_display_figures(counters, elapsed, latencies),
        "stored_p99_ms": counters["lag_p99_ms"],
        "comments_seen_by_display": len(latencies),
    }


class CardTracker:
    """Which card each comment joined, and with which member count (wraps the hub's ``ingest``).

    After each batch the hub applied, a comment that got or joined a card among the cards a console is sent
    (the ``queue_visible`` most urgent) is noted as ``(item id, count)``: the first push carrying that card
    with at least that count contains the comment. A comment whose card is not among them then is counted
    in ``hidden`` (it reaches a screen only if its card rises later: a queue effect, not display latency)."""

    def __init__(self) -> None:
        self.joined: dict[str, tuple[str, int, float]] = {}  # comment id -> (item id, count, received_at)
        self.comments = 0
        self.applied: list[float] = []  # ingest → in the console's state, seconds (every comment)
        self.hidden = 0

    def wrap(self, hub: Any) -> None:
        original = hub.ingest

        def ingest(deliveries: list[Any]) -> None:
            original(deliveries)
            now = time.time()
            later: dict[str, int] = {}  # joins of each card after this comment in the batch
            shown = {
                room: {i.item_id for i in st.visible()[0]} for room, st in hub.rooms.items()
            }  # the same (cached) list the next push sends
            for d in reversed(deliveries):
                rec = d.record
                if not isinstance(rec, Result):
                    continue
                self.comments += 1
                self.applied.append(now - rec.comment.received_at)
                st = hub.rooms.get(d.room)
                item_id = st._by_comment.get(rec.comment.comment_id) if st is not None else None
                item = st.items.get(item_id) if st is not None and item_id else None
                if item is None:
                    continue
                if item.item_id not in shown.get(d.room, ()):
                    self.hidden += 1
                    continue
                n = later.get(item.item_id, 0)
                later[item.item_id] = n + 1
                self.joined[rec.comment.comment_id] = (item.item_id, item.count - n, rec.comment.received_at)

        hub.ingest = ingest


class ConsoleClient:
    """An operator's browser, reduced to what the latency needs: logs in, subscribes to the console
    websocket, and notes for every push its arrival time and each card's id and member count."""

    def __init__(self, base: str, token: str, room: str) -> None:
        self.base, self.token, self.room = base, token, room
        #: (item id, count, arrival) of every card pushed, in order: one flat list of tuples (the collector
        #: stops tracking tuples of plain values), so the client adds no work to the server's full collections
        self.pushes: list[tuple[str, int, float]] = []
        self._by_item: dict[str, list[tuple[int, float]]] | None = None
        self.messages = 0
        self.bytes = 0
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        import aiohttp
        import orjson

        origin = {"Origin": self.base}
        jar = aiohttp.CookieJar(unsafe=True)  # a cookie for 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            r = await http.post(
                f"{self.base}/login", data={"token": self.token}, headers=origin, allow_redirects=False
            )
            if r.status != 303:
                raise RuntimeError(f"bench: console login failed ({r.status})")
            ws = await http.ws_connect(f"{self.base}/ws?view=console&room={self.room}", headers=origin)
            self.ready.set()
            try:
                while not stop.is_set():
                    try:
                        msg = await ws.receive(timeout=0.2)
                    except TimeoutError:
                        continue
                    arrived = time.time()
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    self.messages += 1
                    self.bytes += len(msg.data)
                    data = orjson.loads(msg.data)
                    cards = data.get("items", ())
                    self.pushes += [(card["id"], int(card["count"]), arrived) for card in cards]
            finally:
                await ws.close()

    def first_push(self, item_id: str, count: int) -> float | None:
        """Arrival of the first push carrying ``item_id`` with at least ``count`` members."""
        if self._by_item is None:  # indexed once, after the run
            self._by_item = {}
            for pushed_id, n, arrived in self.pushes:
                self._by_item.setdefault(pushed_id, []).append((n, arrived))
        for n, arrived in self._by_item.get(item_id, ()):
            if n >= count:
                return arrived
        return None


async def run_console_bench(
    rate: float,
    duration_s: float,
    speed: float | None,
    redis_url: str | None,
    seed: int,
    push_per_s: float | None = None,
) -> dict[str, Any]:
    """The pipeline with the real console served and an operator's websocket client (see the module)."""
    from livecs.console.app import HUB, start_console
    from livecs.console.merchant import RegistryBackend
    from livecs.console.outbound import SimulatedRoomConnector
    from livecs.ingest.simulator import BroadcastSimulator, SimulatorSource
    from livecs.processor.live import build_processor, open_registry
    from livecs.runner import open_pipeline
    from livecs.serving import bound_port, new_token

    room = "bench"
    settings = _bench_settings(redis_url)
    token = new_token()
    settings.console.users = [ConsoleUser(name="bench", role="operator", token=token)]
    if push_per_s is not None:
        settings.console.max_push_per_s = push_per_s
    registry = open_registry(settings.scripts)
    processor = build_processor(settings, registry)
    source = SimulatorSource(
        duration_s, simulator=BroadcastSimulator(seed=seed, room=room, rate=rate), speed=speed
    )
    tracker = CardTracker()
    stop = asyncio.Event()
    async with open_pipeline(
        settings, processor=processor, default_room=room, publish_results=True
    ) as pipeline:
        runner = await start_console(
            pipeline,
            settings,
            port=0,
            host="127.0.0.1",
            connector=SimulatedRoomConnector(),
            merchant=RegistryBackend(registry),
            default_room=room,
            print_tokens=False,
        )
        try:
            tracker.wrap(runner.app[HUB])
            client = ConsoleClient(f"http://127.0.0.1:{bound_port(runner, 0)}", token, room)
            reader = asyncio.create_task(client.run(stop))
            await asyncio.wait_for(client.ready.wait(), 10)
            started = time.perf_counter()
            await pipeline.run_source(source)
            await pipeline.drain(60)
            elapsed = time.perf_counter() - started
            settle = time.perf_counter() + 30
            while tracker.comments < pipeline.counters.processed - sum(pipeline.counters.events.values()):
                await asyncio.sleep(0.05)
                if time.perf_counter() > settle:
                    break
            await asyncio.sleep(3 / settings.console.max_push_per_s)  # the last pushes
            stop.set()
            await reader
        finally:
            await runner.cleanup()
        counters = pipeline.counters.snapshot()
    latencies: list[float] = []
    for item_id, count, received in tracker.joined.values():
        arrived = client.first_push(item_id, count)
        if arrived is not None:
            latencies.append(arrived - received)
    return {
        **_run_figures("console websocket", rate, speed, redis_url),
        "max_push_per_s": settings.console.max_push_per_s,
        **_display_figures(counters, elapsed, latencies),
        "in_console_state_p50_ms": round(_quantile(tracker.applied, 0.5) * 1000, 2),
        "in_console_state_p99_ms": round(_quantile(tracker.applied, 0.99) * 1000, 2),
        "stored_p99_ms": counters["lag_p99_ms"],
        "comments_seen_by_console": tracker.comments,
        "comments_on_a_shown_card": len(tracker.joined),
        "comments_on_a_hidden_card": tracker.hidden,
        "comments_timed_on_websocket": len(latencies),
        "shown_but_gone_before_a_push": len(tracker.joined) - len(latencies),
        "ws_messages": client.messages,
        "ws_mb": round(client.bytes / 1e6, 2),
    }


def _bench_settings(redis_url: str | None) -> Settings:
    settings = load_settings()
    tmp = Path(tempfile.mkdtemp(prefix="livecs-bench-"))
    settings.store.path = str(tmp / "bench.db")
    settings.scripts.library_db = str(tmp / "library.db")
    settings.redis_url = redis_url
    settings.pipeline.shed_display_priorities = []  # measure every result
    return settings


def cmd_bench_pipeline(args: argparse.Namespace) -> int:
    speed = None if args.speed == "max" else float(args.speed)
    if args.ws:
        result = asyncio.run(
            run_console_bench(args.rate, args.duration, speed, args.redis, args.seed, args.push_per_s)
        )
    else:
        result = asyncio.run(run_pipeline_bench(args.rate, args.duration, speed, args.redis, args.seed))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print("livecs pipeline bench (simulator → ingest → triage+scripts → store → display)")
        for key, value in result.items():
            print(f"  {key:>26}: {value}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = bench_target(subparsers, "pipeline", "end-to-end pipeline throughput and ingest→display latency")
    p.add_argument("--rate", type=float, default=2000.0, help="simulated comments per second (paced mode)")
    p.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    p.add_argument("--speed", default="1", help="1 = real pace at --rate; 'max' = as fast as possible")
    p.add_argument("--redis", metavar="URL", help="run the bus on Redis Streams")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--ws",
        action="store_true",
        help="display = the real console: an operator's websocket client (first push containing the comment)",
    )
    p.add_argument(
        "--push-per-s",
        type=float,
        metavar="N",
        help="with --ws: console.max_push_per_s (the cap on pushes a second) for this run",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_bench_pipeline)
