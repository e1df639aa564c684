"""Assembling a running product from settings: bus + store + processor + pipeline + sources (+ console).

The CLI calls :func:`run_demo`, :func:`run_replay` and :func:`run_serve`; tests call them too. Each prints a
summary of what came in and what was recorded when it ends (normally or by Ctrl-C). A stop (Ctrl-C,
SIGTERM, the end of a replay) runs :meth:`Pipeline.stop` to its end before the console, the bus and the
store are closed, so the session is always closed with true counters and no write is scheduled on a closed
store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from livecs.bus.base import open_bus
from livecs.collector import freeze_startup_heap
from livecs.config import Settings
from livecs.ingest.base import Source
from livecs.pipeline import Pipeline
from livecs.processor.base import Processor
from livecs.processor.live import build_processor, open_registry
from livecs.serving import bound_port, new_token
from livecs.store import Store

log = logging.getLogger("livecs.runner")

#: `serve --source simulator` plays a broadcast this long (a drill; stop it with Ctrl-C)
SIMULATOR_SERVE_HORIZON_S = 4 * 3600.0


@contextlib.asynccontextmanager
async def open_pipeline(
    settings: Settings,
    *,
    processor: Processor | None = None,
    workers: int | None = None,
    publish_results: bool = False,
    results_never_wait: bool = False,
    default_room: str | None = None,
) -> AsyncIterator[Pipeline]:
    """A started pipeline; stops it (draining what was accepted) and closes bus and store on exit."""
    bus = await open_bus(settings.redis_url, settings.bus)
    store = Store(settings.store)
    pipeline = Pipeline(
        settings,
        bus,
        store,
        processor if processor is not None else build_processor(settings),
        publish_results=publish_results,
        results_never_wait=results_never_wait,
        default_room=default_room,
    )
    try:
        await pipeline.start(workers)
        freeze_startup_heap()
        yield pipeline
    finally:
        try:
            await stop_fully(pipeline)
        finally:
            try:
                await bus.close()
            except Exception as exc:
                log.warning("closing the bus failed: %r", exc)
            await store.close()


async def stop_fully(pipeline: Pipeline) -> None:
    """Run :meth:`Pipeline.stop` to its end even if this task is cancelled meanwhile (it is bounded)."""
    stopping = asyncio.ensure_future(pipeline.stop(complete=pipeline.complete_on_stop))
    while not stopping.done():
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            _uncancel()
            log.warning("still stopping: the record is being completed")
    stopping.result()


def _uncancel() -> None:
    """Forget the cancellation this task received (a stop request it handles by stopping cleanly)."""
    task = asyncio.current_task()
    while task is not None and task.cancelling():
        task.uncancel()


def shown_path(path: str | Path) -> str:
    """``path`` as the user reads it: relative to the working directory when it is inside it (settings hold
    absolute paths, resolved against the configuration file)."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def print_summary(
    pipeline: Pipeline, elapsed: float, out: TextIO | None = None, sessions: list[str] | None = None
) -> None:
    out = out or sys.stdout  # looked up at call time (tests and wrappers replace sys.stdout)
    s = pipeline.counters.snapshot()
    rate = s["accepted"] / elapsed if elapsed > 0 else 0.0
    names = sessions if sessions is not None else [r.session_id for r in pipeline.sessions.values()]
    lines = [
        "── livecs summary ─────────────────────────────",
        f"sessions:  {', '.join(names) or '-'}",
        f"record:    {shown_path(pipeline.store.path)}",
        f"bus:       {pipeline.bus.name}",
        f"received:  {s['received']}   (收到)",
        f"accepted:  {s['accepted']}   ({rate:,.0f}/s over {elapsed:.1f}s)",
        f"processed: {s['processed']}",
        f"recorded:  {s['recorded']} comments, {sum(s['events'].values())} events   (入库)",
    ]
    for session_id, rows in pipeline.recorded_rows.items():
        lines.append(
            f"in record: {session_id}: {rows['comments']} comments, {rows['events']} events, "
            f"{rows['untriaged']} untriaged   (记录中, any process)"
        )
    if s["untriaged"]:
        lines.append(f"untriaged: {s['untriaged']}   (stop deadline / bus outage: recorded without triage)")
    if s["refused"]:
        lines.append(f"refused:   {s['refused']}   (503: stopping or bus unavailable; never accepted)")
    if s["lost"]:
        lines.append(f"LOST:      {s['lost']}   (accepted but not recorded — see the log)")
    lines.append(f"rejected:  {s['rejected_total']}   (拒收)")
    for reason, n in sorted(s["rejected"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  - {reason}: {n}")
    for reason, n in sorted(s["cleaned"].items()):
        lines.append(f"cleaned:   {reason}: {n}")
    if s["events"]:
        lines.append("events:    " + ", ".join(f"{k} {v}" for k, v in sorted(s["events"].items())))
    lines += [
        f"buy signals: {s['buy_signals']}",
        f"shed from display: {s['shed_display']}   process errors: {s['process_errors']}",
        f"lag ingest→stored: p50 {s['lag_p50_ms']} ms, p99 {s['lag_p99_ms']} ms",
    ]
    print("\n".join(lines), file=out, flush=True)


async def _run_sources(pipeline: Pipeline, sources: list[Source], duration_s: float | None) -> None:
    tasks = [pipeline.add_source(s) for s in sources]
    done, pending = await asyncio.wait(tasks, timeout=duration_s, return_when=asyncio.ALL_COMPLETED)
    for t in pending:
        t.cancel()
    for t in done:
        if not t.cancelled() and t.exception() is not None:
            log.error("source ended with an error: %r", t.exception())


async def run_demo(
    settings: Settings,
    *,
    duration_s: float,
    rate: float,
    port: int,
    open_browser: bool,
    seed: int,
    room: str,
    workers: int | None = None,
    stay_open: bool | None = None,
) -> int:
    """A simulated broadcast through the pipeline for ``duration_s`` seconds, then a summary.

    ``stay_open`` (default: when run from a terminal): once the broadcast is over, its session is closed with
    its final counters and the console stays up until Ctrl-C, so the 复盘报告 panel can be used; otherwise
    (scripts, CI, ``--exit-when-done``) the demo prints the summary and exits."""
    if stay_open is None:
        stay_open = sys.stdin.isatty() and sys.stdout.isatty()
    from livecs.console.app import start_console
    from livecs.console.merchant import RegistryBackend
    from livecs.console.outbound import SimulatedRoomConnector
    from livecs.ingest.simulator import BroadcastSimulator, SimulatorSource

    sim = BroadcastSimulator(seed=seed, room=room, rate=rate)
    source = SimulatorSource(duration_s, simulator=sim, speed=1.0)
    registry = open_registry(settings.scripts)
    processor = build_processor(settings, registry)
    started = time.perf_counter()
    async with open_pipeline(
        settings, processor=processor, workers=workers, default_room=room, publish_results=True
    ) as pipeline:
        runner = await start_console(
            pipeline,
            settings,
            port=port,
            connector=SimulatedRoomConnector(),
            merchant=RegistryBackend(registry),
            default_room=room,
        )
        print(
            f"livecs demo: room {room}, {rate:g} comments/s for {duration_s:g}s, bus {pipeline.bus.name}, "
            f"record {shown_path(pipeline.store.path)}",
            flush=True,
        )
        url = f"http://127.0.0.1:{bound_port(runner, port)}/login"
        if open_browser:
            _open_browser(url)
        merchant = asyncio.create_task(
            demo_merchant(sim.plan(duration_s), runner.app, room), name="demo-merchant"
        )
        finished = False
        sessions: list[str] = []
        try:
            await _run_sources(pipeline, [source], duration_s + 5)
            finished = True
        except asyncio.CancelledError:
            _uncancel()
            print("interrupted — draining what was accepted…", flush=True)
        finally:
            merchant.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await merchant
            names = [r.session_id for r in pipeline.sessions.values()]
            await stop_fully(pipeline)  # doors closed, drained, sessions closed with true counters
            try:
                if finished and stay_open:
                    sessions = names or ["-"]
                    print_summary(pipeline, time.perf_counter() - started, sessions=names)
                    print(
                        f"模拟直播已结束，场控台仍在运行：{url} （复盘报告面板可用）— 按 Ctrl-C 退出 / "
                        "broadcast over, the console stays up until Ctrl-C",
                        flush=True,
                    )
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.Event().wait()
            finally:
                await runner.cleanup()
    if not sessions:
        print_summary(pipeline, time.perf_counter() - started)
    return 0


DEMO_MERCHANT = "演示商家"
#: how long the demo's merchant waits for the room's session to appear on the console
DEMO_SESSION_WAIT_S = 5.0


async def demo_merchant(
    plan: Sequence[Any], app: Any, room: str, *, clock: Callable[[], float] = time.monotonic
) -> None:
    """The demo's merchant: sets each product of the simulator's rundown on air when its segment starts
    (``POST /api/merchant/on-air`` does the same for a real merchant), so the demo's review shades on-air
    periods from recorded ``on_air`` events like a real broadcast's."""
    from livecs.console.app import HUB, MERCHANT
    from livecs.console.merchant import MerchantError

    t0 = clock()
    last = None
    for phase in plan:
        if not phase.link or phase.link == last:
            continue
        last = phase.link
        await asyncio.sleep(max(0.0, t0 + phase.start - clock()))
        try:
            app[MERCHANT].set_on_air(phase.link, DEMO_MERCHANT)
        except MerchantError as exc:  # the library has no such link: nothing is on air to record
            log.info("demo merchant: link %s not set on air: %s", phase.link, exc.en)
            continue
        hub = app[HUB]
        waited = 0.0
        while not hub.room(room).session_id and waited < DEMO_SESSION_WAIT_S:
            await asyncio.sleep(0.1)
            waited += 0.1
        await hub.record_on_air(phase.link, DEMO_MERCHANT)


def can_open_browser(platform: str = sys.platform, environ: dict[str, str] | None = None) -> bool:
    """Whether a graphical browser can be opened: on Linux/BSD only with a display (a headless server
    would otherwise get a text-mode browser taking over the terminal)."""
    env = os.environ if environ is None else environ
    if platform.startswith(("darwin", "win")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _open_browser(url: str) -> None:
    """Open the console in a browser when there is a display; never blocks the event loop."""
    if not can_open_browser():
        log.info("no display: open %s in a browser yourself", url)
        return
    import threading
    import webbrowser

    def _open() -> None:
        try:
            webbrowser.open(url)
        except Exception as exc:  # no browser on this machine: the URL is printed anyway
            log.info("could not open a browser (%r); open %s yourself", exc, url)

    threading.Thread(target=_open, name="open-browser", daemon=True).start()


async def run_replay(
    settings: Settings,
    file: str,
    *,
    fmt: str | None,
    speed: float | None,
    room: str | None,
    loop: bool,
    workers: int | None = None,
) -> int:
    """Replay a recording through the pipeline; returns when it is recorded (or on Ctrl-C)."""
    path = Path(file)
    if not path.is_file():
        print(f"replay: no such file: {file}", file=sys.stderr)
        return 2
    source: Source
    if fmt is None and path.suffix == ".dyf":  # what serve --source douyin --record writes
        fmt = "douyin-frames"
    if fmt == "bilibili-csv":
        from livecs.ingest.bilibili.replay import BilibiliCsvReplaySource

        source = BilibiliCsvReplaySource(path, speed=speed, room=room, loop=loop)
    elif fmt == "douyin-frames":
        from livecs.ingest.douyin.replay import DouyinFramesReplaySource

        if loop:
            print(
                "replay: --loop is not supported for douyin-frames (ids repeat); playing once",
                file=sys.stderr,
            )
        source = DouyinFramesReplaySource(path, speed=speed, room=room)
    else:
        from livecs.ingest.replay import ReplaySource

        source = ReplaySource(path, fmt=fmt, speed=speed, room=room, loop=loop)  # type: ignore[arg-type]
    started = time.perf_counter()
    async with open_pipeline(settings, workers=workers, default_room=room) as pipeline:
        try:
            await _run_sources(pipeline, [source], None)
            pipeline.complete_on_stop = not loop  # the end of the file: wait for all of its work
        except asyncio.CancelledError:
            _uncancel()
            print("interrupted — draining what was accepted…", flush=True)
    print_summary(pipeline, time.perf_counter() - started)
    return 0


async def run_serve(
    settings: Settings,
    sources: list[str],
    *,
    room: str | None,
    file: str | None,
    speed: float | None,
    workers: int | None = None,
    console: bool = True,
    record: str | None = None,
) -> int:
    """Run live sources, workers and the console until interrupted.

    The webhook is served on the console's port (its own token); operator replies go back through the
    websocket relay when ``ws`` is a source, else to ``console.outbound.http_url``.
    """
    from livecs.console.app import start_console
    from livecs.console.merchant import RegistryBackend
    from livecs.ingest.webhook import webhook_routes

    built: list[Source] = []
    relay = None
    for name in sources:
        if name == "ws":
            from livecs.ingest.ws import WebSocketSource

            relay = WebSocketSource(settings.ws, room=room)
            built.append(relay)
        elif name == "replay":
            from livecs.ingest.replay import ReplaySource

            built.append(ReplaySource(Path(file or ""), speed=speed, room=room))
        elif name == "bilibili":
            from livecs.ingest.bilibili.client import BilibiliSource

            built.append(BilibiliSource(settings.bilibili, room=room))
        elif name == "douyin":
            from livecs.ingest.douyin.client import DouyinSource

            built.append(DouyinSource(settings.douyin, room=room, record=record))
        elif name == "simulator":
            from livecs.ingest.simulator import BroadcastSimulator, SimulatorSource

            sim = BroadcastSimulator(seed=settings.demo.seed, room=room or settings.demo.room)
            built.append(SimulatorSource(SIMULATOR_SERVE_HORIZON_S, simulator=sim, speed=speed))
    if "webhook" in sources and not settings.webhook.token:
        settings.webhook.token = new_token()
        print(f"webhook token (generated): {settings.webhook.token}", flush=True)
    if "webhook" in sources and not console:  # standalone webhook server (webhook.host/port)
        from livecs.ingest.webhook import WebhookSource

        built.append(WebhookSource(settings.webhook))
        print(
            f"webhook: POST http://{settings.webhook.host}:{settings.webhook.port}/api/rooms/<room>/comments",
            flush=True,
        )
    registry = open_registry(settings.scripts)
    processor = build_processor(settings, registry)
    started = time.perf_counter()
    # Results go to the bus whenever a console can read them: this process's own, or — on Redis — the
    # consoles of other processes (`serve --source none --no-console` workers feed a separate console).
    # Those remote consoles never hold the record back: their results are offered, shed (and counted) when
    # a console lags or died with its group left on the stream.
    publish = console or settings.redis_url is not None
    async with open_pipeline(
        settings,
        processor=processor,
        workers=workers,
        default_room=room,
        publish_results=publish,
        results_never_wait=not console,
    ) as pipeline:
        runner = None
        if console:
            routes = webhook_routes(pipeline.sink, settings.webhook.token) if "webhook" in sources else []
            runner = await start_console(
                pipeline,
                settings,
                relay=relay,
                merchant=RegistryBackend(registry),
                default_room=room,
                public_routes=routes,
            )
            if routes:
                port = bound_port(runner, settings.console.port)
                print(
                    f"webhook: POST http://{settings.console.host}:{port}/api/rooms/<room>/comments",
                    flush=True,
                )
        print(
            f"livecs serving: sources {sources}, bus {pipeline.bus.name}, "
            f"record {shown_path(pipeline.store.path)}",
            flush=True,
        )
        try:
            if built:
                await _run_sources(pipeline, built, None)
            await asyncio.Event().wait()  # live sources, workers and the console run until interrupted
        except asyncio.CancelledError:
            _uncancel()
            print("stopping — ingest closed (503), draining what was accepted…", flush=True)
        finally:
            await stop_fully(pipeline)  # doors closed first: the webhook answers 503 from here on
            if runner is not None:
                await runner.cleanup()
    print_summary(pipeline, time.perf_counter() - started)
    return 0
