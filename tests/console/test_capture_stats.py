"""Capture health of a live-platform source (Douyin) in GET /api/stats, and the 弹幕停滞 alert."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from livecs.console.hub import IDLE_REFRESH_S
from livecs.ingest.douyin.health import CaptureHealth

from .conftest import bearer


async def test_capture_health_and_stalled_alert_in_stats(make_console: Any) -> None:
    con = await make_console()
    health = CaptureHealth(stall_after_s=30)
    now = time.time()
    health.connected(now - 100)
    health.message("WebcastChatMessage", now - 5)
    health.drop("bad_frame")
    con.counters.capture["douyin"] = lambda: health.snapshot(time.time())
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    cap = stats["capture"]["douyin"]
    assert cap["by_method"] == {"WebcastChatMessage": 1} and cap["drops"] == {"bad_frame": 1}
    assert cap["live"] and not cap["stalled"] and 4 <= cap["last_chat_age_s"] <= 10
    assert "ingest_stalled" not in {a["code"] for a in stats["alerts"]}

    health.last_chat = now - 45  # no chat for 45 s in a live room
    await asyncio.sleep(IDLE_REFRESH_S / 2)  # the hub caches the stats of a room with no new records
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    [alert] = [a for a in stats["alerts"] if a["code"] == "ingest_stalled"]
    assert alert["title"] == "弹幕停滞" and alert["level"] == "danger" and "douyin" in alert["detail"]

    health.live_ended()  # the live ended: silence is expected
    await asyncio.sleep(IDLE_REFRESH_S / 2)
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    assert "ingest_stalled" not in {a["code"] for a in stats["alerts"]}
