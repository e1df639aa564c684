"""The viewer card's API: one viewer's comments, actions, coupons, orders and tickets across broadcasts,
masked for operators and not for admins; roles."""

from __future__ import annotations

import time

from livecs.models import EventKind, Intent, LiveEvent, Priority, Result
from livecs.store import StoreBatch

from .conftest import ROOM, SESSION, VALID_LIBRARY, bearer, comment_group


async def test_viewer_card_across_broadcasts(make_console) -> None:
    con = await make_console()
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    groups = [
        comment_group(
            "三天了还没发货 电话13812345678",
            user_id="buyer",
            nickname="橙子",
            intent=Intent.COMPLAINT,
            priority=Priority.P0,
        ),
        comment_group("想要券", user_id="buyer", nickname="橙子", coupon="full_300_50"),
        comment_group("别人的评论", user_id="someone"),
    ]
    older = comment_group("上次买的裙子很好看", user_id="buyer", nickname="橙子")
    results = [(SESSION, g[0]) for g in groups] + [("older-session", older[0])]
    assert all(isinstance(r, Result) for _, r in results)
    # what the pipeline records (this broadcast and an older one), and what it publishes to the console
    await con.store.write(
        StoreBatch(
            comments=[(s, r.comment) for s, r in results],
            triages=[(s, r.triage) for s, r in results if r.triage is not None],
        )
    )
    await con.publish(*groups)
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    items = {i["text"][:2]: i for i in q["items"]}
    r = await con.client.post(
        "/api/actions",
        json={"item_id": items["三天"]["id"], "kind": "escalate", "note": "回电 13812345678"},
        headers=bearer("alice"),
    )
    assert r.status == 200
    r = await con.client.post(
        "/api/actions",
        json={"item_id": items["想要"]["id"], "kind": "approve_coupon"},
        headers=bearer("alice"),
    )
    assert r.status == 200, await r.text()
    now = time.time()
    await con.store.write(
        StoreBatch(
            events=[
                (
                    "older-session",
                    LiveEvent(
                        "o1",
                        "test",
                        ROOM,
                        EventKind.ORDER_PAID,
                        now - 86_400,
                        "buyer",
                        "橙子",
                        data={"link": 2, "amount": 89, "address": "幸福小区3栋2单元502室"},
                    ),
                ),
                (
                    SESSION,
                    LiveEvent(
                        "o2", "test", ROOM, EventKind.ORDER_PAID, now, "someone", "路人", data={"link": 1}
                    ),
                ),
            ]
        )
    )
    r = await con.client.get("/api/viewer?user_id=buyer", headers=bearer("alice"))
    assert r.status == 200
    v = await r.json()
    assert v["nickname"] == "橙子" and v["masked"] is True
    assert v["totals"] == {"comments": 3, "sessions": 2, "coupons": 1, "orders": 1, "tickets": 1}
    texts = [c["text"] for c in v["comments"]]
    assert "三天了还没发货 电话[手机]" in texts and not any("13812345678" in t for t in texts)
    assert v["tickets"][0]["ticket_id"] == "T00001" and "13812345678" not in v["tickets"][0]["note"]
    assert v["coupons"][0]["coupon_rule_id"] == "full_300_50" and v["coupons"][0]["operator"] == "alice"
    assert v["orders"][0]["data"]["link"] == 2 and v["orders"][0]["data"]["address"] == "[已脱敏]"
    assert {a["kind"] for a in v["actions"]} >= {"escalate", "approve_coupon"}
    assert "别人的评论" not in str(v)
    # an admin sees it as recorded
    v = await (await con.client.get("/api/viewer?user_id=buyer", headers=bearer("root"))).json()
    assert v["masked"] is False and "三天了还没发货 电话13812345678" in [c["text"] for c in v["comments"]]
    assert v["orders"][0]["data"]["address"] == "幸福小区3栋2单元502室"
    # roles and bad input
    assert (await con.client.get("/api/viewer?user_id=buyer", headers=bearer("shop"))).status == 403
    assert (await con.client.get("/api/viewer?user_id=buyer", headers=bearer("star"))).status == 403
    assert (await con.client.get("/api/viewer?user_id=buyer")).status == 401
    assert (await con.client.get("/api/viewer", headers=bearer("alice"))).status == 422
    v = await (await con.client.get("/api/viewer?user_id=nobody", headers=bearer("alice"))).json()
    assert v["totals"]["comments"] == 0 and v["comments"] == []
