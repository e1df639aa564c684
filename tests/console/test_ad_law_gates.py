"""Issue 12, through the HTTP API: error-level terms (广告法 absolutes, the shop's 禁忌语) block activating
a library unless an admin overrides with a recorded reason, and block sending a reply (422 naming the
term) unless the operator forces it (recorded)."""

from __future__ import annotations

import asyncio

from .conftest import VALID_LIBRARY, bearer, comment_group

TABOO_LIBRARY = VALID_LIBRARY.replace(
    'library: {name: 暖阳女装, category: apparel, version: "2025.06"}',
    'library: {name: 暖阳女装, category: apparel, version: "2025.07", taboo: [秒杀价]}',
).replace('reply: "亲，160/100斤拍M哦"', 'reply: "亲，160/100斤拍M哦，全网最低价"')


async def _upload(con, text: str, who: str = "shop") -> dict:  # type: ignore[no-untyped-def]
    from aiohttp import FormData

    form = FormData()
    form.add_field("file", text.encode(), filename="lib.yaml", content_type="application/x-yaml")
    r = await con.client.post("/api/merchant/upload", data=form, headers=bearer(who))
    return await r.json()  # type: ignore[no-any-return]


async def test_activation_is_blocked_until_an_admin_overrides_with_a_reason(make_console) -> None:
    con = await make_console()
    first = await _upload(con, VALID_LIBRARY)
    assert first["ok"] and first["active"] and first["terms"] == []
    up = await _upload(con, TABOO_LIBRARY)
    # stored as a version (the merchant can see what is wrong) but not live
    assert up["ok"] and up["version"] and not up["active"]
    assert up["terms"] == ["全网最低价"] and "管理员" in up["message"]
    version = up["version"]
    r = await con.client.post("/api/merchant/activate", json={"version": version}, headers=bearer("shop"))
    body = await r.json()
    assert r.status == 422 and body["terms"] == ["全网最低价"] and "全网最低价" in body["message"]
    assert con.merchant.registry.active_version == int(first["version"])
    # a merchant may not override; an admin must, with a reason
    r = await con.client.post(
        "/api/merchant/activate",
        json={"version": version, "override_reason": "法务已确认"},
        headers=bearer("shop"),
    )
    assert r.status == 403
    r = await con.client.post(
        "/api/merchant/activate", json={"version": version, "override_reason": "   "}, headers=bearer("root")
    )
    assert r.status == 422  # a blank reason is no reason
    r = await con.client.post(
        "/api/merchant/activate",
        json={"version": version, "override_reason": "法务已确认，活动页有比价截图"},
        headers=bearer("root"),
    )
    assert r.status == 200 and (await r.json())["override"] is True
    assert con.merchant.registry.active_version == int(version)
    last = con.merchant.registry.activations()[-1]
    assert (
        last["kind"] == "override"
        and last["by"] == "root"
        and last["reason"] == "法务已确认，活动页有比价截图"
    )
    versions = (await (await con.client.get("/api/merchant/versions", headers=bearer("shop"))).json())[
        "versions"
    ]
    assert versions[0]["terms"] == ["全网最低价"]


async def test_send_with_an_error_level_term_needs_force_and_is_recorded(make_console) -> None:
    con = await make_console()
    shop_taboo = VALID_LIBRARY.replace('version: "2025.06"}', 'version: "2025.06", taboo: [秒杀价]}')
    assert con.merchant.upload([("lib.yaml", shop_taboo.encode())], "shop")["active"]
    await con.publish(comment_group("多少钱", nickname="丽丽"))
    await con.settle()
    item = (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"][0]
    text = "亲，今天全网最低价，秒杀价59"
    r = await con.client.post(
        "/api/actions", json={"item_id": item["id"], "kind": "send", "text": text}, headers=bearer("alice")
    )
    body = await r.json()
    assert r.status == 422
    assert set(body["terms"]) == {"全网最低价", "秒杀价"}
    assert "全网最低价" in body["message"] and "秒杀价" in body["message"]
    assert con.connector.messages == []  # nothing left for the viewer
    r = await con.client.post(
        "/api/actions",
        json={"item_id": item["id"], "kind": "send", "text": text, "force_terms": True},
        headers=bearer("alice"),
    )
    assert r.status == 200
    await asyncio.wait_for(con.connector.got.wait(), 3)
    await con.settle(lambda: any(a["kind"] == "send" for a in con.actions()))
    send = [a for a in con.actions() if a["kind"] == "send"][-1]
    assert send["note"].startswith("强制发送，含违禁用语：") and "全网最低价" in send["note"]
    assert send["operator"] == "alice" and send["text"] == text


async def test_clean_reply_is_sent_without_force(make_console) -> None:
    con = await make_console()
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop")
    await con.publish(comment_group("多少钱"))
    await con.settle()
    item = (await (await con.client.get("/api/queue", headers=bearer("alice"))).json())["items"][0]
    r = await con.client.post(
        "/api/actions",
        json={"item_id": item["id"], "kind": "send", "text": "亲，最近发货很快，第一时间给你安排"},
        headers=bearer("alice"),
    )
    assert r.status == 200  # 最近 and 第一时间 are allowed phrases, not claims
