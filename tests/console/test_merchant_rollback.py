"""Rollback through the merchant API (issue 12): the confirmation is enforced by the server, not only asked
by the page. ``GET /api/merchant/rollback`` previews the change (version, name, uploader, time, counts of
what it adds and removes) with a token; ``POST`` needs that token (body or ``If-Match``) or the exact target
version with ``confirm: true``; anything else is refused (400 unconfirmed, 409 stale or another version)
and changes nothing."""

from __future__ import annotations

from typing import Any

from .conftest import VALID_LIBRARY, Console, bearer

#: the second version drops a script and a coupon, adds a product and changes a price
NEWER_LIBRARY = """\
library: {name: 暖阳女装, category: apparel, version: "2025.07"}
scripts:
  - id: size_advice
    intents: [product]
    keywords: [尺码, 什么码]
    reply: "亲，160/100斤拍M哦"
    on_air: "报身高体重，帮你们挑码"
  - id: ship_time
    intents: [logistics]
    keywords: [发货]
    reply: "亲，48小时内发货哦"
  - id: fabric
    intents: [product]
    keywords: [面料]
    reply: "亲，是纯棉的哦"
products:
  - {sku: NY-001, link: 1, name: 法式碎花连衣裙, price: 119, stock: 300}
  - {sku: NY-002, link: 2, name: 高腰阔腿裤, price: 89, stock: 200}
  - {sku: NY-003, link: 3, name: 防晒开衫, price: 69, stock: 100}
"""


async def two_versions(con: Console) -> tuple[str, str]:
    """Version 1 (VALID_LIBRARY) activated, then version 2 (NEWER_LIBRARY) activated: a rollback goes to 1."""
    first = con.merchant.upload([("v1.yaml", VALID_LIBRARY.encode())], "shop", activate=True, name="六月版")
    second = con.merchant.upload([("v2.yaml", NEWER_LIBRARY.encode())], "shop", activate=True, name="七月版")
    assert first["active"] and second["active"]
    return str(first["version"]), str(second["version"])


async def preview(con: Console) -> tuple[int, dict[str, Any], str]:
    r = await con.client.get("/api/merchant/rollback", headers=bearer("shop"))
    return r.status, await r.json(), r.headers.get("ETag", "")


async def post_rollback(con: Console, body: Any = None, **headers: str) -> tuple[int, dict[str, Any]]:
    r = await con.client.post("/api/merchant/rollback", json=body, headers={**bearer("shop"), **headers})
    return r.status, await r.json()


def active(con: Console) -> str:
    return str(con.merchant.registry.active_version)


async def test_preview_names_the_version_and_counts_what_changes(make_console) -> None:
    con = await make_console()
    v1, v2 = await two_versions(con)
    status, p, etag = await preview(con)
    assert status == 200
    assert p["version"] == v1 and p["from_version"] == v2
    assert p["version_name"] == "六月版" and p["library_version"] == "2025.06"
    assert p["uploaded_by"] == "shop" and p["uploaded_at"] > 0 and p["files"] == ["v1.yaml"]
    assert (p["scripts"], p["products"], p["coupons"]) == (1, 2, 1)
    # what the rollback does to the live library: scripts removed, a coupon rule back, a product gone
    assert p["changes"]["scripts"] == {"added": 0, "removed": 2, "changed": 0}
    assert p["changes"]["products"] == {"added": 0, "removed": 1, "changed": 1}
    assert p["changes"]["coupons"] == {"added": 1, "removed": 0, "changed": 0}
    assert p["diff"]["scripts"]["removed"] == ["fabric", "ship_time"]
    assert p["diff"]["products"]["changed"] == ["NY-001 价格 119→129"]
    assert etag == f'"{p["confirm_token"]}"' and len(p["confirm_token"]) == 16
    assert active(con) == v2  # a preview changes nothing


async def test_unconfirmed_rollback_is_refused_and_changes_nothing(make_console) -> None:
    con = await make_console()
    v1, v2 = await two_versions(con)
    before = len(con.merchant.registry.activations())
    for body in (None, {}, {"version": v1}, {"confirm": True}, {"version": v1, "confirm": False}):
        status, err = await post_rollback(con, body)
        assert status == 400, body
        assert "回滚需要确认" in err["message"] and "confirmation" in err["error"]
        assert err["rollback_to"] == v1
    assert active(con) == v2 and len(con.merchant.registry.activations()) == before


async def test_wrong_version_or_token_is_a_conflict(make_console) -> None:
    con = await make_console()
    v1, v2 = await two_versions(con)
    status, err = await post_rollback(con, {"version": v2, "confirm": True})
    assert status == 409 and f"版本 {v1}" in err["message"] and err["rollback_to"] == v1
    status, err = await post_rollback(con, {"confirm_token": "0" * 16})
    assert status == 409 and "确认已失效" in err["message"] and "stale" in err["error"]
    status, err = await post_rollback(con, {"confirm_token": "x", "surprise": 1})
    assert status == 422  # unknown fields are refused
    assert active(con) == v2


async def test_confirmed_by_token_rolls_back_once(make_console) -> None:
    con = await make_console()
    v1, _ = await two_versions(con)
    _, p, _ = await preview(con)
    status, body = await post_rollback(con, {"confirm_token": p["confirm_token"]})
    assert status == 200 and body == {"active": v1} and active(con) == v1
    assert con.merchant.registry.activations()[-1] == {
        "version": int(v1),
        "at": con.merchant.registry.activations()[-1]["at"],
        "by": "shop",
        "kind": "rollback",
        "reason": "",
    }
    # the same confirmation again: stale (it named the change 2 → 1, which is done)
    status, err = await post_rollback(con, {"confirm_token": p["confirm_token"]})
    assert status == 409 and "确认已失效" in err["message"] and active(con) == v1


async def test_token_made_stale_by_an_activation_since_the_preview(make_console) -> None:
    con = await make_console()
    v1, v2 = await two_versions(con)
    _, p, etag = await preview(con)
    con.merchant.activate(v1, "root")  # someone else switches meanwhile
    con.merchant.activate(v2, "root")  # and back: the same pair, but not the change that was confirmed
    status, err = await post_rollback(con, {"confirm_token": p["confirm_token"]})
    assert status == 409 and "确认已失效" in err["message"]
    status, _ = await post_rollback(con, None, **{"If-Match": etag})
    assert status == 409
    assert active(con) == v2


async def test_confirmed_by_if_match_or_version(make_console) -> None:
    con = await make_console()
    v1, v2 = await two_versions(con)
    _, _, etag = await preview(con)
    status, body = await post_rollback(con, None, **{"If-Match": etag})
    assert status == 200 and body["active"] == v1
    # now the previous version is 2: confirm it by number
    status, body = await post_rollback(con, {"version": f"v{v2}", "confirm": True})
    assert status == 200 and body["active"] == v2


async def test_nothing_to_roll_back_to(make_console) -> None:
    con = await make_console()
    status, err, _ = await preview(con)
    assert status == 409 and "没有可回滚" in err["message"]
    con.merchant.upload([("v1.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    status, err, _ = await preview(con)
    assert status == 409
    status, err = await post_rollback(con, {"confirm_token": "0" * 16})
    assert status == 409 and "没有可回滚" in err["message"]


async def test_versions_count_every_change_beyond_the_listed_twenty(make_console) -> None:
    """The versions list said 话术 +20 −20 改20 for a skincare library against the apparel one (27 added, 26
    removed, 51 changed): it counted the lists, which stop at 20 ids. ``changes`` holds the whole counts."""
    con = await make_console()

    def library(prefix: str, n: int) -> bytes:
        line = '  - {{id: {p}{i}, intents: [product], keywords: [词{i}], reply: "亲，回复{i}"}}\n'
        scripts = "".join(line.format(p=prefix, i=i) for i in range(n))
        return f'library: {{name: 店, version: "{prefix}"}}\nscripts:\n{scripts}'.encode()

    con.merchant.upload([("a.yaml", library("a", 30))], "shop", activate=True)
    con.merchant.upload([("b.yaml", library("b", 25))], "shop")
    r = await con.client.get("/api/merchant/versions", headers=bearer("shop"))
    newer = next(v for v in (await r.json())["versions"] if not v["active"])
    assert newer["changes"]["scripts"] == {"added": 25, "removed": 30, "changed": 0}
    assert len(newer["diff"]["scripts"]["added"]) == 20 and len(newer["diff"]["scripts"]["removed"]) == 20
