"""Issue 12 in Chromium: the merchant page asks an admin for a reason before activating a library that
carries an error-level term (a merchant cannot), and the console asks the operator to confirm before sending
a reply that carries one (a dismissed confirmation sends nothing; a forced send is recorded). The 无匹配话术
card offers the closest scripts to pick."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from livecs.models import Priority, Suggestion

from .conftest import ROOM, TOKENS, VALID_LIBRARY, Console, base_url, comment_group, wait_until
from .test_ad_law_gates import TABOO_LIBRARY

WAIT_MS = 5000

pytestmark = pytest.mark.browser


async def _login(
    browser: Browser,
    con: Console,
    user: str,
    path: str,
    answers: list[Any],
) -> tuple[Page, list[str]]:
    """Log in; each dialog takes the next answer: a string accepts (a prompt gets it), False dismisses."""
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    dialogs: list[str] = []

    async def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        answer = answers.pop(0) if answers else False
        if answer is False:
            await d.dismiss()
        else:
            await d.accept(answer)

    page.on("dialog", on_dialog)
    await page.goto(base_url(con) + path)
    await page.fill("#token", TOKENS[user])
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url and url.rstrip("/") != base_url(con))
    if not page.url.endswith(path):  # an admin lands on its own home page first
        await page.goto(base_url(con) + path)
    return page, dialogs


async def _blocked_version(con: Console) -> str:
    assert con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)["active"]
    up = con.merchant.upload([("lib.yaml", TABOO_LIBRARY.encode())], "shop")
    assert up["ok"] and not up["active"] and up["terms"] == ["全网最低价"]
    return str(up["version"])


async def test_merchant_page_activation_gate(make_console, browser: Browser, tmp_path: Path) -> None:
    con = await make_console()
    version = await _blocked_version(con)
    first = con.merchant.registry.active_version
    # the merchant sees the terms; giving a reason is not enough without the admin role
    page, dialogs = await _login(browser, con, "shop", "/merchant", ["法务已确认"])
    row = page.locator("#versions tr", has_text="含违禁用语：全网最低价")
    await row.wait_for(timeout=WAIT_MS)
    await row.locator("button", has_text="启用").click()
    await wait_until(lambda: len(dialogs) == 1)
    assert "全网最低价" in dialogs[0] and "理由" in dialogs[0]
    await page.locator(".toast", has_text="管理员").first.wait_for(timeout=WAIT_MS)
    assert con.merchant.registry.active_version == first
    # an upload of the same file on the page says why it is not live
    lib = tmp_path / "library.yaml"
    lib.write_text(TABOO_LIBRARY, encoding="utf-8")
    await page.set_input_files("#upload-file", str(lib))
    await page.check("#upload-activate")
    await page.click("#upload-btn")
    await page.locator("#upload-result .terms", has_text="全网最低价").wait_for(timeout=WAIT_MS)
    # the admin overrides with a reason: recorded with the activation
    admin, admin_dialogs = await _login(browser, con, "root", "/merchant", ["直播间价格经法务核实"])
    row = admin.locator("#versions tr", has_text="含违禁用语").first
    await row.wait_for(timeout=WAIT_MS)
    await row.locator("button", has_text="启用").click()
    await wait_until(lambda: con.merchant.registry.active_version not in (None, first))
    live = con.merchant.registry.active_version
    assert live is not None and live >= int(version)  # a blocked version (the newest one listed first)
    last = con.merchant.registry.activations()[-1]
    assert last["kind"] == "override" and last["by"] == "root" and last["reason"] == "直播间价格经法务核实"
    # rollback asks for confirmation (the page's dialog names the version): cancelled, nothing changes
    await admin.click("#rollback-btn")
    dialog = admin.locator("#rollback-dialog")
    await dialog.locator("#rb-version", has_text=f"版本 {first}").wait_for(timeout=WAIT_MS)
    await dialog.locator("#rb-cancel").click()
    await asyncio.sleep(0.3)
    assert not await dialog.is_visible()
    assert con.merchant.registry.active_version == live
    assert len(admin_dialogs) == 1  # no browser dialog besides the override's reason


async def test_console_send_gate_and_no_match_card(make_console, browser: Browser) -> None:
    con = await make_console()
    assert con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)["active"]
    # first dialog dismissed (nothing sent), second accepted (forced, recorded)
    page, dialogs = await _login(browser, con, "alice", "/console", [False, ""])
    await con.publish(comment_group("多少钱啊", nickname="丽丽"))
    card = page.locator(".card", has_text="多少钱啊")
    await card.wait_for(timeout=WAIT_MS)
    await card.locator("textarea").fill("亲，今天全网最低价59元")
    await card.locator("button[data-act=send]").click()
    await wait_until(lambda: len(dialogs) == 1)
    assert "全网最低价" in dialogs[0] and "强制发送" in dialogs[0]
    await asyncio.sleep(0.3)
    assert con.connector.messages == []
    await card.locator("button[data-act=send]").click()
    await wait_until(lambda: len(con.connector.messages) == 1)
    assert con.connector.messages[0]["text"] == "亲，今天全网最低价59元"
    await wait_until(lambda: any(a["kind"] == "send" for a in con.actions()))
    send = [a for a in con.actions() if a["kind"] == "send"][-1]
    assert "全网最低价" in send["note"] and send["note"].startswith("强制发送")
    # a 无匹配话术 card: no reply in the editor, the closest scripts as buttons that fill it
    records = comment_group("怎么显示无货", nickname="小鹿", reply="")
    comment = records[0]
    card_suggestion = Suggestion(
        "s-none",
        ROOM,
        comment.comment_id,
        Priority.P1,
        "",
        why=["无匹配话术", "候选 size_advice：亲，160/100斤拍M哦"],
    )
    await con.publish([*records, card_suggestion])
    nomatch = page.locator(".card", has_text="怎么显示无货")
    await nomatch.locator(".no-match", has_text="无匹配话术").wait_for(timeout=WAIT_MS)
    assert await nomatch.locator("textarea").input_value() == ""
    await nomatch.locator("button.candidate", has_text="size_advice").click()
    assert await nomatch.locator("textarea").input_value() == "亲，160/100斤拍M哦"
