"""A consumer process for ``test_redis.py``: reads ``comments`` through the Redis bus into SQLite.

``python _consumer_proc.py URL DB CONSUMER EXPECTED [--stall]``. Each batch is stored with
``INSERT OR IGNORE`` (idempotent on comment id), committed, then acknowledged. With ``--stall`` the process
stores its first non-empty batch, prints ``STALLED <n>`` and hangs without acknowledging (the test kills
it). Otherwise it runs until the table holds ``EXPECTED`` rows and nothing is waiting, then prints one
JSON line of counts (deliveries, duplicates, the bus's ``dropped`` and ``dead_lettered``) and exits 0
(exit 2 after ``DEADLINE_S``).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time

import orjson

from livecs.bus.redis import RedisBus
from livecs.config import BusSettings
from livecs.models import Comment

TOPIC = "comments"
STAGE = "store"
DEADLINE_S = 20.0
BATCH = 50
SETTINGS = BusSettings(
    batch_size=BATCH, block_ms=50, lag_check_interval_s=0.02, reclaim_idle_ms=300, reclaim_interval_s=0.05
)


def store(db: sqlite3.Connection, rows: list[tuple[str, str, str]]) -> int:
    """Insert idempotently; the number of rows actually added."""
    before = db.total_changes
    db.executemany("INSERT OR IGNORE INTO comments (comment_id, room, session_id) VALUES (?, ?, ?)", rows)
    db.commit()
    return db.total_changes - before


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("db")
    ap.add_argument("consumer")
    ap.add_argument("expected", type=int)
    ap.add_argument("--stall", action="store_true")
    args = ap.parse_args()
    db = sqlite3.connect(args.db, timeout=10)
    db.execute("PRAGMA journal_mode=WAL")
    bus = RedisBus(args.url, SETTINGS)
    await bus.start()
    await bus.declare(TOPIC, STAGE)
    deliveries = inserted = 0
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        batch = await bus.read(TOPIC, STAGE, args.consumer, BATCH, SETTINGS.block_ms)
        rows = [(d.record.comment_id, d.room, d.session_id) for d in batch if isinstance(d.record, Comment)]
        deliveries += len(batch)
        inserted += store(db, rows) if rows else 0
        if args.stall and batch:
            print(f"STALLED {len(batch)}", flush=True)
            await asyncio.sleep(DEADLINE_S)  # never acknowledges: the test kills us here
            return 3
        await bus.ack(TOPIC, STAGE, batch)
        (rows_now,) = db.execute("SELECT COUNT(*) FROM comments").fetchone()
        if rows_now >= args.expected and (await bus.depths()).get(f"{TOPIC}/{STAGE}") == 0:
            out = {"deliveries": deliveries, "inserted": inserted, "duplicates": deliveries - inserted}
            out = {**out, "dropped": dict(bus.dropped), "dead_lettered": bus.dead_lettered}
            print(orjson.dumps(out).decode(), flush=True)
            await bus.close()
            return 0
    await bus.close()
    return 2


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
