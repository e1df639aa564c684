"""Closing open cards as 已解决 / 未解决 and marking 满意 / 不满意 from the console in Chromium: with the
card's buttons and with the keys R / U / Y / N; each mark recorded as an action with the operator; the live
panel's 问题解决率 follows. Screenshot ``tests/artifacts/console-marks.png`` (``docs/screenshots/`` with
LIVECS_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest

from livecs.models import Priority
from tests.browser_support import artifact, publish_to_docs

from .conftest import comment_group, login, wait_until
from .test_browser import WAIT_MS, fill_room

pytestmark = pytest.mark.browser


def _marks(con) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [
        (a["kind"], a["note"], a["operator"])
        for a in con.actions()
        if a["kind"] in ("resolve", "satisfaction")
    ]


async def test_close_open_cards_as_resolved_or_not_and_mark_satisfaction(make_console, browser) -> None:
    con = await make_console()
    page, dialogs = await login(browser, con, "alice", "/console")
    await fill_room(con)
    complaint = page.locator(".card", has_text="等了一周还没发货")
    await complaint.wait_for(timeout=WAIT_MS)
    # an open card offers 已解决 / 未解决; 满意 / 不满意 only once its viewers got an answer
    assert await complaint.locator("button[data-act=mark]").evaluate_all(
        "els => els.map(e => e.textContent)"
    ) == ["已解决R", "未解决U"]

    # the complaint closed as 已解决 with its button: off the queue, in 最近处理, in the live panel's rate
    await complaint.locator("button[data-mark=resolved]").click()
    await wait_until(lambda: _marks(con) == [("resolve", "resolved", "alice")])
    await complaint.wait_for(state="detached", timeout=WAIT_MS)
    row = page.locator("#recent .recent-row", has_text="等了一周还没发货")
    await row.locator(".recent-status", has_text="已解决").wait_for(timeout=WAIT_MS)
    await page.locator("#s-resolve", has_text="100%（1/1）").wait_for(timeout=WAIT_MS)

    # the payment card closed as 未解决 from the keyboard: select it, press U
    payment = page.locator(".card", has_text="优惠券用不了")
    await payment.locator(".comment-text").click()
    await page.keyboard.press("u")
    await wait_until(lambda: _marks(con)[-1:] == [("resolve", "unresolved", "alice")])
    await payment.wait_for(state="detached", timeout=WAIT_MS)
    await page.locator("#s-resolve", has_text="50%（1/2）").wait_for(timeout=WAIT_MS)

    # the size cluster answered to all, then new askers arrive: its new card offers 满意 / 不满意 too
    size = page.locator(".card", has_text="165/110斤穿什么码")
    await size.locator("button[data-act=send]").click()
    await wait_until(lambda: any(a["kind"] == "send" for a in con.actions()))
    await size.wait_for(state="detached", timeout=WAIT_MS)
    await con.publish(
        *[
            comment_group(t, priority=Priority.P2, cluster="size", reply="亲，160/100斤拍M，165/110斤拍L哦")
            for t in ("还是不知道选什么码", "170/120斤穿XL吗")
        ]
    )
    again = page.locator(".card", has_text="此前已回复")
    await again.wait_for(timeout=WAIT_MS)
    labels = await again.locator("button[data-act=mark]").evaluate_all("els => els.map(e => e.textContent)")
    assert labels == ["已解决R", "未解决U", "满意Y", "不满意N"]
    await again.locator(".prio").click()
    await page.keyboard.press("y")  # the viewers' follow-up was satisfied: recorded, the card stays open
    await wait_until(lambda: _marks(con)[-1:] == [("satisfaction", "satisfied", "alice")])
    await again.locator("button[data-mark=satisfied].on").wait_for(timeout=WAIT_MS)
    await page.locator("#s-satisfaction", has_text="满意 100%（1/1）").wait_for(timeout=WAIT_MS)
    shot = artifact("console-marks.png")
    await page.screenshot(path=str(shot))
    publish_to_docs(shot)
    await again.locator("button[data-mark=resolved]").click()
    await wait_until(lambda: _marks(con)[-1:] == [("resolve", "resolved", "alice")])
    await again.wait_for(state="detached", timeout=WAIT_MS)
    await page.locator("#s-resolve", has_text="67%（2/3）").wait_for(timeout=WAIT_MS)
    by = await page.locator("#s-resolve-by").text_content() or ""
    assert "alice" in by

    # a moderation card has no marks, and R on it does nothing
    spam = page.locator(".card", has_text="加V信领内部券")
    assert await spam.locator("button[data-act=mark]").count() == 0
    await spam.locator(".prio").click()
    await page.keyboard.press("r")
    await page.wait_for_timeout(300)
    assert await spam.count() == 1
    assert _marks(con) == [
        ("resolve", "resolved", "alice"),
        ("resolve", "unresolved", "alice"),
        ("satisfaction", "satisfied", "alice"),
        ("resolve", "resolved", "alice"),
    ]
    assert dialogs == []
