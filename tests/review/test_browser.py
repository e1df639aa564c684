"""report.html in a real browser: Debian's headless Chromium (never a downloaded one) opens the file offline.

The page loads with every network request blocked (any attempt fails the test), shows its summary, charts
and tables, renders Chinese chart labels as text, runs no script; a full-page screenshot goes to
``tests/artifacts/review.png``, and to ``docs/screenshots/review.png`` (the README shows it) only with
``LIVECS_UPDATE_SCREENSHOTS=1`` so that a test run leaves the tree clean.
"""

from __future__ import annotations

import pytest
from playwright.async_api import FloatRect, Route, ViewportSize, async_playwright

from livecs.review import ReviewResult
from tests.browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, publish_to_docs

pytestmark = pytest.mark.browser

VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
README_CLIP: FloatRect = {"x": 0, "y": 0, "width": 1280, "height": 2300}


async def test_report_renders_offline_in_chromium(masked_review: ReviewResult) -> None:
    report = next(p for p in masked_review.files if p.name == "report.html")
    requests: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = await browser.new_context(viewport=VIEWPORT, locale="zh-CN", offline=True)
            page = await ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            async def block(route: Route) -> None:
                if not route.request.url.startswith("file://"):
                    requests.append(route.request.url)
                    await route.abort()
                else:
                    await route.continue_()

            await page.route("**/*", block)
            await page.goto(report.as_uri())
            await page.wait_for_load_state("load")
            assert await page.title() != ""
            assert "直播复盘报告" in await page.locator("h1").inner_text()
            assert await page.locator("figure svg").count() == 6  # + the viewer curve in 生意数据
            assert "在线人数随时间变化" in (await page.locator("#chart-online").text_content() or "")
            # chart labels are text the browser draws (Chinese), not paths
            assert "每分钟评论量" in (await page.locator("#chart-volume").text_content() or "")
            box = await page.locator("#chart-intent").bounding_box()
            assert box and box["width"] > 500 and box["height"] > 100
            assert await page.locator("#summary-comments .v").inner_text() != "0"
            assert await page.locator("#findings li").count() >= 3
            assert await page.locator("#clusters-table tbody tr").count() >= 3
            assert await page.evaluate("document.scripts.length") == 0
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "review-full.png"), full_page=True)
            # the README picture: summary, findings and the charts (the long tables follow below)
            shot = ARTIFACTS / "review.png"
            await page.screenshot(path=str(shot), full_page=True, clip=README_CLIP)
            publish_to_docs(shot)
            # the README's second picture: 生意数据, 客服表现 and 问题解决与满意度
            top = await page.locator("h2", has_text="生意数据").bounding_box()
            bottom = await page.locator("#resolution-by-operator").bounding_box()
            assert top and bottom
            figures = ARTIFACTS / "review-figures.png"
            clip: FloatRect = {
                "x": 0,
                "y": top["y"] - 8,
                "width": 1280,
                "height": bottom["y"] + bottom["height"] - top["y"] + 16,
            }
            await page.screenshot(path=str(figures), full_page=True, clip=clip)
            publish_to_docs(figures)
            assert not errors
        finally:
            await browser.close()
    assert requests == []
    assert shot.stat().st_size > 10_000
