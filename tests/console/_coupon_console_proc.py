"""One console process for ``test_coupons_shared.py``: ``start_console`` on the Redis bus (``serve --redis``).

``python _coupon_console_proc.py REDIS_URL WORKDIR STAGE LIBRARY_YAML``: opens the Redis bus and a record in
WORKDIR, uploads and activates the library, starts the console on an ephemeral port with the settings'
``redis_url`` (so the console builds its coupon stock exactly as in production), prints ``PORT <n>`` and
serves until its standard input closes.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import SimpleNamespace

from livecs.bus.base import open_bus
from livecs.config import ConsoleUser, Settings
from livecs.console.app import start_console
from livecs.console.merchant import RegistryBackend
from livecs.metrics import Counters
from livecs.store import Store

OPERATOR_TOKEN = "tok-operator-coupons-0123456789"


async def main(redis_url: str, workdir: Path, stage: str, library: Path) -> None:
    settings = Settings(redis_url=redis_url)
    settings.store.path = str(workdir / "rec.db")
    settings.scripts.library_db = str(workdir / "lib.db")
    cfg = settings.console
    cfg.users = [ConsoleUser(name=f"op-{stage}", role="operator", token=OPERATOR_TOKEN)]
    cfg.results_stage = stage
    cfg.read_block_ms = 20
    cfg.queue_visible = 500
    bus = await open_bus(redis_url, settings.bus)
    store = Store(settings.store)
    await store.open()
    merchant = RegistryBackend.at(settings.scripts.library_db)
    up = merchant.upload([(library.name, library.read_bytes())], "shop", activate=True)
    assert up["ok"], up
    pipeline = SimpleNamespace(bus=bus, store=store, counters=Counters())
    runner = await start_console(pipeline, settings, port=0, merchant=merchant, print_tokens=False)
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    await store.close()
    await bus.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])))
