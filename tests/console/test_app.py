"""The console app over HTTP and real websockets: auth on every route, Origin checks, security headers,
actions and their records, delivery with retries, queue cap, push rate cap, shared taken state."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson
import pytest

from livecs.console.app import CSP
from livecs.models import Intent, Priority, Sentiment

from .conftest import ROOM, TOKENS, VALID_LIBRARY, RecordingConnector, bearer, comment_group

# every route, the method, and the roles that may use it (admin always may)
ROUTES = [
    ("GET", "/", {"operator", "streamer", "merchant"}),
    ("GET", "/console", {"operator"}),
    ("GET", "/streamer", {"operator", "streamer"}),
    ("GET", "/merchant", {"merchant"}),
    ("GET", "/static/common.js", {"operator", "streamer", "merchant"}),
    ("GET", "/static/console.js", {"operator"}),
    ("GET", "/static/streamer.js", {"operator", "streamer"}),
    ("GET", "/static/merchant.js", {"merchant"}),
    ("GET", "/api/me", {"operator", "streamer", "merchant"}),
    ("GET", "/api/rooms", {"operator", "streamer"}),
    ("GET", "/api/queue", {"operator"}),
    ("GET", "/api/stats", {"operator", "streamer"}),
    ("GET", "/api/streamer", {"operator", "streamer"}),
    ("POST", "/api/actions", {"operator"}),
    ("POST", "/api/actions/bulk", {"operator"}),
    ("GET", "/api/merchant/versions", {"merchant"}),
    ("GET", "/api/merchant/products", {"merchant"}),
    ("POST", "/api/merchant/upload", {"merchant"}),
    ("POST", "/api/merchant/activate", {"merchant"}),
    ("GET", "/api/merchant/rollback", {"merchant"}),
    ("POST", "/api/merchant/rollback", {"merchant"}),
    ("POST", "/api/merchant/on-air", {"merchant"}),
    ("POST", "/logout", {"operator", "streamer", "merchant"}),
    ("GET", "/nope", set()),
]
USER_OF_ROLE = {"operator": "alice", "streamer": "star", "merchant": "shop", "admin": "root"}


async def test_every_route_needs_a_token_of_an_allowed_role(make_console) -> None:
    con = await make_console(login_max_failures=10_000)  # the lockout has its own test
    await con.publish(comment_group("有S码吗"))
    await con.settle()
    c = con.client
    for method, path, roles in ROUTES:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-wrong-token"},
            {"Cookie": "livecs_token=bad"},
        ):
            r = await c.request(method, path, headers=headers, allow_redirects=False)
            body = await r.text()
            assert r.status == 401, (method, path, headers, r.status)
            assert "有S码吗" not in body and "u1" not in body
        for role, user in USER_OF_ROLE.items():
            r = await c.request(method, path, headers=bearer(user), allow_redirects=False)
            if path == "/nope":
                assert r.status == 403, (path, role)
            elif role in roles or role == "admin":
                assert r.status not in (401, 403), (method, path, role, r.status)
            else:
                assert r.status == 403, (method, path, role, r.status)
                assert "有S码吗" not in await r.text()


async def test_favicon_is_an_empty_public_answer(make_console) -> None:
    """Browsers ask every page for /favicon.ico: a 204 without a token, never a 401 in the operator's log."""
    con = await make_console()
    r = await con.client.get("/favicon.ico")
    assert r.status == 204 and await r.read() == b""


async def test_pages_show_the_login_form_and_login_sets_a_strict_cookie(make_console) -> None:
    con = await make_console()
    c = con.client
    r = await c.get("/console", headers={"Accept": "text/html"})
    assert r.status == 401 and 'action="/login"' in await r.text()
    origin = {"Origin": f"http://{c.server.host}:{c.server.port}"}
    r = await c.post("/login", data={"token": "nope"}, headers=origin, allow_redirects=False)
    assert r.status == 401 and "令牌无效" in await r.text()
    r = await c.post("/login", data={"token": TOKENS["alice"]}, headers=origin, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/console"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    r = await c.get("/api/queue")  # the cookie jar now carries the session
    assert r.status == 200
    r = await c.post("/login", data={"token": TOKENS["shop"]}, headers=origin, allow_redirects=False)
    assert r.headers["Location"] == "/merchant"


async def test_security_headers_on_every_response(make_console) -> None:
    con = await make_console()
    for path, headers in (
        ("/login", {}),
        ("/api/queue", {}),
        ("/api/queue", bearer("alice")),
        ("/console", bearer("alice")),
        ("/static/app.css", {}),
    ):
        r = await con.client.get(path, headers=headers)
        assert r.headers["Content-Security-Policy"] == CSP, path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    html = await (await con.client.get("/console", headers=bearer("alice"))).text()
    assert "<script>" not in html and " on" not in html.replace(" only", "")  # no inline script or handler


async def test_cookie_writes_and_websockets_must_come_from_our_origin(make_console) -> None:
    con = await make_console()
    await con.publish(comment_group("发货了吗"))
    await con.settle()
    c = con.client
    await c.post(
        "/login",
        data={"token": TOKENS["alice"]},
        headers={"Origin": f"http://{c.server.host}:{c.server.port}"},
    )
    item_id = (await (await c.get("/api/queue")).json())["items"][0]["id"]
    r = await c.post(
        "/api/actions", json={"item_id": item_id, "kind": "take"}, headers={"Origin": "http://evil.example"}
    )
    assert r.status == 403
    r = await c.post("/api/actions", json={"item_id": item_id, "kind": "take"})  # cookie without Origin
    assert r.status == 403
    host = f"http://{c.server.host}:{c.server.port}"
    r = await c.post("/api/actions", json={"item_id": item_id, "kind": "take"}, headers={"Origin": host})
    assert r.status == 200
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await c.ws_connect("/ws?view=console", headers={"Origin": "http://evil.example"})
    assert exc.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await c.ws_connect("/ws?view=console")  # cookie, no Origin
    assert exc.value.status == 403
    ws = await c.ws_connect("/ws?view=console", headers={"Origin": host})
    msg = await ws.receive_json(timeout=3)
    assert msg["type"] == "console" and msg["items"][0]["taken_by"] == "alice"
    await ws.close()


async def test_websocket_roles(make_console) -> None:
    con = await make_console()
    c = con.client
    for name, view, ok in (
        ("star", "console", False),
        ("star", "streamer", True),
        ("shop", "streamer", False),
        ("alice", "console", True),
    ):
        if ok:
            ws = await c.ws_connect(f"/ws?view={view}", headers=bearer(name))
            assert (await ws.receive_json(timeout=3))["type"] == view
            await ws.close()
        else:
            with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
                await c.ws_connect(f"/ws?view={view}", headers=bearer(name))
            assert exc.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
        await c.ws_connect("/ws?view=console")
    assert exc.value.status == 401


async def test_queue_sorted_by_priority_then_deadline_and_clusters_grouped(make_console) -> None:
    con = await make_console()
    await con.publish(
        comment_group("有S码吗", priority=Priority.P2, cluster="size", sla_s=180),
        comment_group("有M码吗", priority=Priority.P2, cluster="size", sla_s=170),
        comment_group("付不了款", priority=Priority.P1, intent=Intent.PAYMENT, sla_s=60),
        comment_group(
            "再不发货投诉12315",
            priority=Priority.P0,
            intent=Intent.COMPLAINT,
            sla_s=30,
            sentiment=Sentiment.NEG,
        ),
        comment_group("优惠券用不了", priority=Priority.P1, intent=Intent.PAYMENT, sla_s=20),
        comment_group("加V领福利", priority=Priority.MOD, intent=Intent.SPAM, spam=True),
        comment_group("哈哈哈", priority=Priority.P3, intent=Intent.CHITCHAT),
    )
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    texts = [i["text"] for i in q["items"]]
    assert texts == ["再不发货投诉12315", "优惠券用不了", "付不了款", "加V领福利", "有S码吗"]
    cluster = q["items"][-1]
    assert cluster["kind"] == "cluster" and cluster["count"] == 2 and len(cluster["members"]) == 2
    assert q["items"][3]["queue"] == "mod"
    stats = await (await con.client.get("/api/stats", headers=bearer("star"))).json()
    assert stats["open_p0"] == 1 and stats["open_p1"] == 2 and stats["counted_only"] == 1
    assert stats["intent_mix"]["product"] == 2 and stats["ingest"] == {"test": "running"}
    assert stats["bus"] == {}  # bus drops / dead letters: none on the in-process bus


async def test_queue_capped_with_the_rest_counted(make_console) -> None:
    con = await make_console(queue_visible=10)
    await con.publish(*[comment_group(f"问题{i}", priority=Priority.P1) for i in range(35)])
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    assert len(q["items"]) == 10 and q["hidden"] == 25
    ws = await con.client.ws_connect("/ws?view=console", headers=bearer("alice"))
    msg = await ws.receive_json(timeout=3)
    assert len(msg["order"]) == 10 and msg["hidden"] == 25
    await ws.close()


async def test_a_burst_of_urgent_questions_does_not_hide_the_moderation_queue(make_console) -> None:
    """Regression: the cap was shared, so 50+ P0/P1 cards pushed every spam item out of sight."""
    con = await make_console(queue_visible=10)
    await con.publish(*[comment_group(f"问题{i}", priority=Priority.P1) for i in range(30)])
    await con.publish(
        *[comment_group(f"加V{i}", priority=Priority.MOD, intent=Intent.SPAM, spam=True) for i in range(3)]
    )
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    queues = [i["queue"] for i in q["items"]]
    assert queues.count("mod") == 3 and queues.count("reply") == 10
    assert q["hidden"] == 20


async def test_send_delivers_and_is_recorded_with_operator_and_time(make_console) -> None:
    con = await make_console()
    await con.publish(comment_group("165/110斤穿什么码", nickname="丽丽"))
    await con.settle()
    item = (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"][0]
    before = time.time()
    r = await con.client.post(
        "/api/actions", json={"item_id": item["id"], "kind": "take"}, headers=bearer("alice")
    )
    assert r.status == 200
    r = await con.client.post(
        "/api/actions",
        json={"item_id": item["id"], "kind": "send", "text": "亲，拍L码哦"},
        headers=bearer("alice"),
    )
    assert r.status == 200
    await asyncio.wait_for(con.connector.got.wait(), 3)
    (msg,) = con.connector.messages
    assert msg["type"] == "reply" and msg["text"] == "亲，拍L码哦" and msg["room"] == ROOM
    assert (
        msg["reply_to"] == item["members"][0]["comment_id"]
        if item["members"]
        else msg["reply_to"].startswith("c")
    )
    await con.settle(lambda: any(a["kind"] == "send" for a in con.actions()))
    acts = con.actions()
    kinds = [a["kind"] for a in acts]
    assert kinds == ["take", "edit", "send"]
    send = acts[-1]
    assert send["operator"] == "alice" and send["delivery_status"] == "sent" and send["text"] == "亲，拍L码哦"
    assert send["session_id"] == "r1-test-session" and before <= acts[0]["ts"] <= send["ts"] <= time.time()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    assert q["items"] == [] and q["recent"][0]["delivery"]["status"] == "sent"
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    assert stats["median_first_action_s"] is not None


async def test_failed_delivery_is_retried_then_sent(make_console) -> None:
    con = await make_console(connector=RecordingConnector(fail=2))
    await con.publish(comment_group("这单什么时候发货", intent=Intent.LOGISTICS))
    await con.settle()
    item = (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"][0]
    await con.client.post(
        "/api/actions", json={"item_id": item["id"], "kind": "send"}, headers=bearer("alice")
    )
    await asyncio.wait_for(con.connector.got.wait(), 5)
    await con.settle(lambda: any(a["delivery_status"] == "sent" for a in con.actions()))
    statuses = [a["delivery_status"] for a in con.actions() if a["kind"] == "send"]
    assert statuses == ["failed", "failed", "sent"] and con.connector.attempts == 3


async def test_delivery_gives_up_and_the_item_returns_to_the_queue(make_console) -> None:
    con = await make_console(connector=RecordingConnector(fail=100))
    con.settings.outbound.max_attempts = 2
    await con.publish(comment_group("退款怎么弄", intent=Intent.AFTER_SALES))
    await con.settle()
    item = (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"][0]
    await con.client.post(
        "/api/actions", json={"item_id": item["id"], "kind": "send"}, headers=bearer("alice")
    )
    await con.settle(lambda: any(a["delivery_status"] == "gave_up" for a in con.actions()))
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    assert q["items"][0]["id"] == item["id"] and q["items"][0]["delivery"]["status"] == "gave_up"


async def test_per_room_rate_limit_paces_replies(make_console) -> None:
    con = await make_console()
    con.settings.outbound.rate_per_s = 10
    con.settings.outbound.burst = 1
    await con.publish(*[comment_group(f"问{i}") for i in range(4)])
    await con.settle()
    items = (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"]
    start = time.monotonic()
    for it in items:
        await con.client.post(
            "/api/actions", json={"item_id": it["id"], "kind": "send"}, headers=bearer("alice")
        )
    await con.settle(lambda: len(con.connector.messages) == 4)
    assert time.monotonic() - start >= 0.25  # 1 at once, then 10/s


async def test_dismiss_escalate_copy_mute_ban_coupon_are_recorded(make_console) -> None:
    from .conftest import VALID_LIBRARY

    con = await make_console()
    up = con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    assert up["ok"], up
    await con.publish(
        comment_group("a 随便看看"),
        comment_group("b 质量太差了要投诉", intent=Intent.COMPLAINT, priority=Priority.P0),
        comment_group("c 有优惠吗"),
        comment_group("d 加V", priority=Priority.MOD, spam=True, user_id="spammer"),
        comment_group("d2 加V", priority=Priority.MOD, spam=True, user_id="spammer"),
        comment_group("e 滚", priority=Priority.MOD, spam=True, user_id="troll"),
        comment_group("f 想要券", coupon="full_300_50", user_id="buyer"),
    )
    await con.settle()
    items = {
        i["text"][0]: i
        for i in (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"]
    }

    async def act(item_key: str, kind: str, **extra: str) -> aiohttp.ClientResponse:
        return await con.client.post(
            "/api/actions",
            json={"item_id": items[item_key]["id"], "kind": kind, **extra},
            headers=bearer("bob"),
        )

    assert (await act("a", "dismiss")).status == 200
    assert (await act("b", "escalate")).status == 422  # a ticket needs a note
    r = await act("b", "escalate", note="物流延误，转售后主管")
    assert r.status == 200 and (await r.json())["ticket"]["ticket_id"] == "T00001"  # a stored ticket
    assert (await act("c", "copy", text="亲，满300减50")).status == 200
    r = await act("d", "mute")
    assert r.status == 200 and (await r.json())["closed"] == 2  # both of the spammer's cards
    assert (await act("e", "ban")).status == 200
    r = await act("f", "approve_coupon")
    assert r.status == 200 and (await r.json())["coupon"]["rule_id"] == "full_300_50"
    r = await act("f", "issue_coupon", coupon_rule_id="nope")
    assert r.status == 409
    assert (await act("a", "dismiss")).status == 409  # already handled
    await con.settle(lambda: len(con.connector.messages) == 2)
    acts = con.actions()
    by_kind = {a["kind"]: a for a in acts}
    assert by_kind["dismiss"]["operator"] == "bob"
    assert by_kind["escalate"]["note"] == "物流延误，转售后主管"
    assert by_kind["copy"]["text"] == "亲，满300减50"
    assert by_kind["mute"]["user_id"] == "spammer" and by_kind["ban"]["user_id"] == "troll"
    assert (
        by_kind["approve_coupon"]["coupon_rule_id"] == "full_300_50"
        and by_kind["approve_coupon"]["user_id"] == "buyer"
    )
    assert {m["action"] for m in con.connector.messages} == {"mute", "ban"}
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    assert stats["tickets"] == 1
    streamer = await (await con.client.get("/api/streamer", headers=bearer("star"))).json()
    assert streamer["coupon"]["name"] == "满300减50"
    # later comments of a muted user are counted, not queued
    await con.publish(comment_group("d3 加V", priority=Priority.MOD, spam=True, user_id="spammer"))
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    assert not any(i["text"].startswith("d") for i in q["items"])


async def test_bad_action_requests(make_console) -> None:
    con = await make_console()
    c = con.client
    r = await c.post("/api/actions", data=b"{not json", headers=bearer("alice"))
    assert r.status == 400
    r = await c.post("/api/actions", json={"item_id": "x", "kind": "explode"}, headers=bearer("alice"))
    assert r.status == 422
    r = await c.post("/api/actions", json={"item_id": "missing", "kind": "take"}, headers=bearer("alice"))
    assert r.status == 404


async def test_taken_state_is_shared_between_consoles(make_console) -> None:
    con = await make_console()
    await con.publish(comment_group("能便宜点吗", intent=Intent.PRICE_PROMO))
    await con.settle()
    ws_bob = await con.client.ws_connect("/ws?view=console", headers=bearer("bob"))
    first = await ws_bob.receive_json(timeout=3)
    item_id = first["order"][0]
    assert first["items"][0]["taken_by"] == ""
    r = await con.client.post(
        "/api/actions", json={"item_id": item_id, "kind": "take"}, headers=bearer("alice")
    )
    assert r.status == 200
    while True:
        msg = await ws_bob.receive_json(timeout=3)
        if msg["items"]:
            break
    assert msg["items"][0]["id"] == item_id and msg["items"][0]["taken_by"] == "alice"
    r = await con.client.post(
        "/api/actions", json={"item_id": item_id, "kind": "dismiss"}, headers=bearer("bob")
    )
    assert r.status == 409 and "alice" in (await r.json())["message"]
    r = await con.client.post(
        "/api/actions", json={"item_id": item_id, "kind": "dismiss", "force": True}, headers=bearer("bob")
    )
    assert r.status == 200
    await ws_bob.close()


async def test_push_rate_is_capped_under_a_flood(make_console) -> None:
    con = await make_console(max_push_per_s=10.0)
    ws = await con.client.ws_connect("/ws?view=console", headers=bearer("alice"))
    ws_st = await con.client.ws_connect("/ws?view=streamer", headers=bearer("star"))
    counts = {"console": 0, "streamer": 0}

    async def count(sock: aiohttp.ClientWebSocketResponse, key: str) -> None:
        async for m in sock:
            if m.type == aiohttp.WSMsgType.TEXT:
                counts[key] += 1

    readers = [asyncio.create_task(count(ws, "console")), asyncio.create_task(count(ws_st, "streamer"))]
    await asyncio.sleep(0.2)
    counts = {"console": 0, "streamer": 0}
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < 1.5:  # a flood: ~2,000 comments/s in small batches
        await con.publish(
            *[
                comment_group(f"有货吗{n + i}", priority=Priority.P2, cluster=f"k{(n + i) % 40}")
                for i in range(40)
            ]
        )
        n += 40
        await asyncio.sleep(0.02)
    await con.settle()
    elapsed = time.monotonic() - start
    await asyncio.sleep(0.15)
    assert counts["console"] <= 10 * elapsed + 2, counts
    assert counts["streamer"] <= 10 * elapsed + 2, counts
    assert counts["console"] >= 5  # and it does keep updating
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    assert sum(i["count"] for i in q["items"]) + 0 <= n and len(q["items"]) == 40
    for t in readers:
        t.cancel()
    await ws.close()
    await ws_st.close()


async def test_alerts_and_streamer_view(make_console) -> None:
    con = await make_console()
    con.settings.alerts.complaint_count = 1  # no baseline yet: fires at rise_factor (3) × 1 — 4 complaints do
    con.settings.alerts.negative_min_comments = 5
    await con.publish(
        *[
            comment_group(
                f"骗子不发货{i}", intent=Intent.COMPLAINT, priority=Priority.P0, sentiment=Sentiment.NEG
            )
            for i in range(4)
        ],
        *[
            comment_group(
                f"有S码吗{i}", priority=Priority.P2, cluster="size", on_air="很多宝宝问尺码：160/100斤拍M"
            )
            for i in range(6)
        ],
        *[
            comment_group(f"发货快吗{i}", priority=Priority.P2, cluster="ship", intent=Intent.LOGISTICS)
            for i in range(3)
        ],
    )
    con.counters.sources["relay"] = "disconnected"
    await con.settle()
    stats = await (await con.client.get("/api/stats", headers=bearer("alice"))).json()
    codes = {a["code"] for a in stats["alerts"]}
    assert {"complaint_wave", "ingest_disconnect"} <= codes
    ws = await con.client.ws_connect("/ws?view=streamer", headers=bearer("star"))
    msg = await ws.receive_json(timeout=3)
    assert msg["hot"][0]["count"] == 6 and msg["hot"][0]["on_air"] == "很多宝宝问尺码：160/100斤拍M"
    assert msg["hot"][1]["label"].startswith("发货快吗")
    await ws.close()


async def test_shutdown_closes_websockets(make_console) -> None:
    con = await make_console()
    ws = await con.client.ws_connect("/ws?view=console", headers=bearer("alice"))
    await ws.receive_json(timeout=3)
    await con.client.close()
    msg = await ws.receive(timeout=3)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


def test_ws_payload_is_json(make_console) -> None:
    assert orjson.loads(orjson.dumps({"a": "<script>"})) == {"a": "<script>"}


def test_console_tokens_command_prints_a_config_snippet(capsys) -> None:
    import yaml

    from livecs.cli import main
    from livecs.config import ConsoleSettings

    assert main(["console-tokens", "--user", "小王:operator", "--user", "主播"]) == 0
    out = yaml.safe_load(capsys.readouterr().out)
    cfg = ConsoleSettings.model_validate(out["console"])
    assert [(u.name, u.role) for u in cfg.users] == [("小王", "operator"), ("主播", "operator")]
    assert len({u.token for u in cfg.users}) == 2


async def test_start_console_on_a_running_pipeline(tmp_path, capsys) -> None:
    """What ``make demo`` does: pipeline with published results → console on a port → a card via the API."""
    from livecs.config import load_settings
    from livecs.console.app import AUTH, start_console
    from livecs.console.outbound import SimulatedRoomConnector
    from livecs.models import Comment
    from livecs.processor.base import Processed
    from livecs.runner import open_pipeline

    class Proc:
        def process(self, c: Comment, now: float) -> Processed:
            (g,) = comment_group(c.text, priority=Priority.P0, intent=Intent.COMPLAINT)
            t = g.triage  # type: ignore[attr-defined]
            t.comment_id, t.room = c.comment_id, c.room
            return Processed(triage=t)

        def on_event(self, e: object, now: float) -> None:
            return None

    s = load_settings(environ={})
    s.store.path = str(tmp_path / "rec.db")
    s.scripts.library_db = str(tmp_path / "lib.db")
    async with open_pipeline(s, processor=Proc(), publish_results=True, default_room="live") as p:  # type: ignore[arg-type]
        from livecs.ingest.webhook import webhook_routes

        hook = webhook_routes(p.sink, "hook-token-0123456789")
        runner = await start_console(
            p, s, port=0, connector=SimulatedRoomConnector(), default_room="live", public_routes=hook
        )
        try:
            printed = capsys.readouterr().out
            port = runner.addresses[0][1]
            token = next(u.token for u in runner.app[AUTH].users if u.role.value == "operator")
            assert token in printed and f"http://127.0.0.1:{port}/login" in printed
            async with aiohttp.ClientSession() as http:
                # the webhook mounted on the console app does its own (bearer) auth, not the role guard
                hook_url = f"http://127.0.0.1:{port}/api/rooms/live/comments"
                r = await http.post(hook_url, json=[{"id": "m1", "text": "再不发货我投诉了"}])
                assert r.status == 401
                r = await http.post(
                    hook_url,
                    json=[{"id": "m1", "text": "再不发货我投诉了"}],
                    headers={"Authorization": "Bearer hook-token-0123456789"},
                )
                assert r.status in (200, 202), await r.text()
                assert await p.drain(5)
                url = f"http://127.0.0.1:{port}/api/queue"
                assert (await http.get(url)).status == 401
                for _ in range(100):
                    q = await (await http.get(url, headers={"Authorization": f"Bearer {token}"})).json()
                    if q["items"]:
                        break
                    await asyncio.sleep(0.02)
                assert q["room"] == "live" and q["items"][0]["text"] == "再不发货我投诉了"
        finally:
            await runner.cleanup()


async def test_reply_to_all_answers_a_cluster_once_and_records_it_on_every_member(make_console) -> None:
    con = await make_console(cluster_reply_mentions=3)
    nicks = ["小美", "阿强", "本店卖假货别买", "小美", "丽丽"]
    await con.publish(
        *[
            comment_group(
                f"怎么领券{i}",
                priority=Priority.P1,
                intent=Intent.PRICE_PROMO,
                cluster="coupon",
                nickname=nicks[i % 5],
                reply="亲，点购物车上方的领券按钮就能领哦",
                on_air="领券：点购物车上方的按钮",
                cluster_size=i + 1,
            )
            for i in range(90)
        ]
    )
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    (card,) = q["items"]
    assert card["kind"] == "cluster" and card["count"] == 90 and card["text"] == "怎么领券0"
    # pin it to the streamer view (and the streamer view shows it on top with its answer)
    r = await con.client.post(
        "/api/actions", json={"item_id": card["id"], "kind": "pin"}, headers=bearer("alice")
    )
    assert r.status == 200 and (await r.json())["pinned"] is True
    view = await (await con.client.get("/api/streamer", headers=bearer("star"))).json()
    assert (
        view["pinned"][0]["label"] == "怎么领券0"
        and view["pinned"][0]["answer"] == "领券：点购物车上方的按钮"
    )
    r = await con.client.post(
        "/api/actions", json={"item_id": card["id"], "kind": "send"}, headers=bearer("alice")
    )
    assert r.status == 200 and (await r.json())["members"] == 90
    await asyncio.wait_for(con.connector.got.wait(), 3)
    (msg,) = con.connector.messages  # ONE room-level reply
    assert msg["user_id"] == "" and msg["members"] == 90
    # the newest askers @-mentioned (up to 3, each once); a nickname making a claim is never repeated
    assert msg["mentions"] == ["丽丽", "小美", "阿强"]
    assert msg["text"] == "@丽丽 @小美 @阿强 亲，点购物车上方的领券按钮就能领哦"
    await con.settle(lambda: any(a["kind"] == "send" for a in con.actions()))
    per_member = [a for a in con.actions() if a["kind"] == "reply_all"]
    assert len(per_member) == 90 and len({a["target_id"] for a in per_member}) == 90
    assert all(a["text"] == msg["text"] for a in per_member)
    # answered: the cluster is off the queue until a new member arrives after the answer
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    assert q["items"] == []
    await con.publish(
        comment_group(
            "券在哪领", priority=Priority.P2, intent=Intent.PRICE_PROMO, cluster="coupon", cluster_size=91
        )
    )
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    (again,) = q["items"]
    assert again["count"] == 1 and again["answered_before"] == 90 and again["id"] != card["id"]


async def test_take_over_views_and_bulk_moderation(make_console) -> None:
    con = await make_console()
    await con.publish(
        comment_group("付不了款", priority=Priority.P1, intent=Intent.PAYMENT),
        comment_group("尺码偏大吗", priority=Priority.P1),
        *[
            comment_group(f"加V{i}", priority=Priority.MOD, intent=Intent.SPAM, spam=True, user_id=f"raid{i}")
            for i in range(5)
        ],
    )
    await con.settle()
    q = await (await con.client.get("/api/queue", headers=bearer("alice"))).json()
    pay = next(i for i in q["items"] if i["text"] == "付不了款")
    r = await con.client.post(
        "/api/actions", json={"item_id": pay["id"], "kind": "take"}, headers=bearer("alice")
    )
    assert r.status == 200
    mine = await (await con.client.get("/api/queue?view=mine", headers=bearer("alice"))).json()
    assert [i["id"] for i in mine["items"]] == [pay["id"]] and mine["views"] == {
        "all": 7,
        "mine": 1,
        "unassigned": 6,
    }
    free = await (await con.client.get("/api/queue?view=unassigned", headers=bearer("bob"))).json()
    assert pay["id"] not in [i["id"] for i in free["items"]] and len(free["items"]) == 6
    assert (await con.client.get("/api/queue?view=bogus", headers=bearer("bob"))).status == 422
    # bob takes the card over: recorded, and alice's console sees who holds it now and from whom
    ws_alice = await con.client.ws_connect("/ws?view=console", headers=bearer("alice"))
    await ws_alice.receive_json(timeout=3)
    r = await con.client.post(
        "/api/actions", json={"item_id": pay["id"], "kind": "take"}, headers=bearer("bob")
    )
    assert r.status == 409 and "接管" in (await r.json())["message"]
    r = await con.client.post(
        "/api/actions", json={"item_id": pay["id"], "kind": "takeover"}, headers=bearer("bob")
    )
    assert r.status == 200 and (await r.json())["taken_from"] == "alice"
    while True:
        msg = await ws_alice.receive_json(timeout=3)
        got = [i for i in msg["items"] if i["id"] == pay["id"]]
        if got and got[0]["taken_by"] == "bob":
            break
    assert got[0]["taken_from"] == "alice" and msg["views"]["mine"] == 0
    # alice switches her socket to the 未分配 view without reconnecting
    await ws_alice.send_str('{"type": "view", "filter": "unassigned"}')
    while True:
        msg = await ws_alice.receive_json(timeout=3)
        if msg["view"] == "unassigned":
            break
    assert msg["full"] and pay["id"] not in msg["order"]
    await ws_alice.close()
    await con.settle(lambda: any(a["kind"] == "takeover" for a in con.actions()))
    (over,) = [a for a in con.actions() if a["kind"] == "takeover"]
    assert over["operator"] == "bob" and over["note"] == "接管自 alice"
    # bulk mute of the raid accounts: one request, each muted and recorded
    raid = [i["id"] for i in q["items"] if i["queue"] == "mod"]
    r = await con.client.post(
        "/api/actions/bulk", json={"item_ids": [*raid, "nope"], "kind": "mute"}, headers=bearer("alice")
    )
    body = await r.json()
    assert r.status == 200 and sorted(body["done"]) == sorted(raid) and list(body["failed"]) == ["nope"]
    await con.settle(lambda: sum(a["kind"] == "mute" for a in con.actions()) >= 5)
    assert {a["user_id"] for a in con.actions() if a["kind"] == "mute"} == {f"raid{i}" for i in range(5)}
    r = await con.client.post(
        "/api/actions/bulk", json={"item_ids": [pay["id"]], "kind": "send"}, headers=bearer("alice")
    )
    assert r.status == 422


async def test_streamer_view_shows_the_product_on_air_and_prices_price_questions(make_console) -> None:
    con = await make_console()
    library = VALID_LIBRARY.replace("price: 89, stock: 200}", "price: 89, stock: 200, ship_days: 3}")
    con.merchant.upload([("lib.yaml", library.encode())], "shop", activate=True)
    con.merchant.set_on_air(2, "shop")
    price = {"priority": Priority.P2, "intent": Intent.PRICE_PROMO, "cluster": "price", "reply": ""}
    ship = {"priority": Priority.P2, "intent": Intent.LOGISTICS, "cluster": "ship", "reply": ""}
    await con.publish(
        *[comment_group(f"多少钱{i}", **price) for i in range(3)],  # type: ignore[arg-type]
        *[comment_group(f"几天发货{i}", **ship) for i in range(2)],  # type: ignore[arg-type]
    )
    await con.settle()
    view = await (await con.client.get("/api/streamer", headers=bearer("star"))).json()
    assert view["product"] == {
        "link": 2,
        "sku": "NY-002",
        "name": "高腰阔腿裤",
        "price": 89,
        "stock": 200,
        "ship_days": 3,
    }
    assert view["hot"][0]["on_air"] == "2号链接 高腰阔腿裤 ¥89"
    assert view["hot"][1]["on_air"] == "2号链接 现货3天内发货"


async def test_automatic_assignment_offers_cards_to_operators_online(make_console) -> None:
    con = await make_console()
    con.settings.assign.enabled = True
    ws_alice = await con.client.ws_connect("/ws?view=console", headers=bearer("alice"))
    await ws_alice.receive_json(timeout=3)
    await con.publish(comment_group("再不发货投诉", priority=Priority.P0, intent=Intent.COMPLAINT))
    await con.settle(lambda: any(i.offered_to for i in con.hub.room(None).items.values()))
    (item,) = con.hub.room(None).items.values()
    assert item.offered_to == "alice"  # bob has no console open: never offered
    mine = await (await con.client.get("/api/queue?view=mine", headers=bearer("alice"))).json()
    assert [i["id"] for i in mine["items"]] == [item.item_id] and mine["items"][0]["offered_to"] == "alice"
    await ws_alice.close()
    await asyncio.sleep(0.1)
    assert con.hub.online[ROOM]["alice"] == 0


async def test_one_console_watches_three_simulated_rooms_fed_at_once(tmp_path) -> None:
    """Three simulated broadcasts through the real pipeline (triage, scripts) into one console: each room gets
    its queue; the room switcher's overview has each room's open P0/P1; a socket switches rooms in place."""
    from livecs.config import load_settings
    from livecs.console.app import AUTH, HUB, start_console
    from livecs.console.outbound import SimulatedRoomConnector
    from livecs.ingest.simulator import SimulatorSource
    from livecs.runner import open_pipeline

    s = load_settings(environ={})
    s.store.path = str(tmp_path / "rec.db")
    s.scripts.library_db = str(tmp_path / "lib.db")
    async with open_pipeline(s, publish_results=True, default_room="ra") as p:
        runner = await start_console(
            p, s, port=0, connector=SimulatedRoomConnector(), default_room="ra", print_tokens=False
        )
        try:
            rooms = ["ra", "rb", "rc"]
            for i, room in enumerate(rooms):  # fed at once, 40 comments/s each, at 4× pace
                p.add_source(SimulatorSource(40, seed=11 + i, room=room, rate=40, speed=4.0))
            hub = runner.app[HUB]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                overview = {r["room"]: r for r in hub.rooms_overview()}
                if set(rooms) <= set(overview) and all(
                    overview[r]["open_p0"] + overview[r]["open_p1"] > 0 for r in rooms
                ):
                    break
                await asyncio.sleep(0.2)
            assert set(rooms) <= set(overview), overview
            assert all(overview[r]["open_p0"] + overview[r]["open_p1"] > 0 for r in rooms), overview
            token = next(u.token for u in runner.app[AUTH].users if u.role.value == "operator")
            port = runner.addresses[0][1]
            async with aiohttp.ClientSession() as http:
                ws = await http.ws_connect(f"http://127.0.0.1:{port}/ws?view=console&room=ra", headers={
                    "Authorization": f"Bearer {token}", "Origin": f"http://127.0.0.1:{port}"})  # fmt: skip
                first = await ws.receive_json(timeout=5)
                assert first["room"] == "ra" and {r["room"] for r in first["rooms"]} >= set(rooms)
                await ws.send_str('{"type": "room", "room": "rc"}')
                while True:
                    msg = await ws.receive_json(timeout=5)
                    if msg["room"] == "rc":
                        break
                rc = hub.room("rc")
                known = set(rc.items) | {r.item_id for r in rc.recent}
                assert msg["full"] and msg["items"] and all(i["id"] in known for i in msg["items"])
                await ws.close()
        finally:
            await runner.cleanup()
