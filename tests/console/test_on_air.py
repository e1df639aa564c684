"""The merchant's on-air changes become ``on_air`` events in the live session (the review's on-air periods);
a platform cannot send one."""

from __future__ import annotations

import asyncio
import sqlite3

import aiohttp
import orjson
import pytest

from livecs.ingest.validate import Rejected, Validator

from .conftest import ROOM, SESSION, VALID_LIBRARY, bearer, comment_group


async def test_setting_a_product_on_air_is_recorded_as_an_event(make_console) -> None:
    con = await make_console()
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    await con.publish(comment_group("有S码吗"))
    await con.settle()
    for link in (2, None, 1):
        r = await con.client.post("/api/merchant/on-air", json={"link": link}, headers=bearer("shop"))
        assert r.status == 200, await r.text()
    r = await con.client.post("/api/merchant/on-air", json={"link": 99}, headers=bearer("shop"))
    assert r.status == 404  # no such product: nothing recorded
    conn = sqlite3.connect(con.store.path)
    rows = conn.execute(
        "SELECT session_id, room, platform, data FROM events WHERE kind='on_air' ORDER BY ts"
    ).fetchall()
    conn.close()
    assert [(s, r_, p) for s, r_, p, _ in rows] == [(SESSION, ROOM, "console")] * 3
    assert [orjson.loads(d)["link"] for *_, d in rows] == [2, None, 1]
    assert {orjson.loads(d)["by"] for *_, d in rows} == {"shop"}


def test_a_platform_cannot_send_an_on_air_event() -> None:
    with pytest.raises(Rejected) as e:
        Validator().record({"type": "on_air", "room": "r1", "data": {"link": 3}})
    assert e.value.reason == "unknown_type"


async def test_the_demo_merchant_sets_the_rundown_on_air(make_console) -> None:
    from livecs.ingest.simulator import PlannedPhase
    from livecs.runner import DEMO_MERCHANT, demo_merchant

    con = await make_console()
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    await con.publish(comment_group("有S码吗"))
    await con.settle()
    plan = [
        PlannedPhase(0.0, 0.05, "intro", 1, "连衣裙"),
        PlannedPhase(0.05, 0.1, "pitch", 1, "连衣裙"),  # the same product: no new change
        PlannedPhase(0.1, 0.2, "intro", 2, "阔腿裤"),
        PlannedPhase(0.12, 0.3, "complaint_wave"),  # an overlay, no product
        PlannedPhase(0.2, 0.3, "intro", 99, "没有这个链接"),  # not in the library: not set, not recorded
    ]
    await asyncio.wait_for(demo_merchant(plan, con.app, ROOM), 3)
    conn = sqlite3.connect(con.store.path)
    rows = conn.execute("SELECT data FROM events WHERE kind='on_air' ORDER BY ts").fetchall()
    conn.close()
    assert [orjson.loads(r[0]) for r in rows] == [
        {"link": 1, "by": DEMO_MERCHANT},
        {"link": 2, "by": DEMO_MERCHANT},
    ]
    assert con.merchant.active_library().on_air_link == 2


async def test_a_library_switch_keeps_the_product_on_air_only_if_its_link_still_names_it(
    make_console,
) -> None:
    """Link 2 on air, then a library whose link 2 is another product: nothing is on air (the streamer would
    see a product nobody chose), and the change is recorded; the same product at link 2 stays on air."""
    con = await make_console()
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    await con.publish(comment_group("有S码吗"))
    await con.settle()
    same = VALID_LIBRARY.replace('version: "2025.06"', 'version: "2025.06.2"')
    other = VALID_LIBRARY.replace("link: 2, name: 高腰阔腿裤", "link: 2, name: 羊毛开衫").replace(
        "NY-002", "NY-009"
    )
    assert same != VALID_LIBRARY and other != VALID_LIBRARY

    async def upload(text: str) -> None:
        form = aiohttp.FormData()
        form.add_field("file", text.encode(), filename="lib.yaml")
        form.add_field("activate", "1")
        r = await con.client.post("/api/merchant/upload", data=form, headers=bearer("shop"))
        assert r.status == 200, await r.text()

    async def on_air() -> int | None:
        r = await con.client.get("/api/merchant/products", headers=bearer("shop"))
        return (await r.json())["on_air"]  # type: ignore[no-any-return]

    r = await con.client.post("/api/merchant/on-air", json={"link": 2}, headers=bearer("shop"))
    assert r.status == 200
    await upload(same)
    assert await on_air() == 2  # the same product at link 2: still on air
    await upload(other)
    assert await on_air() is None
    conn = sqlite3.connect(con.store.path)
    rows = conn.execute("SELECT data FROM events WHERE kind='on_air' ORDER BY ts").fetchall()
    conn.close()
    assert [orjson.loads(d)["link"] for (d,) in rows] == [2, None]  # the switch ended the on-air period
