"""The command line: ``python run.py <command> --help``.

Core commands live here (``demo``, ``replay``, ``serve``); each stage package contributes its own commands
through a ``register(subparsers)`` function in its ``commands`` module (``eval``, ``train``, ``bench``,
``scripts``, ``eval-scripts``, ``review``…). Every command returns its exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from livecs.config import ConfigError, Settings, check_webhook_token, load_settings

log = logging.getLogger("livecs")

#: stage packages that add commands, imported when present
COMMAND_MODULES = (
    "livecs.triage.commands",
    "livecs.scripts.commands",
    "livecs.console.commands",
    "livecs.review.commands",
    "livecs.tickets.survey",
    "livecs.review.trend",
    "livecs.bench",
    "livecs.ingest.douyin.bench",
    "livecs.soak",
)


def bench_target(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str
) -> argparse.ArgumentParser:
    """The parser of ``bench <name>``: a stage module's benchmark joins the one ``bench`` command (made by
    whichever module adds the first target)."""
    bench = subparsers.choices.get("bench")
    if bench is None:
        bench = subparsers.add_parser("bench", help="benchmarks")
    targets = next((a for a in bench._actions if isinstance(a, argparse._SubParsersAction)), None)
    if targets is None:
        targets = bench.add_subparsers(dest="bench_target", metavar="<target>", required=True)
    return targets.add_parser(name, help=help)


def _speed(value: str) -> float | None:
    if value in {"max", "inf", "0"}:
        return None
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number or 'max', not {value!r}") from None
    if speed <= 0:
        raise argparse.ArgumentTypeError("speed must be > 0 (or 'max')")
    return speed


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="configuration file (default config/livecs.yaml, or $LIVECS_CONFIG)")
    p.add_argument(
        "--redis", metavar="URL", help="run the bus on Redis Streams (e.g. redis://127.0.0.1:6379/0)"
    )
    p.add_argument("--db", metavar="PATH", help="SQLite file of the record (default: store.path)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python run.py",
        description="livecs — live-stream commerce customer-service assistant",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    p = sub.add_parser("demo", help="run a simulated broadcast through the pipeline (and the console)")
    _common(p)
    p.add_argument("--duration", type=float, metavar="S", help="seconds to run (default demo.duration_s)")
    p.add_argument("--rate", type=float, metavar="N", help="average comments per second (default demo.rate)")
    p.add_argument("--port", type=int, metavar="P", help="HTTP port of the console (default demo.port)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--seed", type=int, help="simulator seed (default demo.seed)")
    p.add_argument("--room", help="room id (default demo.room)")
    p.add_argument(
        "--workers", type=int, help="processing workers in this process (default pipeline.workers)"
    )
    p.add_argument(
        "--exit-when-done",
        action="store_true",
        help="exit when the simulated broadcast ends (default: from a terminal the console stays up until "
        "Ctrl-C so the 复盘报告 panel can be used; without a terminal it exits)",
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("console", help="serve the console over a record (复盘报告, no live source)")
    _common(p)
    p.add_argument("--host", help="bind address (default console.host)")
    p.add_argument("--port", type=int, help="console port (default console.port)")
    p.set_defaults(func=_cmd_console)

    p = sub.add_parser("replay", help="replay a recorded file (JSON Lines or CSV) through the pipeline")
    _common(p)
    p.add_argument("file", help="the recording")
    p.add_argument(
        "--format",
        choices=["jsonl", "csv", "bilibili-csv", "douyin-frames"],
        help="default: by file extension; bilibili-csv = recorded danmaku delta_s,time,date,text,user; "
        "douyin-frames = raw Douyin frames written by serve --source douyin --record",
    )
    p.add_argument(
        "--speed", type=_speed, default=None, metavar="N|max", help="N× recorded pace (default max)"
    )
    p.add_argument("--room", help="room for records that carry none (and override)")
    p.add_argument("--loop", action="store_true", help="replay again and again until interrupted")
    p.add_argument("--workers", type=int, help="processing workers in this process (0 = ingest only)")
    p.set_defaults(func=_cmd_replay)

    p = sub.add_parser("serve", help="run the pipeline on live sources until interrupted")
    _common(p)
    p.add_argument(
        "--source",
        action="append",
        choices=["ws", "webhook", "replay", "simulator", "bilibili", "douyin", "none"],
        help="input source (repeatable); 'none' runs processing workers only (Redis scale-out)",
    )
    p.add_argument("--url", help="ws: relay URL (default ws.url)")
    p.add_argument("--room", help="room for records that carry none")
    p.add_argument("--file", help="replay: the recording")
    p.add_argument("--speed", type=_speed, default=1.0, metavar="N|max", help="replay/simulator pace")
    p.add_argument("--host", help="console (and webhook) bind address (default console.host)")
    p.add_argument("--port", type=int, help="console (and webhook) port (default console.port)")
    p.add_argument("--token", help="webhook token (default webhook.token, else generated and printed)")
    p.add_argument("--workers", type=int, help="processing workers in this process (0 = ingest only)")
    p.add_argument("--no-console", action="store_true", help="do not serve the console (worker processes)")
    p.add_argument(
        "--record",
        metavar="FILE",
        help="douyin: write the raw frames with arrival times (replay douyin-frames)",
    )
    p.set_defaults(func=_cmd_serve)

    for name in COMMAND_MODULES:
        if _module_exists(name):
            importlib.import_module(name).register(sub)
    return parser


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its package is not there
        return False


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(getattr(args, "config", None))
    if getattr(args, "redis", None):
        settings.redis_url = args.redis
    if getattr(args, "db", None):
        settings.store.path = args.db
    return settings


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def _left() -> int:
    """Accepted records not yet recorded, over the running pipelines (as last seen by their drain)."""
    from livecs.pipeline import Pipeline

    return sum(p.outstanding for p in Pipeline.running)


def _on_signal(task: asyncio.Task[int] | None, count: list[int]) -> None:
    """1st Ctrl-C / SIGTERM: stop cleanly (close the doors, drain). 2nd: skip the drain, the rest is
    recorded untriaged. 3rd: quit at once — after saying how many accepted records that loses."""
    from livecs.pipeline import Pipeline

    count[0] += 1
    running = list(Pipeline.running)
    if count[0] == 1 or not running:
        if count[0] == 1:
            print("stopping: ingest closed, draining (Ctrl-C again skips the drain)", file=sys.stderr)
        if count[0] <= 2 and task is not None:
            task.cancel()
            return
    if count[0] == 2:
        print(
            f"second interrupt (再次中断): skipping the drain — the {_left()} accepted records not yet "
            "processed are written to the record untriaged now; Ctrl-C once more quits at once and "
            "LOSES them",
            file=sys.stderr,
            flush=True,
        )
        for p in running:
            p.force()
        return
    print(
        f"third interrupt: quitting now — {_left()} accepted records not yet recorded are LOST (已丢失)",
        file=sys.stderr,
        flush=True,
    )
    os._exit(130)


def _run(coro_fn: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a coroutine; Ctrl-C / SIGTERM stop it gracefully (it sees CancelledError → drains); see
    :func:`_on_signal` for the second and third."""

    async def main() -> int:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        count = [0]
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, _on_signal, task, count)
        return await coro_fn()

    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 130


# -- commands -------------------------------------------------------------------------------------------
def _cmd_demo(args: argparse.Namespace) -> int:
    from livecs.runner import run_demo

    settings = _settings(args)
    _setup_logging(args.log_level)
    d = settings.demo
    return _run(
        lambda: run_demo(
            settings,
            duration_s=args.duration if args.duration is not None else d.duration_s,
            rate=args.rate if args.rate is not None else d.rate,
            port=args.port if args.port is not None else d.port,
            open_browser=not args.no_browser,
            seed=args.seed if args.seed is not None else d.seed,
            room=args.room or d.room,
            workers=args.workers,
            stay_open=False if args.exit_when_done else None,
        )
    )


def _cmd_console(args: argparse.Namespace) -> int:
    from livecs.runner import run_serve

    settings = _settings(args)
    _setup_logging(args.log_level)
    if args.db and not Path(args.db).is_file():
        print(f"console: no such record: {args.db}", file=sys.stderr)
        return 2
    if args.host:
        settings.console.host = args.host
    if args.port is not None:
        settings.console.port = args.port
    return _run(lambda: run_serve(settings, [], room=None, file=None, speed=None, workers=0, console=True))


def _cmd_replay(args: argparse.Namespace) -> int:
    from livecs.runner import run_replay

    settings = _settings(args)
    _setup_logging(args.log_level)
    return _run(
        lambda: run_replay(
            settings,
            args.file,
            fmt=args.format,
            speed=args.speed,
            room=args.room,
            loop=args.loop,
            workers=args.workers,
        )
    )


def _cmd_serve(args: argparse.Namespace) -> int:
    from livecs.runner import run_serve

    settings = _settings(args)
    _setup_logging(args.log_level)
    if args.url:
        settings.ws.url = args.url
    if args.host:
        settings.console.host = args.host
    if args.port is not None:
        settings.console.port = args.port
    if args.token:
        settings.webhook.token = check_webhook_token(args.token)
    sources = args.source or ["webhook"]
    if "replay" in sources and not args.file:
        print("serve --source replay needs --file FILE", file=sys.stderr)
        return 2
    if "bilibili" in sources and not settings.bilibili.room_id and not (args.room or "").isdigit():
        print("serve --source bilibili needs --room <numeric room id> (or bilibili.room_id)", file=sys.stderr)
        return 2
    if "douyin" in sources:
        from livecs.ingest.douyin.signer import make_signer

        if not args.room and not settings.douyin.room_id:
            print("serve --source douyin needs --room <live id> (or douyin.room_id)", file=sys.stderr)
            return 2
        make_signer(
            settings.douyin.signer, settings.douyin.signer_timeout_s
        )  # ConfigError naming the setting
    return _run(
        lambda: run_serve(
            settings,
            sources,
            room=args.room,
            file=args.file,
            speed=args.speed,
            workers=args.workers,
            console=not args.no_console,
            record=args.record,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        started = time.perf_counter()
        code = int(args.func(args) or 0)
        log.debug("command %s took %.2fs", args.command, time.perf_counter() - started)
        return code
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    except ConnectionError as exc:  # e.g. the Redis bus cannot be reached at start
        print(f"error: {exc}", file=sys.stderr)
        return 1
