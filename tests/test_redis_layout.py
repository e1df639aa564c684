"""The README's Redis layout as separate processes: an ingest + console process (`serve --source webhook
--workers 0`) and a worker process (`serve --source none --no-console --workers 1`) on the real Redis.

A comment posted to the webhook is processed by the worker process, and its card — one result record with its
triage and suggestions — reaches the console of the other process's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

pytestmark = [pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
OPERATOR_TOKEN = "tok-layout-operator-0123456789"
HOOK_TOKEN = "hook-layout-token-0123456789"
START_TIMEOUT_S = 30.0
COMPLAINT = "等了一周还没发货，我要投诉"


async def _spawn(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "run.py",
        *args,
        cwd=str(ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _wait_line(proc: asyncio.subprocess.Process, pattern: str, seen: list[str]) -> re.Match[str]:
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        raw = await asyncio.wait_for(proc.stdout.readline(), deadline - time.monotonic())
        if not raw:
            break
        line = raw.decode(errors="replace")
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(seen)}")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_webhook_console_process_shows_cards_processed_by_a_no_console_worker(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis
) -> None:
    env = {
        **os.environ,
        "LIVECS_STORE__PATH": str(tmp_path / "rec.db"),
        "LIVECS_SCRIPTS__LIBRARY_DB": str(tmp_path / "lib.db"),
        "LIVECS_WEBHOOK__TOKEN": HOOK_TOKEN,
        "LIVECS_CONSOLE__USERS": f"[{{name: 小王, role: operator, token: {OPERATOR_TOKEN}}}]",
        "LIVECS_BUS__BLOCK_MS": "50",
        "LIVECS_CONSOLE__READ_BLOCK_MS": "50",
    }
    console_out: list[str] = []
    worker_out: list[str] = []
    console = await _spawn(
        env, "serve", "--source", "webhook", "--redis", redis_url, "--workers", "0", "--port", "0"
    )
    worker = None
    try:
        m = await _wait_line(console, r"http://127\.0\.0\.1:(\d+)/api/rooms/<room>/comments", console_out)
        port = int(m.group(1))
        worker = await _spawn(
            env, "serve", "--source", "none", "--no-console", "--redis", redis_url, "--workers", "1"
        )
        await _wait_line(worker, r"livecs serving", worker_out)
        async with aiohttp.ClientSession() as http:
            r = await http.post(
                f"http://127.0.0.1:{port}/api/rooms/live1/comments",
                json=[
                    {"id": "m1", "user_id": "u1", "nickname": "橙子", "text": "等了一周还没发货，我要投诉"}
                ],
                headers={"Authorization": f"Bearer {HOOK_TOKEN}"},
            )
            assert r.status == 202, await r.text()
            auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
            q: dict[str, object] = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                q = await (
                    await http.get(f"http://127.0.0.1:{port}/api/queue?room=live1", headers=auth)
                ).json()
                if q["items"]:
                    break
                await asyncio.sleep(0.1)
            items = q["items"]
            assert isinstance(items, list) and len(items) == 1, (q, "".join(console_out + worker_out))
            card = items[0]
            assert card["text"] == COMPLAINT and card["nickname"] == "橙子"
            assert card["intent"] == "complaint" and card["priority"] in ("P0", "P1")
            assert card["suggestion"] and card["suggestion"]["reply"]  # the suggestion came with it
            stats = await (
                await http.get(f"http://127.0.0.1:{port}/api/stats?room=live1", headers=auth)
            ).json()
            assert stats["comments_total"] == 1
    finally:
        for proc in (worker, console):
            if proc is not None:
                await _stop(proc)
        for proc in (worker, console):
            if proc is not None and proc.stdout is not None:
                with contextlib.suppress(Exception):
                    (console_out if proc is console else worker_out).append(
                        (await proc.stdout.read()).decode()
                    )
    assert "recorded:  1 comments" in "".join(worker_out), "".join(worker_out)
