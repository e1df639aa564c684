"""Tickets (工单) in Chromium: escalate a card and a cluster from the console, take and reassign on the 工单
page, the overdue flag on the console and the page after a shortened due time, a note, contacting the viewer,
closing with a resolution, the closed ticket in the review; a merchant reads it masked. Screenshot of the
工单 page to ``tests/artifacts/tickets.png`` (and ``docs/screenshots/`` with LIVECS_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from livecs.review import build_review
from livecs.store import StoreBatch
from livecs.tickets.model import TicketSettings
from tests.browser_support import artifact, publish_to_docs

from .conftest import ROOM, SESSION, VALID_LIBRARY, comment_group, login, wait_until
from .test_browser import WAIT_MS, fill_room

pytestmark = pytest.mark.browser

FIRST_RESPONSE_S = 3.0


def _tickets(db: Path) -> dict[str, tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT ticket_id, status, owner FROM tickets")}
    finally:
        conn.close()


async def test_ticket_lifecycle_in_the_browser(make_console, browser, tmp_path: Path) -> None:
    con = await make_console(tickets=TicketSettings(first_response_h=FIRST_RESPONSE_S / 3600, resolution_h=2))
    con.merchant.upload([("lib.yaml", VALID_LIBRARY.encode())], "shop", activate=True)
    page, dialogs = await login(browser, con, "alice", "/console")
    started = time.time()
    await fill_room(con)

    # escalate the P0 complaint (a card) and the shipping cluster from the console
    card = page.locator(".card", has_text="等了一周还没发货")
    await card.wait_for(timeout=WAIT_MS)
    await card.locator("button[data-act=escalate]").click()
    await card.locator("form.ticket input").fill("要求退款，核实物流单号后回电")
    await card.locator("form.ticket button[type=submit]").click()
    await wait_until(lambda: "T00001" in _tickets(con.store.path))
    cluster = page.locator(".card", has_text="这单什么时候发货")
    await cluster.wait_for(timeout=WAIT_MS)
    await cluster.locator("button[data-act=escalate]").click()
    await cluster.locator("form.ticket input").fill("批量询问发货时效，请仓库确认")
    await cluster.locator("form.ticket button[type=submit]").click()
    await wait_until(lambda: "T00002" in _tickets(con.store.path))

    # the 工单 page: both waiting; take the complaint, reassign it to bob
    tickets = await page.context.new_page()
    await tickets.goto(f"http://{con.client.server.host}:{con.client.server.port}/tickets")
    await tickets.locator(".t-row").nth(1).wait_for(timeout=WAIT_MS)
    assert await tickets.locator(".t-row").count() == 2
    await tickets.locator(".t-row[data-id=T00001]").click()
    await tickets.locator("#t-d-id", has_text="T00001").wait_for(timeout=WAIT_MS)
    assert "等了一周还没发货" in (await tickets.locator("#t-d-comments").text_content() or "")
    await tickets.locator("#t-take").click()
    await tickets.locator("#t-d-status", has_text="处理中").wait_for(timeout=WAIT_MS)
    await tickets.locator("#t-reassign-to").select_option("bob")
    await tickets.locator("#t-reassign").click()
    await tickets.locator("#t-d-owner", has_text="bob").wait_for(timeout=WAIT_MS)
    assert _tickets(con.store.path)["T00001"] == ("in_progress", "bob")

    # nobody answered the cluster's ticket in time: flagged on the console and on the page
    left = started + FIRST_RESPONSE_S + 0.5 - time.time()
    if left > 0:
        await page.wait_for_timeout(left * 1000)
    await page.locator(".alert[data-code=tickets_overdue]").wait_for(timeout=WAIT_MS)
    assert "1 个工单" in (await page.locator(".alert[data-code=tickets_overdue]").text_content() or "")
    await tickets.locator("#t-view-overdue").click()
    await tickets.locator(".t-row[data-id=T00002].overdue .t-flag").wait_for(timeout=WAIT_MS)
    assert await tickets.locator(".t-row").count() == 1
    assert await tickets.locator("#t-overdue-count").text_content() == "1 个工单已超期"

    # note, contact the viewer, close the complaint with a resolution
    await tickets.locator("#t-view-all").click()
    await tickets.locator(".t-row[data-id=T00001]").click()
    await tickets.locator("#t-note-text").fill("快递显示滞留在中转站，已催件")
    await tickets.locator("#t-note").click()
    await tickets.locator("#t-d-history li[data-kind=note]").wait_for(timeout=WAIT_MS)
    await tickets.locator("#t-contact-text").fill("亲，已为您催件，明天送达，给您补一张无门槛券")
    await tickets.locator("#t-contact").click()
    await wait_until(lambda: any(m.get("ticket_id") == "T00001" for m in con.connector.messages))
    await tickets.locator("#t-close-text").fill("已催件并补券，观众确认收到")
    await tickets.locator("#t-close-outcome").select_option("resolved")
    await tickets.locator("#t-close").click()
    await tickets.locator("#t-d-status", has_text="已关闭").wait_for(timeout=WAIT_MS)
    assert _tickets(con.store.path)["T00001"][0] == "closed"
    kinds = await tickets.locator("#t-d-history li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds[:6] == ["create", "take", "reassign", "note", "contact", "close"]
    await tickets.locator(".t-row[data-id=T00002]").click()
    await tickets.locator("#t-d-id", has_text="T00002").wait_for(timeout=WAIT_MS)
    shot = artifact("tickets.png")
    await tickets.screenshot(path=str(shot), full_page=True)
    publish_to_docs(shot)
    assert dialogs == []

    # the viewer card: the complaining viewer comments again; a click on the nickname shows their history
    conn = sqlite3.connect(con.store.path)
    uid = conn.execute("SELECT json_extract(data, '$.viewer.user_id') FROM tickets WHERE ticket_id='T00001'")
    uid = uid.fetchone()[0]
    conn.close()
    again = comment_group("补发的快递到了吗？我电话13812345678", user_id=uid, nickname="橙子不酸")
    await con.store.write(StoreBatch(comments=[(SESSION, again[0].comment)]))  # type: ignore[attr-defined]
    await con.publish(again)
    nick = page.locator(".card", has_text="补发的快递到了吗").locator(".nick")
    await nick.wait_for(timeout=WAIT_MS)
    await nick.click()
    card = page.locator("#viewer-card")
    await card.wait_for(state="visible", timeout=WAIT_MS)
    await card.locator("li", has_text="T00001").wait_for(timeout=WAIT_MS)
    text = await card.text_content() or ""
    assert "补发的快递到了吗？我电话[手机]" in text and "13812345678" not in text  # masked for an operator
    assert "评论 1 条" in text and "转工单" in text
    await page.screenshot(path=str(artifact("viewer_card.png")))
    await page.locator("#vc-close").click()
    await card.wait_for(state="hidden", timeout=WAIT_MS)

    # a merchant reads the same tickets, masked, without the buttons
    shop_page, _ = await login(browser, con, "shop", "/merchant")
    await shop_page.locator("#nav-tickets").click()
    await shop_page.locator(".t-row[data-id=T00001]").click()
    await shop_page.locator("#t-readonly").wait_for(timeout=WAIT_MS)
    assert await shop_page.locator("#t-actions").is_hidden()
    assert "橙子不酸" not in (await shop_page.locator("#t-d-viewer").text_content() or "")

    # the closed ticket is in the review
    conn = sqlite3.connect(con.store.path)
    with conn:
        conn.execute(
            "INSERT INTO sessions (session_id, room, source, started_at) VALUES (?,?,?,?)",
            (SESSION, ROOM, "test", started - 60),
        )
    conn.close()
    res = build_review(con.store.path, SESSION, tmp_path / "review", "html")
    html = res.report.read_text(encoding="utf-8") if res.report else ""
    table = html.split('id="tickets-table"', 1)[1]
    assert "T00001" in table and "已关闭" in table and "已催件并补券" in table and "T00002" in table
