"""Fixtures for the console: a real app on the in-process bus and a temporary store, fixed user tokens,
records published on the ``results`` topic as the pipeline would, and a recording outbound connector."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Page, async_playwright

from livecs.bus.memory import MemoryBus
from livecs.config import ConsoleSettings, ConsoleUser
from livecs.console.app import HUB, init_app
from livecs.console.auth import Auth
from livecs.console.merchant import RegistryBackend
from livecs.console.outbound import DeliveryError
from livecs.metrics import Counters
from livecs.models import (
    Comment,
    Emotion,
    Intent,
    MemberTier,
    Priority,
    Record,
    Result,
    Sentiment,
    Suggestion,
    Triage,
)
from livecs.store import Store
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS

ROOM = "r1"
SESSION = "r1-test-session"
TOKENS = {
    "alice": "tok-operator-alice-0123456789",
    "bob": "tok-operator-bob-0123456789ab",
    "star": "tok-streamer-0123456789abcdef",
    "shop": "tok-merchant-0123456789abcdef",
    "root": "tok-admin-0123456789abcdefghi",
}
ROLES = {"alice": "operator", "bob": "operator", "star": "streamer", "shop": "merchant", "root": "admin"}

VALID_LIBRARY = """\
library: {name: 暖阳女装, category: apparel, version: "2025.06"}
scripts:
  - id: size_advice
    intents: [product]
    keywords: [尺码, 什么码]
    reply: "亲，160/100斤拍M哦"
    on_air: "报身高体重，帮你们挑码"
products:
  - {sku: NY-001, link: 1, name: 法式碎花连衣裙, price: 129, stock: 300}
  - {sku: NY-002, link: 2, name: 高腰阔腿裤, price: 89, stock: 200}
coupons:
  - {id: full_300_50, name: 满300减50, type: full_reduction, threshold: 300, amount: 50, stock: 2}
"""
BAD_LIBRARY = """\
library: {name: 暖阳女装}
scripts:
  - id: size_advice
    intents: [product]
    reply: "亲，{prise}元"
products:
  - {sku: NY-001, link: 1, name: 连衣裙, price: -5, stock: 300, colour: red}
"""


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


def console_settings(**over: Any) -> ConsoleSettings:
    cfg = ConsoleSettings(
        users=[ConsoleUser(name=n, role=ROLES[n], token=t) for n, t in TOKENS.items()],
        read_block_ms=20,
    )
    for k, v in over.items():
        setattr(cfg, k, v)
    cfg.outbound.rate_per_s = 50
    cfg.outbound.burst = 50
    cfg.outbound.backoff_initial_s = 0.05
    cfg.outbound.backoff_max_s = 0.1
    return cfg


class RecordingConnector:
    """An outbound connector that keeps what it delivered; ``fail`` first N deliveries."""

    name = "test"

    def __init__(self, fail: int = 0, permanent: bool = False) -> None:
        self.fail = fail
        self.permanent = permanent
        self.messages: list[dict[str, Any]] = []
        self.attempts = 0
        self.got = asyncio.Event()

    async def deliver(self, message: dict[str, Any]) -> None:
        self.attempts += 1
        if self.fail > 0:
            self.fail -= 1
            raise DeliveryError("platform said no", permanent=self.permanent)
        self.messages.append(message)
        self.got.set()


_ids = itertools.count(1)


def comment_group(
    text: str,
    *,
    priority: Priority = Priority.P1,
    intent: Intent = Intent.PRODUCT,
    cluster: str = "",
    nickname: str = "小美",
    user_id: str | None = None,
    reply: str = "亲，160/100斤拍M哦",
    on_air: str = "",
    coupon: str = "",
    sentiment: Sentiment = Sentiment.NEU,
    sla_s: float | None = 60.0,
    spam: bool = False,
    tier: MemberTier = MemberTier.NONE,
    cluster_size: int = 1,
    deadline: float | None = None,
) -> list[Record]:
    """One comment with its triage and suggestion: one ``Result`` record, as the pipeline publishes it."""
    n = next(_ids)
    cid = f"c{n}"
    now = time.time()
    c = Comment(cid, "test", ROOM, user_id or f"u{n}", nickname, text, now, member_tier=tier)
    t = Triage(
        cid,
        ROOM,
        text,
        intent,
        0.9,
        sentiment,
        0.2 if sentiment is Sentiment.NEG else 0.5,
        emotion=Emotion.NONE,
        spam=spam,
        cluster_id=cluster,
        cluster_size=cluster_size,
        priority=priority,
        sla_deadline=deadline if deadline is not None else (now + sla_s if sla_s is not None else None),
    )
    suggestions = []
    if reply and not spam:
        suggestions.append(
            Suggestion(
                f"s{n}", ROOM, cid, priority, reply, cluster_id=cluster, on_air=on_air, coupon_rule_id=coupon
            )
        )
    return [Result(c, t, suggestions)]


@dataclass
class Console:
    client: TestClient
    app: web.Application
    bus: MemoryBus
    store: Store
    counters: Counters
    connector: RecordingConnector
    settings: ConsoleSettings
    merchant: RegistryBackend
    published: list[Record] = field(default_factory=list)

    async def publish(self, *groups: list[Record]) -> None:
        for g in groups:
            await self.bus.publish("results", ROOM, SESSION, g)

    async def settle(self, predicate: Callable[[], bool] | None = None, timeout: float = 3.0) -> None:
        """Wait until the hub has read everything published (and ``predicate`` holds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            depth = (await self.bus.depths()).get(f"results/{self.settings.results_stage}", 0)
            if depth == 0 and (predicate is None or predicate()):
                await asyncio.sleep(0.02)
                return
            await asyncio.sleep(0.01)
        raise AssertionError("console did not settle")

    def actions(self) -> list[dict[str, Any]]:
        conn = self.store.reader()
        try:
            rows = conn.execute("SELECT * FROM actions ORDER BY ts").fetchall()
            return [dict(r) for r in rows]
        finally:
            conn.close()

    @property
    def hub(self) -> Any:
        return self.app[HUB]


ConsoleFactory = Callable[..., Awaitable[Console]]


@pytest.fixture
async def make_console(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[TestClient]]
) -> AsyncIterator[ConsoleFactory]:
    stores: list[Store] = []

    async def make(connector: RecordingConnector | None = None, **over: Any) -> Console:
        settings = console_settings(**over)
        bus = MemoryBus()
        store = Store(path=tmp_path / f"rec{len(stores)}.db")
        await store.open()
        stores.append(store)
        counters = Counters()
        counters.sources["test"] = "running"
        connector = connector or RecordingConnector()
        merchant = RegistryBackend.at(tmp_path / f"lib{len(stores)}.db")
        app = init_app(
            settings,
            bus=bus,
            store=store,
            counters=counters,
            auth=Auth.from_settings(settings)[0],
            merchant=merchant,
            connector=connector,
            default_room=ROOM,
        )
        client = await aiohttp_client(app)
        return Console(client, app, bus, store, counters, connector, settings, merchant)

    yield make
    for s in stores:
        await s.close()


# -- browser helpers (Debian's Chromium through Playwright) -----------------------------------------------
@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


def base_url(con: Console) -> str:
    return f"http://{con.client.server.host}:{con.client.server.port}"


async def login(
    browser: Browser, con: Console, user: str, path: str, viewport: tuple[int, int] = (1400, 900)
) -> tuple[Page, list[str]]:
    ctx = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
    page = await ctx.new_page()
    dialogs: list[str] = []

    async def on_dialog(d: Any) -> None:
        dialogs.append(d.message)
        await d.dismiss()

    page.on("dialog", on_dialog)
    resp = await page.goto(base_url(con) + path)
    assert resp is not None and resp.status == 401  # not logged in: the login form, no data
    await page.fill("#token", TOKENS[user])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{path}")
    return page, dialogs


async def wait_until(pred: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
