"""Resolution (已解决/未解决) and satisfaction marks on cards and clusters: recorded, the last mark counts,
and the live panel's rates by intent and by operator."""

from __future__ import annotations

from typing import Any

from livecs.models import Intent, Priority

from .conftest import ROOM, bearer, comment_group


async def test_marks_are_recorded_and_rated_by_intent_and_operator(make_console) -> None:
    con = await make_console()
    await con.publish(
        comment_group("a 有S码吗", intent=Intent.PRODUCT),
        comment_group("b 什么时候发货", intent=Intent.LOGISTICS),
        comment_group("c 质量太差", intent=Intent.COMPLAINT, priority=Priority.P0),
        *[
            comment_group(f"d 发什么快递{i}", intent=Intent.LOGISTICS, priority=Priority.P2, cluster="k")
            for i in range(3)
        ],
    )
    await con.settle()
    items = {
        i["text"][0]: i
        for i in (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"]
    }

    async def act(user: str, key: str, kind: str, **extra: Any) -> tuple[int, dict[str, Any]]:
        r = await con.client.post(
            "/api/actions", json={"item_id": items[key]["id"], "kind": kind, **extra}, headers=bearer(user)
        )
        return r.status, await r.json()

    assert (await act("alice", "a", "send"))[0] == 200
    assert (await act("alice", "a", "resolve", note="resolved"))[0] == 200  # after the reply
    assert (await act("alice", "a", "satisfaction", note="satisfied"))[0] == 200
    assert (await act("bob", "b", "resolve", note="unresolved"))[0] == 200  # an open card: handled by it
    assert (await act("bob", "b", "resolve", note="maybe"))[0] == 422
    assert (await act("bob", "c", "resolve", note="unresolved"))[0] == 200
    assert (await act("bob", "c", "resolve", note="resolved"))[0] == 200  # changed: the last mark counts
    assert (await act("bob", "d", "resolve", note="resolved"))[0] == 200  # a cluster
    assert (await act("bob", "c", "satisfaction", note="unsatisfied"))[0] == 200
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    recent = {i["text"][0]: i for i in q["recent"]}
    assert recent["b"]["status"] == "unresolved" and recent["a"]["marks"] == {
        "resolve": "resolved",
        "satisfaction": "satisfied",
    }
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    res, sat = stats["marks"]["resolve"], stats["marks"]["satisfaction"]
    assert (res["good"], res["marked"], res["rate"]) == (3, 4, 0.75)
    assert res["by_intent"]["logistics"] == {"good": 1, "marked": 2, "rate": 0.5}
    assert res["by_intent"]["complaint"] == {"good": 1, "marked": 1, "rate": 1.0}
    assert res["by_operator"] == {
        "alice": {"good": 1, "marked": 1, "rate": 1.0},
        "bob": {"good": 2, "marked": 3, "rate": 0.6667},
    }
    assert (sat["good"], sat["marked"]) == (1, 2)
    marks = [
        (a["kind"], a["note"], a["operator"])
        for a in con.actions()
        if a["kind"] in ("resolve", "satisfaction")
    ]
    assert marks == [
        ("resolve", "resolved", "alice"),
        ("satisfaction", "satisfied", "alice"),
        ("resolve", "unresolved", "bob"),
        ("resolve", "unresolved", "bob"),
        ("resolve", "resolved", "bob"),
        ("resolve", "resolved", "bob"),
        ("satisfaction", "unsatisfied", "bob"),
    ]
    assert not {i["text"][0] for i in q["items"]} & {"b", "c", "d"}  # marked open cards were handled
    assert ROOM in con.hub.tallies


async def test_satisfaction_on_an_open_card_is_recorded_and_leaves_it_open(make_console) -> None:
    """满意/不满意 is the viewers' follow-up, not a resolution: on an open card it is counted and the card
    stays in the queue (only 已解决/未解决 closes it)."""
    con = await make_console()
    await con.publish(comment_group("e 有S码吗", intent=Intent.PRODUCT))
    await con.settle()
    (item,) = (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"]
    r = await con.client.post(
        "/api/actions",
        json={"item_id": item["id"], "kind": "satisfaction", "note": "unsatisfied"},
        headers=bearer("alice"),
    )
    assert r.status == 200
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    (still,) = q["items"]
    assert still["id"] == item["id"] and still["status"] == "open"
    assert still["marks"] == {"satisfaction": "unsatisfied"} and q["recent"] == []
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    sat = stats["marks"]["satisfaction"]
    assert (sat["good"], sat["marked"]) == (0, 1)
    assert [(a["kind"], a["note"]) for a in con.actions()] == [("satisfaction", "unsatisfied")]
