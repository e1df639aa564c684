"""Tickets (工单) through the console's API: escalate a card → a stored ticket; take, reassign, note, contact
the viewer through the outbound connector, close; roles; the overdue flag after a shortened due time; every
change an action in the record; the ticket survives a restart and shows in the review."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from livecs.console.app import init_app
from livecs.console.auth import Auth
from livecs.metrics import Counters
from livecs.models import Intent, Priority, Sentiment
from livecs.review import build_review
from livecs.tickets.model import TicketSettings

from .conftest import ROOM, SESSION, Console, RecordingConnector, bearer, comment_group


async def _escalate(con: Console, text: str = "三天了还不发货 骗子", note: str = "要求退款，核实物流") -> str:
    await con.publish(
        comment_group(
            text, priority=Priority.P0, intent=Intent.COMPLAINT, sentiment=Sentiment.NEG, nickname="王小明"
        )
    )
    await con.settle(lambda: bool(con.hub.room(ROOM).items))
    r = await con.client.get("/api/queue", headers=bearer("alice"))
    item = next(i for i in (await r.json())["items"] if i["text"] == text)
    r = await con.client.post(
        "/api/actions",
        json={"item_id": item["id"], "kind": "escalate", "note": note},
        headers=bearer("alice"),
    )
    assert r.status == 200, await r.text()
    ticket = (await r.json())["ticket"]
    assert ticket["ticket_id"].startswith("T")
    return str(ticket["ticket_id"])


async def _change(con: Console, user: str, tid: str, **body: Any) -> tuple[int, dict[str, Any]]:
    r = await con.client.post(f"/api/tickets/{tid}", json=body, headers=bearer(user))
    return r.status, await r.json()


async def _list(con: Console, user: str, query: str = "") -> dict[str, Any]:
    r = await con.client.get(f"/api/tickets{query}", headers=bearer(user))
    assert r.status == 200, await r.text()
    data: dict[str, Any] = await r.json()
    return data


def _ticket_actions(db: Path) -> list[tuple[str, str, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT operator, note, target_id, delivery_status FROM actions WHERE kind='ticket' ORDER BY ts"
        ).fetchall()
    finally:
        conn.close()


async def test_ticket_lifecycle_through_the_api(make_console, aiohttp_client, tmp_path: Path) -> None:
    con = await make_console()
    before = time.time()
    tid = await _escalate(con)
    data = await _list(con, "alice")
    (t,) = data["items"]
    assert t["ticket_id"] == tid and t["status"] == "open" and t["status_zh"] == "待处理"
    assert t["viewer"]["nickname"] == "王小明" and t["comments"][0]["text"] == "三天了还不发货 骗子"
    assert t["note"] == "要求退款，核实物流" and t["priority"] == "P0" and t["created_by"] == "alice"
    assert before + 24 * 3600 - 5 < t["due_first_response"] < time.time() + 24 * 3600
    assert t["due_resolution"] - t["created_at"] == 72 * 3600
    assert data["operators"] == ["alice", "bob", "root"] and data["can_edit"] is True
    # the card left the queue as 已转工单
    assert con.hub.room(ROOM).recent[0].status == "escalated"

    status, t = await _change(con, "alice", tid, kind="take")
    assert status == 200 and t["status"] == "in_progress" and t["owner"] == "alice" and t["first_response_at"]
    status, err = await _change(con, "alice", tid, kind="reassign", owner="nobody")
    assert status == 422 and "nobody" in err["message"]
    status, t = await _change(con, "alice", tid, kind="reassign", owner="bob", text="物流组")
    assert status == 200 and t["owner"] == "bob"
    assert [x["ticket_id"] for x in (await _list(con, "bob", "?view=mine"))["items"]] == [tid]
    assert (await _list(con, "alice", "?view=mine"))["items"] == []
    assert (await _list(con, "alice", "?status=closed"))["items"] == []
    assert len((await _list(con, "alice", f"?room={ROOM}&status=in_progress"))["items"]) == 1
    assert (await _list(con, "alice", "?room=other"))["items"] == []
    status, t = await _change(con, "bob", tid, kind="note", text="已联系快递，明天补发")
    assert status == 200
    # contact the viewer: a reply through the outbound connector, addressed to the viewer's comment
    status, t = await _change(con, "bob", tid, kind="contact", text="亲，已为您加急补发")
    assert status == 200
    await asyncio.wait_for(con.connector.got.wait(), 3)
    msg = con.connector.messages[-1]
    assert msg["type"] == "reply" and msg["ticket_id"] == tid and msg["text"] == "亲，已为您加急补发"
    assert msg["nickname"] == "王小明" and msg["operator"] == "bob"

    # roles: a merchant reads (masked), cannot change; a streamer cannot even read
    r = await con.client.get("/api/tickets", headers=bearer("shop"))
    assert r.status == 200
    mt = (await r.json())["items"][0]
    assert mt["viewer"]["user_id"] == "" and mt["viewer"]["nickname"] == "王*明"
    assert (await r.json())["can_edit"] is False
    assert (await _change(con, "shop", tid, kind="note", text="x"))[0] == 403
    assert (await con.client.get("/api/tickets", headers=bearer("star"))).status == 403
    assert (await con.client.get("/api/tickets")).status == 401
    assert (await con.client.get("/tickets", headers=bearer("shop"))).status == 200
    assert (await con.client.get("/tickets", headers=bearer("star"))).status == 403

    # close: an outcome is required; closed tickets refuse changes
    assert (await _change(con, "bob", tid, kind="close", text="已补发"))[0] == 422
    status, t = await _change(con, "bob", tid, kind="close", text="已补发，观众确认收到", outcome="resolved")
    assert status == 200 and t["status"] == "closed" and t["outcome"] == "resolved"
    assert (await _change(con, "bob", tid, kind="note", text="再看看"))[0] == 409
    assert (await _change(con, "bob", "T99999", kind="take"))[0] == 404
    assert (await _change(con, "bob", tid, kind="explode"))[0] == 422
    assert [h["kind"] for h in t["history"]] == ["create", "take", "reassign", "note", "contact", "close"]

    # every change is an action in the record (and the contact's delivery attempt too)
    for _ in range(100):
        acts = _ticket_actions(con.store.path)
        if any(a[3] == "sent" for a in acts):
            break
        await asyncio.sleep(0.02)
    notes = [a[1] for a in acts if not a[3]]
    assert notes == ["create", "take", "reassign → bob", "note", "contact", "close: resolved"]
    assert {a[2] for a in acts} == {tid}
    assert any(a[3] == "sent" and a[0] == "bob" for a in acts)

    # a restart (a new console on the same record) still has the ticket, closed, with its history
    settings = con.settings
    app2 = init_app(
        settings,
        bus=con.bus,
        store=con.store,
        counters=Counters(),
        auth=Auth.from_settings(settings)[0],
        merchant=con.merchant,
        connector=RecordingConnector(),
        default_room=ROOM,
    )
    client2 = await aiohttp_client(app2)
    r = await client2.get("/api/tickets?status=closed", headers=bearer("alice"))
    (again,) = (await r.json())["items"]
    assert again["ticket_id"] == tid and again["resolution"] == "已补发，观众确认收到"
    assert len(again["history"]) == 6
    # two consoles on one record: a change made by one is the base of the other's next change
    r = await client2.post(f"/api/tickets/{tid}", json={"kind": "reopen"}, headers=bearer("alice"))
    assert r.status == 200 and (await r.json())["status"] == "in_progress"
    status, t = await _change(con, "bob", tid, kind="note", text="观众又来问了")
    assert status == 200 and [h["kind"] for h in t["history"]][-2:] == ["reopen", "note"]
    status, t = await _change(con, "bob", tid, kind="close", text="已补发，观众确认收到", outcome="resolved")
    assert status == 200

    # the review shows it (and exports it); the session row is the pipeline's to write
    conn = sqlite3.connect(con.store.path)
    with conn:
        conn.execute(
            "INSERT INTO sessions (session_id, room, source, started_at) VALUES (?,?,?,?)",
            (SESSION, ROOM, "test", before - 60),
        )
    conn.close()
    res = build_review(con.store.path, SESSION, tmp_path / "review", "html,csv,jsonl")
    html = next(p for p in res.files if p.name == "report.html").read_text(encoding="utf-8")
    assert tid in html and "已关闭" in html and "已补发，观众确认收到" in html
    assert res.rows["tickets"] == 1


async def test_overdue_ticket_is_flagged_on_the_console(make_console) -> None:
    con = await make_console(tickets=TicketSettings(first_response_h=1 / 3600, resolution_h=1))
    tid = await _escalate(con)
    r = await con.client.get("/api/stats", headers=bearer("alice"))
    stats = await r.json()
    assert stats["tickets_overdue"] == 0
    assert not [a for a in stats["alerts"] if a["code"] == "tickets_overdue"]
    await asyncio.sleep(1.3)  # past the shortened first-response time
    r = await con.client.get("/api/stats", headers=bearer("alice"))
    stats = await r.json()
    assert stats["tickets_overdue"] == 1
    (alert,) = [a for a in stats["alerts"] if a["code"] == "tickets_overdue"]
    assert alert["title"] == "工单超期" and "1 个工单" in alert["detail"]
    data = await _list(con, "alice", "?view=overdue")
    assert [t["ticket_id"] for t in data["items"]] == [tid] and data["items"][0][
        "overdue"
    ] == "first_response"
    assert data["overdue"] == 1
    # a response clears the first-response flag
    assert (await _change(con, "alice", tid, kind="take"))[0] == 200
    assert (await _list(con, "alice", "?view=overdue"))["items"] == []
    await asyncio.sleep(IDLE := 0.6)
    del IDLE
    r = await con.client.get("/api/stats", headers=bearer("alice"))
    assert (await r.json())["tickets_overdue"] == 0


async def test_escalating_a_cluster_keeps_its_comments(make_console) -> None:
    con = await make_console()
    for i in range(3):
        await con.publish(
            comment_group(f"这单什么时候发货{i}", cluster="ship", priority=Priority.P2, nickname=f"观众{i}")
        )
    await con.settle(lambda: any(i.kind == "cluster" for i in con.hub.room(ROOM).items.values()))
    r = await con.client.get("/api/queue", headers=bearer("alice"))
    item = next(i for i in (await r.json())["items"] if i["kind"] == "cluster")
    r = await con.client.post(
        "/api/actions",
        json={"item_id": item["id"], "kind": "escalate", "note": "批量发货延迟"},
        headers=bearer("bob"),
    )
    assert r.status == 200
    (t,) = (await _list(con, "bob"))["items"]
    assert t["source"] == "cluster" and len(t["comments"]) == item["count"] >= 2
    assert t["created_by"] == "bob"
