"""Nothing accepted is ever lost (issue 11): real ``run.py`` processes stopped under load, and Redis killed
and restarted under them (a private ``redis-server`` of the test's own). Each test is bounded (< 60 s).
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

import aiohttp

from livecs.ingest.simulator import write_jsonl
from tests.chaos_support import Livecs, PrivateRedis, sessions, stored_comment_ids, untriaged_count

TOKEN = "chaos-token-" + "x" * 20
WEBHOOK_LINE = r"webhook: POST http://127.0.0.1:(\d+)/api/rooms/<room>/comments"


class Flood:
    """Clients posting batches of new comments to the webhook; remembers what got a 202 and what else."""

    def __init__(self, port: int, clients: int, batch: int, pause_s: float = 0.0) -> None:
        self.url = f"http://127.0.0.1:{port}/api/rooms/flood/comments"
        self.clients, self.batch, self.pause_s = clients, batch, pause_s
        self.accepted: set[str] = set()
        self.statuses: dict[int, int] = {}
        self.retry_after: set[str | None] = set()
        self.refused_errors = 0
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _client(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        seq = 0
        async with aiohttp.ClientSession(headers=headers) as http:
            while not self._stop.is_set():
                ids = [f"c{n}-{seq + i}" for i in range(self.batch)]
                seq += self.batch
                body = [{"id": cid, "user": f"u{n}", "text": f"这件多少钱 {cid}"} for cid in ids]
                try:
                    async with http.post(self.url, json=body, timeout=aiohttp.ClientTimeout(total=20)) as r:
                        self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                        if r.status == 202:
                            got = await r.json()
                            assert got["accepted"] == len(ids), got
                            self.accepted.update(ids)
                        elif r.status == 503:
                            self.retry_after.add(r.headers.get("Retry-After"))
                except (TimeoutError, aiohttp.ClientError):
                    self.refused_errors += 1  # the server is gone: nothing was promised
                    await asyncio.sleep(0.05)
                if self.pause_s:
                    await asyncio.sleep(self.pause_s)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def _exited(proc: Livecs, timeout: float) -> int:
    return await asyncio.to_thread(proc.wait, timeout)


def test_replay_at_max_speed_records_every_comment_whatever_the_drain_deadline(tmp_path: Path) -> None:
    """Issue 11 item 1: a replay waits for its own work — the 0.5 s stop deadline does not cut its tail."""
    rec = tmp_path / "rec.jsonl"
    n = write_jsonl(rec, duration_s=30, seed=11, rate=200, room="r1", events=False)
    db = tmp_path / "replay.db"
    proc = Livecs(
        tmp_path, "replay", str(rec), "--speed", "max", "--db", str(db),
        env={"LIVECS_PIPELINE__STOP_DRAIN_S": "0.5"},
    )  # fmt: skip
    assert proc.wait(55) == 0, proc.text()
    out = proc.text()
    assert re.search(rf"accepted:\s+{n}\b", out) and re.search(rf"recorded:\s+{n} comments", out), out
    assert len(stored_comment_ids(db)) == n
    assert untriaged_count(db) == 0
    [session] = sessions(db)
    assert session["ended_at"] is not None
    assert session["stats"]["record"]["comments"] == n and session["stats"]["lost"] == 0


async def test_sigterm_under_a_webhook_flood_keeps_every_202(tmp_path: Path) -> None:
    """Issue 11 item 2: SIGTERM under a 20-client flood — doors closed (503 + Retry-After), every comment
    answered 202 is in the record (untriaged past the 1 s deadline), the session closed, a bounded exit."""
    db = tmp_path / "serve.db"
    proc = Livecs(
        tmp_path, "serve", "--source", "webhook", "--port", "0", "--token", TOKEN, "--db", str(db),
        env={"LIVECS_PIPELINE__STOP_DRAIN_S": "1"},
    )  # fmt: skip
    try:
        port = int((await asyncio.to_thread(proc.wait_for, WEBHOOK_LINE, 30)).group(1))
        flood = Flood(port, clients=20, batch=50)
        flood.start()
        await asyncio.sleep(4)
        assert flood.accepted, flood.statuses
        proc.signal(signal.SIGTERM)
        t0 = time.monotonic()
        code = await _exited(proc, 40)
        stop_s = time.monotonic() - t0
        await flood.stop()
    finally:
        proc.kill()
    out = proc.text()
    assert code == 0, out
    assert stop_s < 30, out
    assert "Traceback" not in out and "cannot schedule new futures" not in out, out
    assert set(flood.statuses) <= {202, 503}, flood.statuses  # never a 500
    assert flood.statuses.get(503, 0) > 0 and flood.retry_after == {"5"}, (flood.statuses, flood.retry_after)
    stored = stored_comment_ids(db)
    missing = flood.accepted - stored
    assert not missing, f"{len(missing)} comments answered 202 are not in the record"
    [session] = sessions(db)
    stats = session["stats"]
    assert session["ended_at"] is not None
    assert stats["accepted"] == len(flood.accepted) == len(stored) == stats["record"]["comments"]
    assert stats["lost"] == 0
    assert stats["untriaged"] == untriaged_count(db) == stats["record"]["untriaged"]


async def test_redis_killed_and_restarted_during_a_replay_records_everything(tmp_path: Path) -> None:
    """Issue 11 item 3: Redis dies mid-replay (SIGKILL, no persistence) and comes back 2 s later: the replay
    buffers, the groups are re-created, what Redis lost is sent again — accepted = recorded, exit 0."""
    rec = tmp_path / "rec.jsonl"
    n = write_jsonl(rec, duration_s=20, seed=5, rate=300, room="r2", events=False)
    db = tmp_path / "replay.db"
    with PrivateRedis(tmp_path) as redis:
        proc = Livecs(tmp_path, "replay", str(rec), "--speed", "2", "--redis", redis.url, "--db", str(db))
        try:
            await asyncio.to_thread(proc.wait_for, r"session \S+ opened", 30)
            await asyncio.sleep(2)
            redis.kill()
            await asyncio.sleep(2)
            redis.start()
            code = await _exited(proc, 45)
        finally:
            proc.kill()
    out = proc.text()
    assert code == 0, out
    assert "unreachable" in out and "reachable again" in out and "lost its data" in out, out
    assert re.search(rf"accepted:\s+{n}\b", out) and re.search(rf"recorded:\s+{n} comments", out), out
    assert len(stored_comment_ids(db)) == n
    [session] = sessions(db)
    assert session["ended_at"] is not None and session["stats"]["record"]["comments"] == n
    assert session["stats"]["bus_status"]["outages"] >= 1 and session["stats"]["bus_status"]["resyncs"] >= 1


async def test_redis_killed_and_restarted_during_serve_records_every_202(tmp_path: Path) -> None:
    """Issue 11 item 3: ``serve --source webhook --redis`` keeps answering (202 while it can keep, else 503,
    never 500) through a Redis kill + restart; after it, work resumes by itself and everything answered 202
    is recorded."""
    db = tmp_path / "serve.db"
    with PrivateRedis(tmp_path) as redis:
        proc = Livecs(
            tmp_path, "serve", "--source", "webhook", "--port", "0", "--token", TOKEN, "--db", str(db),
            "--redis", redis.url,
        )  # fmt: skip
        try:
            port = int((await asyncio.to_thread(proc.wait_for, WEBHOOK_LINE, 30)).group(1))
            flood = Flood(port, clients=4, batch=20, pause_s=0.01)
            flood.start()
            await asyncio.sleep(2)
            redis.kill()
            await asyncio.sleep(2)
            during = len(flood.accepted)
            redis.start()
            await asyncio.to_thread(proc.wait_for, "buffered records sent", 20)
            await asyncio.sleep(2)
            after = len(flood.accepted)
            proc.signal(signal.SIGTERM)
            code = await _exited(proc, 40)
            await flood.stop()
        finally:
            proc.kill()
    out = proc.text()
    assert code == 0, out
    assert set(flood.statuses) <= {202, 503}, flood.statuses
    assert after > during  # accepting again after the restart
    missing = flood.accepted - stored_comment_ids(db)
    assert not missing, f"{len(missing)} comments answered 202 are not in the record:\n{out[-3000:]}"
    [session] = sessions(db)
    assert session["ended_at"] is not None
    assert session["stats"]["record"]["comments"] == len(flood.accepted)
    assert session["stats"]["lost"] == 0


async def test_a_second_sigterm_says_what_it_does_and_still_keeps_every_202(tmp_path: Path) -> None:
    """Issue 11 item 2: a second SIGTERM skips a long drain (60 s deadline here) and says so; what is left is
    recorded untriaged, nothing answered 202 is lost, and the process ends long before the deadline."""
    db = tmp_path / "serve.db"
    proc = Livecs(
        tmp_path, "serve", "--source", "webhook", "--port", "0", "--token", TOKEN, "--db", str(db),
        env={"LIVECS_PIPELINE__STOP_DRAIN_S": "60"},
    )  # fmt: skip
    try:
        port = int((await asyncio.to_thread(proc.wait_for, WEBHOOK_LINE, 30)).group(1))
        flood = Flood(port, clients=20, batch=50)
        flood.start()
        await asyncio.sleep(3)
        proc.signal(signal.SIGTERM)
        await asyncio.to_thread(proc.wait_for, "draining", 10)
        t0 = time.monotonic()
        proc.signal(signal.SIGTERM)
        code = await _exited(proc, 30)
        forced_s = time.monotonic() - t0
        await flood.stop()
    finally:
        proc.kill()
    out = proc.text()
    assert code == 0, out
    assert forced_s < 20, out
    assert re.search(r"second interrupt .*: skipping the drain — the \d+ accepted records", out), out
    missing = flood.accepted - stored_comment_ids(db)
    assert not missing, f"{len(missing)} comments answered 202 are not in the record"
    [session] = sessions(db)
    assert session["ended_at"] is not None and session["stats"]["untriaged"] > 0
    assert session["stats"]["lost"] == 0


async def test_an_ingest_only_replay_waits_for_the_workers_and_reports_what_the_record_holds(
    tmp_path: Path,
) -> None:
    """Issue 11 item 8 (last point): ``replay --workers 0`` on Redis waits until separate worker processes
    have recorded its comments, and its summary and session say so (not "recorded 0")."""
    rec = tmp_path / "rec.jsonl"
    n = write_jsonl(rec, duration_s=10, seed=8, rate=200, room="r3", events=False)
    db = tmp_path / "shared.db"
    with PrivateRedis(tmp_path) as redis:
        worker = Livecs(
            tmp_path, "serve", "--source", "none", "--no-console", "--workers", "1", "--redis", redis.url,
            "--db", str(db),
        )  # fmt: skip
        try:
            await asyncio.to_thread(worker.wait_for, "livecs serving", 30)
            replay = Livecs(
                tmp_path, "replay", str(rec), "--speed", "max", "--workers", "0", "--redis", redis.url,
                "--db", str(db),
            )  # fmt: skip
            assert await _exited(replay, 50) == 0, replay.text()
            worker.signal(signal.SIGTERM)
            assert await _exited(worker, 20) == 0, worker.text()
        finally:
            worker.kill()
    out = replay.text()
    assert re.search(rf"in record: \S+: {n} comments, 0 events, 0 untriaged", out), out
    assert len(stored_comment_ids(db)) == n
    [session] = sessions(db)
    assert session["ended_at"] is not None and session["stats"]["record"]["comments"] == n
