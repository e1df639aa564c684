"""Review downloads in the console: ``GET /api/sessions`` and ``GET /api/review/{session}``.

A session is written straight into the console's store (comments with triage, suggestions and an operator
reply, one comment carrying a phone number); the tests check who may download what (unmasked output only for
admins), what the HTML and ZIP hold, that masked outputs carry no raw phone number while the admin's unmasked
ones do, that concurrent requests share one build and that temporary files go away.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
import zipfile
from pathlib import Path

import pytest
from playwright.async_api import Browser

from livecs.console.app import REVIEW, REVIEW_CSP
from livecs.console.review import Download, ReviewDownloads
from livecs.models import (
    ActionKind,
    Comment,
    Intent,
    OperatorAction,
    Priority,
    Sentiment,
    Suggestion,
    Triage,
)
from livecs.store import StoreBatch

from .conftest import ROOM, bearer, login
from .test_browser import WAIT_MS

REVIEW_SESSION = "r1-review-20240518"
PHONE = "13812345678"
PHONE_COMMENT = f"我的手机{PHONE}"
START = 1_716_033_600.0  # 2024-05-18 20:00 Asia/Shanghai
TEXTS = [
    ("有S码吗", Intent.PRODUCT),
    ("165/110斤穿什么码", Intent.PRODUCT),
    ("这单什么时候发货", Intent.LOGISTICS),
    ("有优惠券吗", Intent.PRICE_PROMO),
    ("已拍", Intent.BUY_SIGNAL),
    ("主播好漂亮", Intent.CHITCHAT),
]
EXPECTED_FILES = {"report.html", "review.xlsx", "comments.csv", "comments.jsonl"}


async def seed(store, session: str = REVIEW_SESSION, n: int = 60) -> None:
    """A 30-minute session: ``n`` ordinary comments, one with a phone number, triage, suggestions, a reply."""
    batch = StoreBatch(sessions={session: (ROOM, "test", START)})
    for i in range(n + 1):
        text, intent = (PHONE_COMMENT, Intent.ORDER) if i == n // 2 else TEXTS[i % len(TEXTS)]
        ts = START + i * 30.0
        cid = f"rc{i}"
        c = Comment(cid, "test", ROOM, f"user{i % 17}", f"观众{i % 17}", text, ts, received_at=ts)
        t = Triage(
            cid,
            ROOM,
            text,
            intent,
            0.9,
            Sentiment.NEU,
            0.5,
            priority=Priority.P1,
            sla_deadline=ts + 60,
        )
        s = Suggestion(f"rs{i}", ROOM, cid, Priority.P1, "亲，160/100斤拍M哦", script_id="size_advice")
        batch.comments.append((session, c))
        batch.triages.append((session, t))
        batch.suggestions.append((session, s))
    reply = OperatorAction(
        "ra1", ROOM, "alice", ActionKind.SEND, f"rs{n // 2}", START + (n // 2) * 30 + 20, text="亲，已记录"
    )
    batch.actions.append((session, reply))
    await store.write(batch)
    await store.close_session(session, START + (n + 1) * 30.0, {})


async def review_console(make_console, tmp_path: Path):
    con = await make_console()
    await seed(con.store)
    review_tmp = tmp_path / "review-tmp"
    review_tmp.mkdir()
    con.app[REVIEW].tmp_dir = review_tmp
    return con, review_tmp


def zip_texts(data: bytes) -> dict[str, str]:
    """Every member's text; the XLSX (a zip itself) contributes its XML parts."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            raw = zf.read(name)
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(raw)) as x:
                    for part in x.namelist():
                        out[f"{name}/{part}"] = x.read(part).decode("utf-8", "replace")
            else:
                out[name] = raw.decode("utf-8-sig", "replace")
    return out


async def wait_empty(folder: Path, timeout: float = 3.0) -> None:
    """Until ``folder`` holds no temporary review folder (they are removed off the event loop)."""
    deadline = time.monotonic() + timeout
    while left := sorted(p.name for p in folder.iterdir() if p.name.startswith("livecs-review-")):
        if time.monotonic() > deadline:
            raise AssertionError(f"left behind: {left}")
        await asyncio.sleep(0.02)


async def test_review_routes_need_an_operator_or_admin(make_console, tmp_path: Path) -> None:
    con, _ = await review_console(make_console, tmp_path)
    c = con.client
    review = f"/api/review/{REVIEW_SESSION}?format=html"
    for path in ("/api/sessions", review, review + "&mask=0"):
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}):
            r = await c.get(path, headers=headers)
            assert r.status == 401, (path, headers)
            assert PHONE not in await r.text()
        for user in ("star", "shop"):  # streamer, merchant
            r = await c.get(path, headers=bearer(user))
            assert r.status == 403, (path, user)
            assert REVIEW_SESSION not in await r.text()
    # an operator may not ask for unmasked output; refused before any work is done
    r = await c.get(review + "&mask=0", headers=bearer("alice"))
    assert r.status == 403
    assert "管理员" in (await r.json())["message"]
    r = await c.get(f"/api/review/{REVIEW_SESSION}?format=zip&mask=0", headers=bearer("alice"))
    assert r.status == 403
    assert con.app[REVIEW].builds_started == 0
    # the admin may
    r = await c.get(review + "&mask=0", headers=bearer("root"))
    assert r.status == 200
    assert PHONE in await r.text()


async def test_sessions_lists_the_record(make_console, tmp_path: Path) -> None:
    con, _ = await review_console(make_console, tmp_path)
    await con.store.open_session("r1-empty", ROOM, "test", START - 86_400)
    for user in ("alice", "root"):
        r = await con.client.get("/api/sessions", headers=bearer(user))
        assert r.status == 200
        sessions = (await r.json())["sessions"]
        assert [s["id"] for s in sessions] == [REVIEW_SESSION, "r1-empty"]  # most recent first
        first = sessions[0]
        assert first["room"] == ROOM and first["comments"] == 61
        assert first["started_at"] == START and first["ended_at"] == START + 61 * 30.0
        assert sessions[1]["comments"] == 0 and sessions[1]["ended_at"] is None


async def test_unknown_session_and_bad_arguments(make_console, tmp_path: Path) -> None:
    con, review_tmp = await review_console(make_console, tmp_path)
    c = con.client
    for sid in ("nope", "latest", "r1-review", "x" * 300):
        r = await c.get(f"/api/review/{sid}?format=zip", headers=bearer("root"))
        assert r.status == 404, sid
    r = await c.get(f"/api/review/{REVIEW_SESSION}?format=pdf", headers=bearer("alice"))
    assert r.status == 422
    r = await c.get(f"/api/review/{REVIEW_SESSION}?mask=yes", headers=bearer("alice"))
    assert r.status == 422
    assert con.app[REVIEW].builds_started == 0
    assert not any(review_tmp.iterdir())  # nothing was even started


async def test_masked_html_report_and_concurrent_requests_share_one_build(
    make_console, tmp_path: Path
) -> None:
    con, review_tmp = await review_console(make_console, tmp_path)
    url = f"/api/review/{REVIEW_SESSION}?format=html"
    r, r_inline, r_admin = await asyncio.gather(
        con.client.get(url, headers=bearer("alice")),
        con.client.get(url + "&inline=1", headers=bearer("bob")),
        con.client.get(url + "&mask=1", headers=bearer("root")),
    )
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Disposition"] == f'attachment; filename="review-{REVIEW_SESSION}.html"'
    assert r.headers["Content-Security-Policy"] == REVIEW_CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    page = await r.text()
    assert "直播复盘报告" in page and REVIEW_SESSION in page
    assert "<script" not in page.lower()
    assert PHONE not in page
    assert r_inline.status == 200 and r_inline.headers["Content-Disposition"].startswith("inline;")
    assert await r_inline.text() == page and await r_admin.text() == page
    assert con.app[REVIEW].builds_started == 1  # one build served all three
    await wait_empty(review_tmp)  # and is gone once they were sent


async def test_zip_holds_every_output_masked_unless_the_admin_asks(make_console, tmp_path: Path) -> None:
    con, review_tmp = await review_console(make_console, tmp_path)
    c = con.client
    url = f"/api/review/{REVIEW_SESSION}?format=zip"
    r = await c.get(url, headers=bearer("alice"))
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"] == f'attachment; filename="review-{REVIEW_SESSION}.zip"'
    masked = zip_texts(await r.read())
    names = {n.split("/")[0] for n in masked}
    assert EXPECTED_FILES <= names
    assert {"suggestions.csv", "actions.csv", "events.csv"} <= names
    assert any("[手机]" in t for t in masked.values())
    for name, text in masked.items():
        assert PHONE not in text, name
    csv = masked["comments.csv"]
    assert len(csv.strip().splitlines()) == 62  # header + 61 comments

    r = await c.get(url + "&mask=0", headers=bearer("root"))
    assert r.status == 200
    assert r.headers["Content-Disposition"] == f'attachment; filename="review-{REVIEW_SESSION}-unmasked.zip"'
    raw = zip_texts(await r.read())
    assert EXPECTED_FILES <= {n.split("/")[0] for n in raw}
    assert PHONE_COMMENT in raw["comments.csv"] and PHONE_COMMENT in raw["comments.jsonl"]
    assert "未脱敏" in raw["report.html"]
    assert any(PHONE in t for n, t in raw.items() if n.startswith("review.xlsx/"))
    await wait_empty(review_tmp)


async def test_a_requester_leaving_does_not_cancel_the_shared_build(tmp_path: Path) -> None:
    """Builds stubbed (no real review): the first requester is cancelled mid-build, the second still gets
    the file; a build everyone left is removed once it ends."""
    downloads = ReviewDownloads(tmp_path / "none.db", lambda: None, tmp_dir=tmp_path)
    started = threading.Event()
    release = threading.Event()

    def fake_build(session_id: str, mask: bool, kind: str, tmp: Path) -> Download:
        started.set()
        release.wait(5)
        path = tmp / "report.html"
        path.write_text(f"<p>{session_id}</p>", encoding="utf-8")
        return Download(path, "review.html", "text/html")

    downloads._build = fake_build  # type: ignore[method-assign]
    first = asyncio.create_task(downloads.acquire("s1", True, "html"))
    second = asyncio.create_task(downloads.acquire("s1", True, "html"))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    first.cancel()
    await asyncio.sleep(0.05)
    release.set()
    build, download = await second
    assert first.cancelled() and downloads.builds_started == 1
    assert download.path.read_text(encoding="utf-8") == "<p>s1</p>"
    downloads.release(build)
    await wait_empty(tmp_path)

    release.clear()
    started.clear()
    lone = asyncio.create_task(downloads.acquire("s2", True, "html"))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    lone.cancel()
    await asyncio.sleep(0.05)
    assert any(p.name.startswith("livecs-review-") for p in tmp_path.iterdir())  # still building
    release.set()
    await wait_empty(tmp_path)
    await downloads.close()


@pytest.mark.browser
async def test_console_lists_sessions_and_downloads_the_review(
    make_console, browser: Browser, tmp_path: Path
) -> None:
    """In Chromium: the 复盘报告 area lists the session; an operator sees no 不脱敏 box, an admin does;
    the ZIP button downloads the archive."""
    con, review_tmp = await review_console(make_console, tmp_path)
    page, dialogs = await login(browser, con, "alice", "/console")
    await page.click("#review summary")
    row = page.locator(f'#review-list li[data-session="{REVIEW_SESSION}"]')
    await row.wait_for(timeout=WAIT_MS)
    assert "61 条评论" in await row.inner_text()
    assert not await page.locator("#review-unmask").is_visible()
    hrefs = [await a.get_attribute("href") for a in await row.locator("a").all()]
    assert all(h and "mask=1" in h for h in hrefs)
    await page.context.close()

    page, dialogs = await login(browser, con, "root", "/console")
    await page.click("#review summary")
    row = page.locator(f'#review-list li[data-session="{REVIEW_SESSION}"]')
    await row.wait_for(timeout=WAIT_MS)
    await page.locator("#review-unmask").wait_for(state="visible", timeout=WAIT_MS)
    await page.check("#review-unmask")
    zip_link = row.locator("a", has_text="下载 ZIP")
    assert "mask=0" in (await zip_link.get_attribute("href") or "")
    async with page.expect_download(timeout=15_000) as info:
        await zip_link.click()
    download = await info.value
    assert download.suggested_filename == f"review-{REVIEW_SESSION}-unmasked.zip"
    saved = tmp_path / "got.zip"
    await download.save_as(saved)
    assert PHONE_COMMENT in zip_texts(saved.read_bytes())["comments.csv"]
    assert dialogs == []
    await wait_empty(review_tmp)
