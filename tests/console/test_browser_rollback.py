"""Rollback on the merchant page in Chromium (issue 12): the confirmation dialog names the version it goes
back to (版本号, name, who uploaded it and when, its counts and what the rollback adds and removes);
取消 changes nothing; a confirmation made stale by an activation since the dialog opened is refused by the
server (nothing rolled back); 确认回滚 rolls back. Screenshot ``merchant-rollback.png`` (``docs/screenshots/``
with ``LIVECS_UPDATE_SCREENSHOTS=1``)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser

from tests.browser_support import artifact, publish_to_docs

from .conftest import login, wait_until
from .test_merchant_rollback import two_versions

WAIT_MS = 5000

pytestmark = pytest.mark.browser


async def test_rollback_dialog_names_the_version_and_the_server_holds_the_confirmation(
    make_console, browser: Browser
) -> None:
    con = await make_console()
    v1, v2 = await two_versions(con)
    page, dialogs = await login(browser, con, "shop", "/merchant")
    await page.locator("#versions tr.active").wait_for(timeout=WAIT_MS)
    dialog = page.locator("#rollback-dialog")

    # the dialog says where the rollback goes and what it changes
    await page.click("#rollback-btn")
    await dialog.locator("#rb-version", has_text=f"版本 {v1}").wait_for(timeout=WAIT_MS)
    assert await dialog.locator("#rb-name").text_content() == "「六月版」"
    assert await dialog.locator("#rb-from").text_content() == f"版本 {v2}"
    uploaded = await dialog.locator("#rb-uploaded").text_content() or ""
    assert uploaded.startswith("shop 上传于 20") and "v1.yaml" in uploaded
    counts = await dialog.locator("#rb-counts").text_content()
    assert counts == "该版本含话术 1 条、商品 2 个、优惠券规则 1 条"
    changes = await dialog.locator("#rb-changes").text_content() or ""
    assert "话术 删除 2" in changes and "商品 删除 1、修改 1" in changes and "优惠券 新增 1" in changes
    assert await dialog.locator("#rb-confirm").text_content() == f"确认回滚到版本 {v1}"
    shot = artifact("merchant-rollback.png")
    await page.screenshot(path=str(shot))
    publish_to_docs(shot)

    # 取消: nothing changes
    await dialog.locator("#rb-cancel").click()
    await asyncio.sleep(0.3)
    assert not await dialog.is_visible() and str(con.merchant.registry.active_version) == v2

    # someone activates while the dialog is open: the confirmation is stale, the server refuses it
    await page.click("#rollback-btn")
    await dialog.locator("#rb-version", has_text=f"版本 {v1}").wait_for(timeout=WAIT_MS)
    con.merchant.activate(v1, "root")
    con.merchant.activate(v2, "root")
    await dialog.locator("#rb-confirm").click()
    await page.locator(".toast", has_text="确认已失效").wait_for(timeout=WAIT_MS)
    assert str(con.merchant.registry.active_version) == v2

    # confirmed: rolled back to the version the dialog named
    await page.click("#rollback-btn")
    await dialog.locator("#rb-version", has_text=f"版本 {v1}").wait_for(timeout=WAIT_MS)
    await dialog.locator("#rb-confirm").click()
    await page.locator(".toast", has_text=f"已回滚到版本 {v1}").wait_for(timeout=WAIT_MS)
    await wait_until(lambda: str(con.merchant.registry.active_version) == v1)
    assert con.merchant.registry.activations()[-1]["kind"] == "rollback"
    assert dialogs == []  # no browser dialog: the page's own, which the server backs
