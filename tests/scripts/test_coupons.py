"""Coupon engine: eligibility per type and trigger, refusals, and atomic issuing in-process and on Redis."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from livecs import keys
from livecs.models import Intent, MemberTier, Sentiment
from livecs.scripts.coupons import (
    CouponEngine,
    CouponRefused,
    InProcessStock,
    RedisStock,
    SqliteStock,
    describe,
    open_stock,
)
from livecs.scripts.library import CouponRule, Library

from .conftest import NOW, make_comment, make_triage


def _rule(**kw: object) -> CouponRule:
    data: dict[str, object] = {
        "id": "r1",
        "name": "满100减10",
        "type": "满减",
        "threshold": 100,
        "amount": 10,
        "stock": 5,
        "per_user_limit": 1,
    }
    data.update(kw)
    return CouponRule.model_validate(data)


def _eligible_ids(engine: CouponEngine, text: str, intent: Intent, **kw: object) -> list[str]:
    sentiment = kw.pop("sentiment", Sentiment.NEU)
    cluster = kw.pop("cluster_size", 1)
    comment = make_comment(text, **kw)
    triage = make_triage(text, intent, sentiment, cluster_size=cluster)
    return [e.rule.id for e in engine.eligible(comment, triage, NOW)]


def test_sample_rules_cover_every_type(apparel_library: Library, skincare_library: Library) -> None:
    for lib in (apparel_library, skincare_library):
        assert {r.type for r in lib.coupons} == {
            "full_reduction",
            "time_discount",
            "member",
            "new_customer",
            "gift",
            "compensation",
        }


def test_eligibility_by_trigger_and_type(apparel_library: Library) -> None:
    engine = CouponEngine(apparel_library.coupons)
    assert "full_300_50" in _eligible_ids(engine, "有满减吗", Intent.PRICE_PROMO)
    assert "full_300_50" not in _eligible_ids(engine, "有满减吗", Intent.PRODUCT)  # intent trigger
    assert "fans_199_20" not in _eligible_ids(engine, "粉丝团有券吗", Intent.PRICE_PROMO)  # tier too low
    assert "fans_199_20" in _eligible_ids(engine, "粉丝团有券吗", Intent.PRICE_PROMO, tier=MemberTier.FAN)
    assert "new_10" in _eligible_ids(engine, "新人有优惠吗", Intent.PRICE_PROMO)
    assert "new_10" not in _eligible_ids(engine, "新人有优惠吗", Intent.PRICE_PROMO, first_order=False)
    assert "gift_scarf" in _eligible_ids(engine, "送什么赠品", Intent.PRICE_PROMO)
    assert "comp_20" in _eligible_ids(engine, "质量太差", Intent.COMPLAINT, sentiment=Sentiment.NEG)
    assert "comp_20" not in _eligible_ids(engine, "质量太差", Intent.COMPLAINT)  # sentiment trigger
    assert "crowd_199_20" not in _eligible_ids(engine, "多少钱", Intent.PRICE_PROMO)
    assert _eligible_ids(engine, "多少钱", Intent.PRICE_PROMO, cluster_size=25)[0] == "crowd_199_20"
    flash = _eligible_ids(engine, "有打折吗", Intent.PRICE_PROMO)
    assert "flash_9off" in flash
    [comp] = [
        e
        for e in engine.eligible(make_comment("差"), make_triage("差", Intent.COMPLAINT, Sentiment.NEG), NOW)
    ]
    assert comp.requires_approval


def test_validity_window_and_manual_only() -> None:
    engine = CouponEngine(
        [
            _rule(id="later", trigger={"intents": ["price_promo"]}, valid_from="2099-01-01 00:00"),
            _rule(id="manual"),
        ]
    )
    assert _eligible_ids(engine, "多少钱", Intent.PRICE_PROMO) == []
    with pytest.raises(CouponRefused) as info:
        engine.issue_sync(InProcessStock(), "later", user_id="u", room="r", operator="op", now=NOW)
    assert info.value.reason == "not_started"


def test_describe() -> None:
    assert describe(_rule()) == "满100减10"
    assert (
        describe(
            _rule(
                type="限时折扣",
                threshold=None,
                amount=None,
                percent_off=15,
                valid_from="2025-01-01 20:00",
                valid_until="2025-01-01 21:00",
            )
        )
        == "限时8.5折"
    )
    assert describe(_rule(type="会员专享", min_tier="fan", threshold=None)) == "粉丝团专享立减10元"
    assert describe(_rule(type="赠品", gift="围巾", amount=None)) == "满100送围巾"


def test_refusals() -> None:
    engine = CouponEngine(
        [
            _rule(stock=2, per_user_limit=1, room_cooldown_s=30),
            _rule(id="comp", type="补偿券", threshold=None),
            _rule(id="vip", type="会员专享", min_tier="vip"),
            _rule(id="off", enabled=False),
        ]
    )
    stock = InProcessStock()
    first = engine.issue_sync(stock, "r1", user_id="u1", room="room", operator="op1", now=NOW)
    assert (first.rule_id, first.user_id, first.room, first.operator, first.issued_at) == (
        "r1",
        "u1",
        "room",
        "op1",
        NOW,
    )
    reasons = []
    for rule_id, user, now, extra in [
        ("r1", "u2", NOW + 1, {}),  # cooldown
        ("r1", "u1", NOW + 60, {}),  # user limit
        ("comp", "u1", NOW, {}),  # needs approval
        ("vip", "u1", NOW, {"member_tier": MemberTier.FAN}),
        ("off", "u1", NOW, {}),
        ("nope", "u1", NOW, {}),
    ]:
        with pytest.raises(CouponRefused) as info:
            engine.issue_sync(stock, rule_id, user_id=user, room="room", operator="op", now=now, **extra)
        reasons.append(info.value.reason)
    assert reasons == ["cooldown", "user_limit", "needs_approval", "not_eligible", "disabled", "unknown_rule"]
    engine.issue_sync(stock, "r1", user_id="u2", room="room", operator="op", now=NOW + 60)
    with pytest.raises(CouponRefused, match="sold out"):
        engine.issue_sync(stock, "r1", user_id="u3", room="room", operator="op", now=NOW + 120)
    approved = engine.issue_sync(
        stock, "comp", user_id="u1", room="room", operator="op", now=NOW, approved_by="boss"
    )
    assert approved.approved_by == "boss"
    # stock is per room
    engine.issue_sync(stock, "r1", user_id="u1", room="other", operator="op", now=NOW)


STOCK = 50
ISSUERS = 400


def test_threads_never_over_issue() -> None:
    engine = CouponEngine([_rule(stock=STOCK, per_user_limit=2)])
    stock = InProcessStock()
    issued: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker(w: int) -> None:
        barrier.wait()
        for i in range(ISSUERS // 16):
            try:
                c = engine.issue_sync(
                    stock, "r1", user_id=f"u{i % 30}", room="room", operator=f"op{w}", now=NOW
                )
            except CouponRefused:
                continue
            with lock:
                issued.append(c.user_id)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(issued) == STOCK
    assert max(issued.count(u) for u in set(issued)) <= 2
    assert stock.issued_count_sync("room", "r1") == STOCK


async def test_asyncio_never_over_issues() -> None:
    engine = CouponEngine([_rule(stock=STOCK)])
    stock = InProcessStock()

    async def one(i: int) -> bool:
        await asyncio.sleep(0)
        try:
            await engine.issue(stock, "r1", user_id=f"u{i}", room="room", operator="op", now=NOW)
        except CouponRefused:
            return False
        return True

    results = await asyncio.gather(*(one(i) for i in range(ISSUERS)))
    assert sum(results) == STOCK


@pytest.mark.redis
async def test_redis_never_over_issues(redis_client: aioredis.Redis, redis_url: str) -> None:
    engine = CouponEngine([_rule(stock=STOCK, per_user_limit=1)])
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(4)]  # four "workers"
    backends = [RedisStock(c) for c in clients]
    try:

        async def one(i: int) -> str | None:
            try:
                c = await engine.issue(
                    backends[i % 4], "r1", user_id=f"u{i % 120}", room="room", operator="op", now=NOW
                )
            except CouponRefused as exc:
                assert exc.reason in ("sold_out", "user_limit")
                return None
            return c.user_id

        results = await asyncio.gather(*(one(i) for i in range(ISSUERS)))
        winners = [r for r in results if r is not None]
        assert len(winners) == STOCK
        assert len(set(winners)) == STOCK  # per-user limit 1 held
        assert await backends[0].issued_count("room", "r1") == STOCK
        assert int(await redis_client.get(keys.coupon_issued("room", "r1"))) == STOCK
        assert await redis_client.ttl(keys.coupon_users("room", "r1")) > 0
    finally:
        for c in clients:
            await c.aclose()


@pytest.mark.redis
async def test_redis_user_limit_and_cooldown(redis_client: aioredis.Redis) -> None:
    engine = CouponEngine([_rule(stock=10, per_user_limit=2, room_cooldown_s=0.2)])
    backend = RedisStock(redis_client)
    await engine.issue(backend, "r1", user_id="u1", room="room", operator="op", now=NOW)
    with pytest.raises(CouponRefused) as info:
        await engine.issue(backend, "r1", user_id="u2", room="room", operator="op", now=NOW)
    assert info.value.reason == "cooldown"
    await asyncio.sleep(0.25)
    await engine.issue(backend, "r1", user_id="u1", room="room", operator="op", now=NOW)
    await asyncio.sleep(0.25)
    with pytest.raises(CouponRefused) as info:
        await engine.issue(backend, "r1", user_id="u1", room="room", operator="op", now=NOW)
    assert info.value.reason == "user_limit"


def test_sqlite_stock_survives_a_restart(tmp_path: Path) -> None:
    """Regression (issue 11): the embedded default kept stock in memory: a restart reset what was issued and
    every user's limit. The stock lives in the record's SQLite file now."""
    db = tmp_path / "rec.db"
    engine = CouponEngine([_rule(stock=3, per_user_limit=1)])
    first = SqliteStock(db)
    for user in ("u1", "u2"):
        engine.issue_sync(first, "r1", user_id=user, room="room", operator="op", now=NOW)
    asyncio.run(first.close())

    again = SqliteStock(db)  # the console restarted
    assert again.issued_count_sync("room", "r1") == 2
    assert again.user_claims_sync("room", "r1", "u1") == 1
    with pytest.raises(CouponRefused) as info:
        engine.issue_sync(again, "r1", user_id="u1", room="room", operator="op", now=NOW)
    assert info.value.reason == "user_limit"
    c = engine.issue_sync(again, "r1", user_id="u3", room="room", operator="op", now=NOW)
    assert c.sequence == 3
    with pytest.raises(CouponRefused) as info:
        engine.issue_sync(again, "r1", user_id="u4", room="room", operator="op", now=NOW)
    assert info.value.reason == "sold_out"
    asyncio.run(again.close())


def test_sqlite_stock_cooldown_and_async(tmp_path: Path) -> None:
    engine = CouponEngine([_rule(stock=10, per_user_limit=2, room_cooldown_s=30)])

    async def run() -> None:
        stock = SqliteStock(tmp_path / "rec.db")
        await engine.issue(stock, "r1", user_id="u1", room="room", operator="op", now=NOW)
        with pytest.raises(CouponRefused) as info:
            await engine.issue(stock, "r1", user_id="u2", room="room", operator="op", now=NOW + 10)
        assert info.value.reason == "cooldown"
        await engine.issue(stock, "r1", user_id="u2", room="room", operator="op", now=NOW + 31)
        assert await stock.issued_count("room", "r1") == 2
        await stock.close()

    asyncio.run(run())


def _sqlite_issuer(db: str, start: int, n: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    engine = CouponEngine([_rule(stock=STOCK, per_user_limit=1)])
    stock = SqliteStock(db)

    async def one(i: int) -> str | None:
        try:
            c = await engine.issue(stock, "r1", user_id=f"u{i % 120}", room="room", operator="op", now=NOW)
        except CouponRefused:
            return None
        return c.user_id

    async def run() -> list[str | None]:
        return list(await asyncio.gather(*(one(i) for i in range(start, start + n))))

    out.put(asyncio.run(run()))


def test_sqlite_stock_is_shared_by_two_processes(tmp_path: Path) -> None:
    """Two consoles on one record file: 2 × 100 concurrent claims never exceed the stock or a user's limit."""
    db = str(tmp_path / "rec.db")
    SqliteStock(db)  # schema in place before both start
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_sqlite_issuer, args=(db, k * 100, 100, out)) for k in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=50) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    winners = [u for r in results for u in r if u is not None]
    assert len(winners) == STOCK
    assert len(set(winners)) == STOCK
    assert SqliteStock(db).issued_count_sync("room", "r1") == STOCK


def test_open_stock_picks_the_backend(tmp_path: Path, redis_url: str) -> None:
    assert isinstance(open_stock(None, None), InProcessStock)
    assert isinstance(open_stock(None, ":memory:"), InProcessStock)
    assert isinstance(open_stock(None, tmp_path / "rec.db"), SqliteStock)
    assert isinstance(open_stock(redis_url, tmp_path / "rec.db"), RedisStock)
