"""The console's room-scale operations in Debian's Chromium: a repeated question as one card with reply to
all and pin, take-over between two operators (two browser contexts), the 我的/未分配 views, bulk mute of a
spam raid, switching between three rooms without a reload, and the density at 1440×900 during a burst."""

from __future__ import annotations

import asyncio

import pytest

from livecs.models import Intent, Priority, Record, Sentiment
from tests.browser_support import artifact, publish_to_docs

from .conftest import ROOM, SESSION, Console, comment_group, login, wait_until

pytestmark = pytest.mark.browser

WAIT_MS = 8000
VIEWPORT = (1440, 900)


def coupon_question(i: int) -> list[Record]:
    return comment_group(
        ["怎么领券", "券在哪领", "优惠券怎么领", "领券入口在哪"][i % 4],
        priority=Priority.P1 if i > 10 else Priority.P2,
        intent=Intent.PRICE_PROMO,
        cluster="coupon",
        nickname=f"观众{i}",
        reply="亲，点购物车上方的领券按钮就能领哦",
        on_air="领券：点购物车上方的“领券”按钮",
        cluster_size=i + 1,
        deadline=0.0,  # the triage's inherited cluster deadline, long past: the card must not use it
    )


def complaint(i: int) -> list[Record]:
    return comment_group(
        f"第{i}单等了一周还没发货，再不发我投诉",
        priority=Priority.P1,
        intent=Intent.COMPLAINT,
        sentiment=Sentiment.NEG,
        nickname=f"急急{i}",
        reply="宝宝抱歉让您久等，马上帮您查物流",
    )


async def burst(con: Console) -> None:
    await con.publish(*[coupon_question(i) for i in range(90)])
    await con.publish(*[complaint(i) for i in range(4)])
    await con.publish(
        *[
            comment_group(f"{150 + i}斤穿什么码", priority=Priority.P2, nickname=f"问码{i}")
            for i in range(20)
        ],
        *[
            comment_group(f"加V领福利{i} vx8888", priority=Priority.MOD, intent=Intent.SPAM, spam=True)
            for i in range(8)
        ],
    )


async def test_cluster_card_reply_to_all_and_pin_and_density(make_console, browser) -> None:
    con = await make_console()
    page, dialogs = await login(browser, con, "alice", "/console", viewport=VIEWPORT)
    await burst(con)
    card = page.locator("#queue .card", has=page.locator(".count", has_text="×90"))
    await card.wait_for(timeout=WAIT_MS)
    assert await page.locator("#queue .card .count").count() == 1  # 90 questions, ONE card
    # the complaints (same priority) sort above the question cluster; the cluster's SLA is its own
    first = page.locator("#queue .card").first
    assert "发货" in (await first.locator(".comment-text").text_content() or "")
    assert "sla-breach" not in (await card.locator(".sla").get_attribute("class") or "")
    # density: the live panel and at least 6 whole cards in view at 1440×900
    in_view = await page.evaluate(
        """() => [...document.querySelectorAll('#queue .card')].filter(c => {
             const r = c.getBoundingClientRect();
             return r.top >= 0 && r.bottom <= window.innerHeight; }).length"""
    )
    assert in_view >= 6, in_view
    assert await page.locator("#panel").is_visible()
    assert "测试 运行中" in (await page.locator("#s-ingest").text_content() or "")
    await card.locator("summary").click()
    members = card.locator(".members li")
    await members.first.wait_for(timeout=WAIT_MS)
    assert "观众89" in (await members.first.text_content() or "")  # the newest first, one click away
    shot = artifact("console.png")
    await page.screenshot(path=str(shot))
    publish_to_docs(shot)
    await card.locator("button[data-act=pin]").click()
    await wait_until(lambda: "coupon" in con.hub.room(None).pinned)
    await card.locator("button[data-act=send]").click()
    await wait_until(lambda: len(con.connector.messages) == 1)
    assert con.connector.messages[0]["text"] == "亲，点购物车上方的领券按钮就能领哦"
    await wait_until(lambda: sum(a["kind"] == "reply_all" for a in con.actions()) == 90)
    await page.locator("#queue .card .count").first.wait_for(state="detached", timeout=WAIT_MS)
    # the streamer view shows the pinned question with its answer on top
    star, _ = await login(browser, con, "star", "/streamer")
    await star.locator(".st-pinned").wait_for(timeout=WAIT_MS)
    assert "领券" in (await star.locator(".st-pinned .st-line").text_content() or "")
    await star.screenshot(path=str(artifact("streamer_pinned.png")))
    assert dialogs == []


async def test_take_over_between_two_operators_and_views(make_console, browser) -> None:
    con = await make_console()
    alice, dialogs_a = await login(browser, con, "alice", "/console", viewport=VIEWPORT)
    bob, dialogs_b = await login(browser, con, "bob", "/console", viewport=VIEWPORT)
    await con.publish(complaint(1), comment_group("尺码偏大吗", priority=Priority.P2))
    card_a = alice.locator("#queue .card", has_text="第1单")
    await card_a.wait_for(timeout=WAIT_MS)
    await card_a.locator("button[data-act=take]").click()
    card_b = bob.locator("#queue .card", has_text="第1单")
    await card_b.locator(".chip.taken", has_text="由 alice 处理中").wait_for(timeout=WAIT_MS)
    await alice.locator("#views [data-view=mine]", has_text="我的 1").wait_for(timeout=WAIT_MS)
    await card_b.locator("button[data-act=takeover]").click()
    await card_a.locator(".chip.taken", has_text="由 bob 处理中").wait_for(timeout=WAIT_MS)
    await alice.locator("#toast", has_text="bob 接管了").wait_for(timeout=WAIT_MS)
    await wait_until(lambda: any(a["kind"] == "takeover" and a["operator"] == "bob" for a in con.actions()))
    # alice's 我的 view is now empty; 未分配 shows only the other card
    await alice.locator("#views [data-view=mine]").click()
    await alice.locator("#q-empty").wait_for(timeout=WAIT_MS)
    assert await alice.locator("#queue .card").count() == 0
    await alice.locator("#views [data-view=unassigned]").click()
    await alice.locator("#queue .card", has_text="尺码偏大吗").wait_for(timeout=WAIT_MS)
    assert await alice.locator("#queue .card").count() == 1
    assert dialogs_a == [] and dialogs_b == []


async def test_bulk_mute_of_a_spam_raid_newest_first(make_console, browser) -> None:
    con = await make_console(queue_visible=20)
    page, dialogs = await login(browser, con, "alice", "/console", viewport=VIEWPORT)
    for i in range(60):
        await con.publish(
            comment_group(
                f"加V领福利 vx{i:04d}",
                priority=Priority.MOD,
                intent=Intent.SPAM,
                spam=True,
                user_id=f"raid{i}",
                nickname=f"福利{i}",
            )
        )
        await asyncio.sleep(0.005)
    top = page.locator("#modqueue .card").first
    await top.locator(".nick", has_text="福利59").wait_for(timeout=WAIT_MS)  # the newest raid account first
    await settled(page, 20)
    await page.locator("#bulk-all").check()
    await page.locator("#bulk-count", has_text="已选 20 条").wait_for(timeout=WAIT_MS)
    await page.locator("#bulk-mute").click()

    def acted(kind: str) -> set[str]:  # (each action, then a record per delivery attempt)
        return {a["user_id"] for a in con.actions() if a["kind"] == kind and not a["delivery_status"]}

    await wait_until(lambda: len(acted("mute")) == 20)
    assert acted("mute") == {f"raid{i}" for i in range(40, 60)}
    # the next 20 take their place; ban asks for confirmation first
    await page.locator("#modqueue .card").first.locator(".nick", has_text="福利39").wait_for(timeout=WAIT_MS)
    await settled(page, 20)  # 全选 ticks what is shown: wait until the queue has stopped moving
    await page.locator("#bulk-all").check()
    await page.locator("#bulk-ban").click()
    await page.locator("#bulk-confirm").wait_for(timeout=WAIT_MS)
    await asyncio.sleep(0.3)
    assert not any(a["kind"] == "ban" for a in con.actions())
    await page.locator("#bulk-ban-ok").click()
    await wait_until(lambda: acted("ban") == {f"raid{i}" for i in range(20, 40)})
    assert dialogs == []


async def test_one_operator_switches_between_three_rooms_without_reload(make_console, browser) -> None:
    con = await make_console()
    page, dialogs = await login(browser, con, "alice", "/console", viewport=VIEWPORT)
    for room in ("r2", "r3"):
        for g in (complaint(7), comment_group(f"{room} 的问题", priority=Priority.P2)):
            res = g[0]
            res.comment.room = room  # type: ignore[attr-defined]
            await con.bus.publish("results", room, f"{room}-session", [res])
    await con.publish(complaint(1), *[comment_group(f"r1 问题{i}", priority=Priority.P2) for i in range(3)])
    await wait_until(lambda: len(con.hub.rooms) == 3)
    switch = page.locator("#room-switch")
    await switch.wait_for(timeout=WAIT_MS)
    await page.locator("#room-switch option", has_text="r3 · P0 0 · P1 1").wait_for(
        state="attached", timeout=WAIT_MS
    )
    await page.evaluate("window.__sameDocument = 1")
    await switch.select_option("r3")
    await page.locator("#queue .card", has_text="r3 的问题").wait_for(timeout=WAIT_MS)
    assert await page.locator("#queue .card", has_text="r1 问题").count() == 0
    assert await page.locator("#room-name").text_content() == "r3"
    # act on a card of that room: the action goes to r3 (once the switched queue has stopped re-rendering,
    # so the click lands on the card that stays)
    await queue_settled(page)
    await page.locator("#queue .card", has_text="r3 的问题").locator("button[data-act=dismiss]").click()
    await wait_until(lambda: any(a["kind"] == "dismiss" and a["room"] == "r3" for a in con.actions()))
    await switch.select_option(ROOM)
    await page.locator("#queue .card", has_text="r1 问题0").wait_for(timeout=WAIT_MS)
    assert await page.evaluate("window.__sameDocument") == 1  # no reload
    assert SESSION and dialogs == []


async def test_optional_alert_for_a_new_p0(make_console, browser) -> None:
    con = await make_console()
    page, dialogs = await login(browser, con, "alice", "/console", viewport=VIEWPORT)
    await con.publish(comment_group("尺码偏大吗", priority=Priority.P2))
    await page.locator("#queue .card").first.wait_for(timeout=WAIT_MS)
    await con.publish(comment_group("骗子！", priority=Priority.P0, intent=Intent.COMPLAINT))
    await page.locator('#queue .card[data-priority="P0"]').wait_for(timeout=WAIT_MS)
    assert await page.evaluate("document.body.dataset.p0Alerts") is None  # off by default
    await page.locator("#bell").click()
    assert await page.locator("#bell").text_content() == "新P0提醒：开"
    await con.publish(comment_group("再不发货投诉", priority=Priority.P0, intent=Intent.COMPLAINT))
    await wait_until_attr(page, "1")
    await page.reload()  # the choice is remembered in this browser
    assert await page.locator("#bell").text_content() == "新P0提醒：开"
    assert dialogs == []


async def wait_until_attr(page, value: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if await page.evaluate("document.body.dataset.p0Alerts") == value:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no P0 alert")


async def queue_settled(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the operator queue's cards have not changed for half a second."""
    last, stable = None, 0
    for _ in range(200):
        ids = await page.evaluate("[...document.querySelectorAll('#queue .card')].map(c => c.dataset.id)")
        stable = stable + 1 if ids == last and ids else 0
        if stable >= 10:
            return
        last = ids
        await asyncio.sleep(0.05)
    raise AssertionError(f"the queue never settled: {last}")


async def settled(page, n: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the moderation queue shows ``n`` cards and has not changed for half a second."""
    last, stable = None, 0
    for _ in range(200):
        ids = await page.evaluate("[...document.querySelectorAll('#modqueue .card')].map(c => c.dataset.id)")
        stable = stable + 1 if ids == last and len(ids) == n else 0
        if stable >= 10:
            return
        last = ids
        await asyncio.sleep(0.05)
    raise AssertionError(f"the moderation queue never settled at {n} cards: {last}")
