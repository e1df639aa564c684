"""Coupon stock shared and durable (issue 11): two console processes on one Redis never issue more than the
stock or a user's limit; on the embedded default a restarted console keeps what was issued."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from livecs import keys
from livecs.bus.redis import RedisBus
from livecs.config import BusSettings
from livecs.scripts.coupons import RedisStock, SqliteStock

from ._coupon_console_proc import OPERATOR_TOKEN
from .conftest import ROOM, SESSION, VALID_LIBRARY, bearer, comment_group

PROC = Path(__file__).with_name("_coupon_console_proc.py")
ROOT = Path(__file__).resolve().parents[2]
STOCK = 60
USERS = 100
REQUESTS = 200
START_TIMEOUT_S = 30.0


def _library(tmp_path: Path, stock: int, per_user_limit: int = 1) -> Path:
    text = VALID_LIBRARY.replace(
        "amount: 50, stock: 2}", f"amount: 50, stock: {stock}, per_user_limit: {per_user_limit}}}"
    )
    assert text != VALID_LIBRARY
    path = tmp_path / "lib.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _start(redis_url: str, workdir: Path, stage: str, library: Path) -> tuple[subprocess.Popen[str], int]:
    workdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, str(PROC), redis_url, str(workdir), stage, str(library)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("PORT "), f"console process did not start: {line!r}"
    return proc, int(line.split()[1])


async def _queue_ids(http: aiohttp.ClientSession, port: int, want: int) -> set[str]:
    deadline = time.monotonic() + 15
    ids: set[str] = set()
    while time.monotonic() < deadline:
        r = await http.get(
            f"http://127.0.0.1:{port}/api/queue?room={ROOM}",
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
        ids = {i["id"] for i in (await r.json())["items"]}
        if len(ids) >= want:
            return ids
        await asyncio.sleep(0.1)
    raise AssertionError(f"console on {port} shows {len(ids)} of {want} cards")


@pytest.mark.redis
async def test_two_console_processes_share_the_redis_stock(
    tmp_path: Path, redis_client: aioredis.Redis, redis_url: str
) -> None:
    """Regression: each console built its own in-process stock (RedisStock was never used), so two consoles
    on one Redis issued 10 coupons against a stock of 5. 200 concurrent issue requests, half to each console
    process, 2 per user (limit 1 per user), stock 60: exactly 60 issued, to 60 different users."""
    library = _library(tmp_path, STOCK)
    procs = [_start(redis_url, tmp_path / f"console-{k}", f"console-{k}", library) for k in "ab"]
    bus = RedisBus(redis_url, BusSettings())
    await bus.start()
    try:
        groups = [
            comment_group(f"想要券 {k}", coupon="full_300_50", user_id=f"u{k % USERS}")
            for k in range(REQUESTS)
        ]
        await bus.publish("results", ROOM, SESSION, [r for g in groups for r in g])
        async with aiohttp.ClientSession() as http:
            for _, port in procs:
                await _queue_ids(http, port, REQUESTS)

            async def issue(k: int) -> tuple[int, str]:
                port = procs[k % 2][1]
                r = await http.post(
                    f"http://127.0.0.1:{port}/api/actions",
                    json={"item_id": f"m:{groups[k][0].comment_id}", "kind": "issue_coupon", "room": ROOM},
                    headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
                )
                body = await r.json()
                return r.status, (body.get("coupon") or {}).get("user_id", "") or body.get("error", "")

            results = await asyncio.gather(*(issue(k) for k in range(REQUESTS)))
        issued = [who for status, who in results if status == 200]
        refused = [why for status, why in results if status != 200]
        assert len(issued) == STOCK, results
        assert (
            len(set(issued)) == STOCK
        )  # nobody got two, though each user was asked for through both consoles
        assert all("sold out" in why or "per-user limit" in why for why in refused), set(refused)
        assert int(await redis_client.get(keys.coupon_issued(ROOM, "full_300_50"))) == STOCK
        assert await RedisStock(redis_client).issued_count(ROOM, "full_300_50") == STOCK
    finally:
        await bus.close()
        for proc, _ in procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc, _ in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def test_a_restarted_console_keeps_the_stock_on_the_embedded_default(make_console) -> None:
    """Regression: the embedded default kept the stock in memory; a restart reset it and the users' limits.
    The console's default stock is kept in the record (``store.path``)."""
    first = await make_console()
    assert isinstance(first.hub.coupons.backend, SqliteStock)
    assert first.hub.coupons.backend.path == first.store.path
    up = first.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)  # stock 2
    assert up["ok"], up
    groups = [comment_group(f"想要券 {k}", coupon="full_300_50", user_id=f"buyer{k}") for k in range(3)]
    await first.publish(*groups[:2])
    await first.settle()
    for g in groups[:1]:
        r = await first.client.post(
            "/api/actions",
            json={"item_id": f"m:{g[0].comment_id}", "kind": "issue_coupon"},
            headers=bearer("bob"),
        )
        assert r.status == 200, await r.text()
    await first.client.close()  # the console stops …

    second = await make_console()  # … and a new one starts on the same record
    second.hub.coupons.backend = SqliteStock(first.store.path)
    second.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    await second.publish(*groups)
    await second.settle()
    r = await second.client.post(
        "/api/actions",
        json={"item_id": f"m:{groups[1][0].comment_id}", "kind": "issue_coupon"},
        headers=bearer("bob"),
    )
    assert r.status == 200
    assert (await r.json())["coupon"]["sequence"] == 2  # counted on from before the restart
    r = await second.client.post(
        "/api/actions",
        json={"item_id": f"m:{groups[2][0].comment_id}", "kind": "issue_coupon"},
        headers=bearer("bob"),
    )
    assert r.status == 409 and (await r.json())["error"] == "coupon refused: coupon sold out"
