"""Real browser tests: Playwright drives Debian's Chromium (never a downloaded one) against a live console.

Log in, see a pushed card, send a reply (recorded, and received by a real HTTP outbound endpoint); the
streamer view shows a hot cluster; the merchant page shows validation errors for a bad upload; hostile
comment text and nicknames render as plain text with no dialog and no script run. Screenshots of the three
screens go to ``tests/artifacts/`` and ``docs/screenshots/``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from livecs.console.outbound import HttpConnector
from livecs.models import Intent, MemberTier, Priority, Sentiment
from tests.browser_support import artifact, publish_to_docs

from .conftest import BAD_LIBRARY, VALID_LIBRARY, Console, comment_group, login, wait_until

pytestmark = pytest.mark.browser

WAIT_MS = 5000


@pytest.fixture
async def receiver(aiohttp_server: Any) -> tuple[str, list[dict[str, Any]]]:
    """A real HTTP endpoint standing in for the platform's reply API."""
    got: list[dict[str, Any]] = []

    async def post(request: web.Request) -> web.Response:
        got.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/reply", post)
    server = await aiohttp_server(app)
    return f"http://{server.host}:{server.port}/reply", got


async def fill_room(con: Console) -> None:
    await con.publish(
        comment_group(
            "等了一周还没发货，再不发我就投诉12315！",
            priority=Priority.P0,
            intent=Intent.COMPLAINT,
            sentiment=Sentiment.NEG,
            nickname="橙子不酸",
            tier=MemberTier.VIP,
            reply="宝宝真的很抱歉让您久等了，我马上帮您查物流，今天给您答复",
            sla_s=-5,
        ),
        comment_group(
            "优惠券用不了，付款一直失败",
            priority=Priority.P1,
            intent=Intent.PAYMENT,
            nickname="小鹿乱撞",
            reply="亲，满300减50的券需要凑满300哦，刷新一下购物车再试试～",
            coupon="full_300_50",
            sla_s=40,
        ),
        *[
            comment_group(
                t,
                priority=Priority.P2,
                cluster="size",
                nickname=f"观众{i}",
                reply="亲，160/100斤拍M，165/110斤拍L哦",
                on_air="很多宝宝问尺码：160/100斤拍M，165/110斤拍L",
                sla_s=170,
            )
            for i, t in enumerate(["165/110斤穿什么码", "有S码吗", "160 100斤拍哪个码", "尺码偏大吗"] * 9)
        ],
        *[
            comment_group(
                t,
                priority=Priority.P2,
                cluster="ship",
                intent=Intent.LOGISTICS,
                nickname=f"路人{i}",
                reply="亲，现货48小时内发货，预售7天内发哦",
                on_air="现货48小时发货，预售7天",
                sla_s=175,
            )
            for i, t in enumerate(["这单什么时候发货", "几天能到", "发什么快递"] * 4)
        ],
        comment_group(
            "加V信领内部券 vx123456", priority=Priority.MOD, intent=Intent.SPAM, spam=True, nickname="福利官"
        ),
        comment_group("哈哈主播好可爱", priority=Priority.P3, intent=Intent.CHITCHAT),
    )


async def test_operator_logs_in_sees_a_pushed_card_and_sends_a_reply(make_console, browser, receiver) -> None:
    url, received = receiver
    con = await make_console(connector=HttpConnector(url))
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    page, dialogs = await login(browser, con, "alice", "/console")
    await fill_room(con)
    card = page.locator(".card", has_text="付款一直失败")
    await card.wait_for(timeout=WAIT_MS)
    await page.locator(".card", has_text="165/110斤穿什么码").locator(".count").wait_for(timeout=WAIT_MS)
    assert await page.locator(".card").first.get_attribute("data-priority") == "P0"
    assert "sla-breach" in (await page.locator(".card").first.locator(".sla").get_attribute("class") or "")
    # edit the suggested reply and send it with the button
    await card.locator("textarea").fill("亲，券要满300才能用哦，我帮您看看～")
    await card.locator("button[data-act=send]").click()
    await wait_until(lambda: len(received) == 1)
    assert received[0]["text"] == "亲，券要满300才能用哦，我帮您看看～" and received[0]["operator"] == "alice"
    await page.locator(".recent-row .d-sent").first.wait_for(timeout=WAIT_MS)
    await wait_until(
        lambda: any(a["kind"] == "send" and a["delivery_status"] == "sent" for a in con.actions())
    )
    # keyboard: the selected (top) card is the P0 complaint; T takes it
    await page.locator("body").click(position={"x": 5, "y": 5})
    await page.keyboard.press("t")
    await page.locator(".card").first.locator(".chip.taken").wait_for(timeout=WAIT_MS)
    await wait_until(lambda: any(a["kind"] == "take" and a["operator"] == "alice" for a in con.actions()))
    await page.locator(".card", has_text="165/110斤穿什么码").locator("summary").click()
    # (the README's console.png is the burst screenshot of test_browser_ops.py)
    await page.screenshot(path=str(artifact("console_reply.png")), full_page=True)
    assert dialogs == []


async def test_strangers_text_is_rendered_as_plain_text(make_console, browser) -> None:
    con = await make_console()
    page, dialogs = await login(browser, con, "alice", "/console")
    evil_text = "<img src=x onerror=alert(1)>"
    evil_nick = "<script>window.__pwned=1;alert(2)</script>"
    group = comment_group(evil_text, nickname=evil_nick, reply="<b>bold?</b><img src=x onerror=alert(3)>")
    await con.publish(group)
    await con.publish(
        *[
            comment_group(evil_text, nickname=evil_nick, priority=Priority.P2, cluster="evil")
            for _ in range(3)
        ]
    )
    single = page.locator(".card[data-priority=P1]")
    await single.wait_for(timeout=WAIT_MS)
    assert await single.locator(".comment-text").text_content() == evil_text
    assert await single.locator(".nick").text_content() == evil_nick
    assert await single.locator("textarea").input_value() == "<b>bold?</b><img src=x onerror=alert(3)>"
    await page.locator(".card[data-priority=P2] summary").click()
    await page.locator(".members li").first.wait_for(timeout=WAIT_MS)
    await asyncio.sleep(0.5)  # give any injected handler the chance to fire
    assert await page.locator("#queue img, #queue script, #queue b").count() == 0
    assert await page.evaluate("window.__pwned === undefined")
    assert dialogs == []


async def test_streamer_view_shows_the_hottest_cluster(make_console, browser) -> None:
    con = await make_console()
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    con.merchant.set_on_air(1, "shop")
    con.counters.buy_signals = 128
    page, dialogs = await login(browser, con, "star", "/streamer")
    await fill_room(con)
    top = page.locator(".st-item").first
    await top.wait_for(timeout=WAIT_MS)
    await page.locator(".st-item", has_text="×36").wait_for(timeout=WAIT_MS)
    assert "160/100斤拍M" in (await top.locator(".st-line").text_content() or "")
    assert await page.locator(".st-item").count() == 2
    assert await page.locator("#st-buy").text_content() == "128"
    assert await page.locator("#st-coupon").text_content() == "满300减50"
    assert await page.locator("#st-product-name").text_content() == "1号 法式碎花连衣裙"
    assert await page.locator("#st-product-meta").text_content() == "¥129 · 库存 300"
    size = await page.evaluate("parseFloat(getComputedStyle(document.querySelector('.st-q')).fontSize)")
    assert size >= 36  # readable from two metres
    shot = artifact("streamer.png")
    await page.screenshot(path=str(shot), full_page=True)
    publish_to_docs(shot)
    assert dialogs == []


async def test_merchant_page_shows_validation_errors_then_activates(
    make_console, browser, tmp_path: Path
) -> None:
    con = await make_console()
    page, dialogs = await login(browser, con, "shop", "/merchant")
    bad = tmp_path / "bad_library.yaml"
    bad.write_text(BAD_LIBRARY, encoding="utf-8")
    await page.set_input_files("#upload-file", str(bad))
    await page.click("#upload-btn")
    err = page.locator(".issue-error").first
    await err.wait_for(timeout=WAIT_MS)
    locs = await page.locator(".issue .loc").all_text_contents()
    assert any("bad_library.yaml" in loc and "第" in loc for loc in locs), locs
    assert "校验未通过" in (await page.locator("#upload-result").text_content() or "")
    shot = artifact("merchant.png")
    await page.screenshot(path=str(shot), full_page=True)
    good = tmp_path / "library.yaml"
    good.write_text(VALID_LIBRARY, encoding="utf-8")
    await page.set_input_files("#upload-file", str(good))
    await page.check("#upload-activate")
    await page.click("#upload-btn")
    await page.locator("#versions tr.active").wait_for(timeout=WAIT_MS)
    await page.locator("#products button", has_text="设为讲解中").first.click()
    await page.locator("#on-air", has_text="1号").wait_for(timeout=WAIT_MS)
    assert con.merchant.active_library().on_air_link == 1
    # the screenshot for the README shows both: a rejected upload's errors and the versions list
    await page.set_input_files("#upload-file", str(bad))
    await page.click("#upload-btn")
    await page.locator(".issue-error").first.wait_for(timeout=WAIT_MS)
    await page.screenshot(path=str(shot), full_page=True)
    publish_to_docs(shot)
    assert dialogs == []
