"""The broadcast simulator: reproducible, realistic in composition and shape, fast, playable as a source."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from livecs.ingest.simulator import (
    INTENTS,
    NASTY_NICKNAMES,
    PHASES,
    BroadcastSimulator,
    PlannedPhase,
    SimulatorSource,
    main,
    record_to_wire,
    write_jsonl,
)
from livecs.ingest.validate import Validator
from livecs.models import Comment, EventKind, LiveEvent, MemberTier

START = 1_700_000_000.0
TEN_MINUTES = 600.0

Timeline = list[tuple[float, Comment | LiveEvent]]


def _comparable(record: Comment | LiveEvent) -> dict:
    d = record.to_dict()
    d.pop("received_at")
    return d


@pytest.fixture(scope="module")
def sim() -> BroadcastSimulator:
    return BroadcastSimulator(seed=7, room="r1", rate=30.0, start_ts=START)


@pytest.fixture(scope="module")
def ten_minutes(sim: BroadcastSimulator) -> Timeline:
    return list(sim.timeline(TEN_MINUTES))


@pytest.fixture(scope="module")
def comments(ten_minutes: Timeline) -> list[tuple[float, Comment]]:
    return [(t, r) for t, r in ten_minutes if isinstance(r, Comment)]


@pytest.fixture(scope="module")
def plan(sim: BroadcastSimulator) -> list[PlannedPhase]:
    return sim.plan(TEN_MINUTES)


def _windows(plan: Sequence[PlannedPhase], phase: str) -> list[PlannedPhase]:
    return [p for p in plan if p.phase == phase]


def _rate_in(offsets: Sequence[float], windows: Sequence[PlannedPhase]) -> float:
    covered = sum(w.end - w.start for w in windows)
    n = sum(1 for t in offsets if any(w.start <= t < w.end for w in windows))
    return n / covered


# ── reproducibility, ids, order ──


def test_same_seed_same_broadcast() -> None:
    a = BroadcastSimulator(seed=11, start_ts=START)
    b = BroadcastSimulator(seed=11, start_ts=START)
    first = [(t, _comparable(r)) for t, r in a.timeline(60)]
    assert first == [(t, _comparable(r)) for t, r in b.timeline(60)]
    assert first == [(t, _comparable(r)) for t, r in a.timeline(60)]  # every call starts afresh
    assert [_comparable(c) for c in a.generate_comments(500)] == [
        _comparable(c) for c in b.generate_comments(500)
    ]


def test_different_seed_different_broadcast() -> None:
    a = [c.text for c in BroadcastSimulator(seed=1, start_ts=START).generate_comments(300)]
    b = [c.text for c in BroadcastSimulator(seed=2, start_ts=START).generate_comments(300)]
    assert a != b


def test_generate_comments_api() -> None:
    sim = BroadcastSimulator(seed=3, rate=100.0, start_ts=START)
    out = sim.generate_comments(2000)
    assert len(out) == 2000
    assert all(isinstance(c, Comment) for c in out)
    assert len({c.comment_id for c in out}) == 2000
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(out))
    assert all(c.text and c.user_id and c.room == "demo" and c.platform == "sim" for c in out)
    assert sim.generate_comments(0) == []


def test_ids_unique_and_time_ordered(ten_minutes: Timeline) -> None:
    ids = [r.comment_id if isinstance(r, Comment) else r.event_id for _, r in ten_minutes]
    assert len(ids) == len(set(ids))
    offsets = [t for t, _ in ten_minutes]
    assert offsets == sorted(offsets)
    assert 0 <= offsets[0] and offsets[-1] < TEN_MINUTES
    assert all(abs(r.ts - (START + t)) < 1e-6 for t, r in ten_minutes)


# ── composition ──


def test_intent_composition(comments: list[tuple[float, Comment]]) -> None:
    shares = Counter(c.extras["sim_intent"] for _, c in comments)
    total = sum(shares.values())
    share = {k: v / total for k, v in shares.items()}
    assert set(share) == set(INTENTS)
    assert max(share, key=share.__getitem__) == "chitchat"
    assert 0.40 <= share["chitchat"] <= 0.55
    assert share["product"] + share["price_promo"] > share["buy_signal"] > share["logistics"]
    for intent in ("logistics", "order", "payment", "after_sales"):
        assert 0.01 <= share[intent] <= 0.10, (intent, share[intent])
    assert 0.01 <= share["complaint"] <= 0.08
    assert 0.01 <= share["spam"] <= 0.08
    assert all(c.extras["sim_phase"] in PHASES for _, c in comments)
    assert all(set(c.extras) == {"sim_intent", "sim_phase", "sim_q"} for _, c in comments)


def test_repeated_questions_long_tail(comments: list[tuple[float, Comment]]) -> None:
    askers: dict[str, set[str]] = defaultdict(set)
    texts: dict[str, set[str]] = defaultdict(set)
    questions = [c for _, c in comments if c.extras["sim_intent"] in ("product", "price_promo", "logistics")]
    for c in questions:
        askers[c.extras["sim_q"]].add(c.user_id)
        texts[c.extras["sim_q"]].add(c.text)
    popular = [q for q, users in askers.items() if len(users) >= 10]
    assert len(popular) >= 5
    assert any(q.startswith("product.has_size") for q in popular)
    # the same question in small variations, not one fixed string
    assert all(len(texts[q]) >= 3 for q in popular)
    # and a long tail: many distinct lines
    assert len({c.text for c in questions}) > 0.25 * len(questions)
    # an unanswered question comes back from the same viewer, a little louder
    asked: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in questions:
        asked[(c.user_id, c.extras["sim_q"])].append(c.text)
    again = [
        texts for texts in asked.values() if any(t.startswith(texts[0]) and t != texts[0] for t in texts[1:])
    ]
    assert len(again) > 30
    # natural repetition overall: the commonest line is frequent, most lines are rare
    counts = Counter(c.text for _, c in comments)
    assert counts.most_common(1)[0][1] > 100
    assert sum(1 for n in counts.values() if n == 1) > 0.5 * len(counts)


def test_comments_reference_the_product_on_air(
    sim: BroadcastSimulator, comments: list[tuple[float, Comment]], plan: list[PlannedPhase]
) -> None:
    segments = [p for p in plan if p.link]
    on_air = 0
    mentions = 0
    for t, c in comments:
        if (
            c.extras["sim_intent"] not in ("product", "price_promo")
            or c.extras["sim_q"] == "price_promo.gift"
        ):
            continue  # (送袜子吗 is about a gift, not the socks)
        for product in sim.rundown:
            if product.short in c.text or f"{product.link}号" in c.text:
                mentions += 1
                seg = next(p for p in segments if p.start <= t < p.end)
                on_air += seg.link == product.link
    assert mentions > 200
    assert on_air / mentions > 0.9  # the rest: questions asked again after the product went off air


def test_viewers_tiers_and_nicknames(comments: list[tuple[float, Comment]]) -> None:
    users = {c.user_id: c for _, c in comments}
    assert len(users) > 300
    tiers = Counter(c.member_tier for c in users.values())
    assert tiers[MemberTier.NONE] > 0.6 * len(users)
    assert tiers[MemberTier.FAN] > tiers[MemberTier.MEMBER] > 0
    assert tiers[MemberTier.VIP] + tiers[MemberTier.SVIP] > 0
    assert all((c.fan_level == 0) == (c.member_tier == MemberTier.NONE) for c in users.values())
    # stable identities: one nickname and tier per user
    seen: dict[str, tuple[str, MemberTier]] = {}
    for _, c in comments:
        assert seen.setdefault(c.user_id, (c.nickname, c.member_tier)) == (c.nickname, c.member_tier)
    # Zipf-ish activity: regulars and a long tail of one-timers, nobody dominating
    per_user = Counter(c.user_id for _, c in comments)
    assert per_user.most_common(1)[0][1] < 0.03 * len(comments)
    assert sum(1 for n in per_user.values() if n <= 2) > 0.1 * len(per_user)
    nasty = {c.nickname for c in users.values() if c.nickname in NASTY_NICKNAMES}
    assert len(nasty) >= 3 and any("<script>" in n for n in nasty)


# ── shape: bursts, wave, raid, orders ──


def test_bursts_after_prompts(comments: list[tuple[float, Comment]], plan: list[PlannedPhase]) -> None:
    offsets = [
        t for t, c in comments if c.extras["sim_phase"] in ("intro", "kou1_burst", "pitch", "coupon_burst")
    ]
    intro = _rate_in(offsets, _windows(plan, "intro"))
    kou1 = _rate_in(offsets, _windows(plan, "kou1_burst"))
    coupon = _rate_in(offsets, _windows(plan, "coupon_burst"))
    assert kou1 > 2.5 * intro
    assert coupon > 2.0 * intro
    # a visible spike in the per-second counts right after each 扣1 prompt
    per_second = Counter(int(t) for t, _ in comments)
    median = sorted(per_second.values())[len(per_second) // 2]
    for w in _windows(plan, "kou1_burst"):
        assert max(per_second[s] for s in range(int(w.start) + 1, int(w.end))) > 2 * median
    # what the burst is made of
    kou1_texts = Counter(c.text for _, c in comments if c.extras["sim_phase"] == "kou1_burst")
    ones = sum(n for text, n in kou1_texts.items() if set(text) <= set("1扣") or text in ("一", "扣了", "1️⃣"))
    assert ones > 0.4 * sum(kou1_texts.values())
    coupon_intents = Counter(
        c.extras["sim_intent"] for _, c in comments if c.extras["sim_phase"] == "coupon_burst"
    )
    assert coupon_intents["price_promo"] + coupon_intents["buy_signal"] > 0.4 * sum(coupon_intents.values())
    coupon_texts = [c.text for _, c in comments if c.extras["sim_phase"] == "coupon_burst"]
    assert sum("券" in t for t in coupon_texts) > 50
    assert sum(t.startswith(("拍了", "已拍")) for t in coupon_texts) > 50


def test_order_paid_clusters_after_coupon(ten_minutes: Timeline, plan: list[PlannedPhase]) -> None:
    orders = [(t, r) for t, r in ten_minutes if isinstance(r, LiveEvent) and r.kind is EventKind.ORDER_PAID]
    assert len(orders) > 100
    for _, o in orders[:50]:
        assert {"order_id", "link", "sku", "quantity", "amount"} <= set(o.data)
        assert o.data["amount"] > 0 and o.user_id
    offsets = [t for t, _ in orders]
    assert _rate_in(offsets, _windows(plan, "coupon_burst")) > 4 * _rate_in(offsets, _windows(plan, "intro"))
    kinds = Counter(r.kind for _, r in ten_minutes if isinstance(r, LiveEvent))
    assert kinds[EventKind.LIKE] and kinds[EventKind.GIFT] and kinds[EventKind.FOLLOW]


def test_complaint_wave_in_its_window(
    comments: list[tuple[float, Comment]], plan: list[PlannedPhase]
) -> None:
    (wave,) = _windows(plan, "complaint_wave")
    in_wave = [(t, c) for t, c in comments if c.extras["sim_phase"] == "complaint_wave"]
    assert len(in_wave) > 200
    assert all(wave.start <= t < wave.end for t, _ in in_wave)
    texts = " ".join(c.text for _, c in in_wave)
    assert "骗子" in texts and "12315" in texts and "发货" in texts
    # escalation: logistics questions first, complaints later
    mid = 0.5 * (wave.start + wave.end)
    first = [c.extras["sim_intent"] for t, c in in_wave if t < mid]
    second = [c.extras["sim_intent"] for t, c in in_wave if t >= mid]
    assert first.count("complaint") / len(first) < second.count("complaint") / len(second)
    # complaints cluster in the window
    complaints = [t for t, c in comments if c.extras["sim_intent"] == "complaint"]
    inside = sum(wave.start <= t < wave.end for t in complaints)
    assert inside / len(complaints) > 2 * (wave.end - wave.start) / TEN_MINUTES


def test_spam_raid_in_its_window(comments: list[tuple[float, Comment]], plan: list[PlannedPhase]) -> None:
    (raid,) = _windows(plan, "spam_raid")
    raid_comments = [(t, c) for t, c in comments if c.extras["sim_phase"] == "spam_raid"]
    assert len(raid_comments) > 100
    assert all(raid.start <= t < raid.end and c.extras["sim_intent"] == "spam" for t, c in raid_comments)
    bots = Counter(c.user_id for _, c in raid_comments)
    assert 3 <= len(bots) <= 10 and min(bots.values()) > 5
    texts = " ".join(c.text for _, c in raid_comments)
    assert any(word in texts for word in ("加V", "威信", "VX", "薇"))
    assert "主页" in texts
    spam = [t for t, c in comments if c.extras["sim_intent"] == "spam"]
    inside = sum(raid.start <= t < raid.end for t in spam)
    assert inside > 0.5 * len(spam)


# ── rate ──


@pytest.mark.parametrize(("rate", "duration"), [(30.0, TEN_MINUTES), (300.0, 120.0), (5000.0, 3.0)])
def test_rate_respected(rate: float, duration: float) -> None:
    sim = BroadcastSimulator(seed=5, rate=rate, start_ts=START)
    n = sum(1 for _, r in sim.timeline(duration) if isinstance(r, Comment))
    assert abs(n / duration - rate) / rate < 0.15


def test_high_rate_generate_comments() -> None:
    out = BroadcastSimulator(seed=9, rate=5000.0, start_ts=START).generate_comments(20_000)
    assert len(out) == 20_000
    span = out[-1].ts - out[0].ts
    assert 3.4 < span < 4.6  # 20,000 comments at 5,000/s
    assert len({c.comment_id for c in out}) == 20_000


def test_generation_speed_smoke() -> None:
    sim = BroadcastSimulator(seed=1, rate=2000.0)
    t0 = time.perf_counter()
    out = sim.generate_comments(50_000)
    elapsed = time.perf_counter() - t0
    print(f"simulator: {len(out) / elapsed:,.0f} comments/s generated")
    assert len(out) == 50_000


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        BroadcastSimulator(rate=0)
    with pytest.raises(ValueError):
        BroadcastSimulator(rundown=[])
    with pytest.raises(ValueError):
        SimulatorSource(1.0, speed=0)


# ── wire format ──


def test_main_writes_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.jsonl"
    assert (
        main([str(path), "--duration", "5", "--rate", "50", "--comments-only", "--start-ts", str(START)]) == 0
    )
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert lines and all(obj["type"] == "comment" for obj in lines)
    assert "wrote" in capsys.readouterr().out


def test_write_jsonl_in_wire_format(tmp_path: Path) -> None:
    path = tmp_path / "broadcast.jsonl"
    n = write_jsonl(path, 60, seed=4, rate=20, room="r9", start_ts=START)
    lines = path.read_bytes().splitlines()
    assert len(lines) == n > 1000
    validator = Validator()
    records = [validator.record(orjson.loads(line)) for line in lines]
    comments = [r for r in records if isinstance(r, Comment)]
    events = [r for r in records if isinstance(r, LiveEvent)]
    assert comments and events
    assert {r.room for r in records} == {"r9"}
    assert any(e.kind is EventKind.ORDER_PAID and "order_id" in e.data for e in events)
    simulated = BroadcastSimulator(seed=4, rate=20, room="r9", start_ts=START).timeline(60)
    expected = [r for _, r in simulated if isinstance(r, Comment)]
    assert [(c.comment_id, c.text, c.user_id, c.extras) for c in comments] == [
        (c.comment_id, c.text, c.user_id, c.extras) for c in expected
    ]
    first = orjson.loads(lines[0])
    assert set(first) >= {"type", "id", "room", "user_id", "nickname", "ts"}


# ── the async source ──


class FakeSink:
    def __init__(self) -> None:
        self.batches: list[tuple[float, list[Comment | LiveEvent]]] = []
        self.statuses: list[tuple[str, str, str]] = []

    async def submit_records(self, records: Sequence[Comment | LiveEvent], *, source: str) -> int:
        assert source == "simulator"
        self.batches.append((time.monotonic(), list(records)))
        return len(records)

    def source_status(self, source: str, status: str, detail: str = "") -> None:
        self.statuses.append((source, status, detail))

    @property
    def records(self) -> list[Comment | LiveEvent]:
        return [r for _, batch in self.batches for r in batch]


async def test_source_as_fast_as_possible() -> None:
    sink = FakeSink()
    source = SimulatorSource(30.0, seed=2, rate=500.0, speed=None, max_batch=1000)
    t0 = time.monotonic()
    await source.run(sink)
    assert time.monotonic() - t0 < 2.0
    expected = list(BroadcastSimulator(seed=2, rate=500.0).timeline(30.0))
    got = sink.records
    assert [r.to_dict()["text" if isinstance(r, Comment) else "kind"] for r in got] == [
        r.to_dict()["text" if isinstance(r, Comment) else "kind"] for _, r in expected
    ]
    assert max(len(b) for _, b in sink.batches) <= 1000
    assert sink.statuses[0][:2] == ("simulator", "connected")
    assert sink.statuses[-1][:2] == ("simulator", "finished")


async def test_source_real_pace() -> None:
    sink = FakeSink()
    source = SimulatorSource(1.0, seed=2, rate=300.0, speed=1.0, tick_s=0.015)
    wall0 = time.time()
    t0 = time.monotonic()
    await source.run(sink)
    elapsed = time.monotonic() - t0
    assert 0.8 < elapsed < 1.6
    records = sink.records
    assert 200 < sum(isinstance(r, Comment) for r in records) < 450
    # batched per tick: many small batches spread over the second, not one lump
    assert len(sink.batches) > 20
    sent_at = [at - t0 for at, _ in sink.batches]
    assert sent_at[len(sent_at) // 2] > 0.3
    # stamped with the wall clock
    assert all(wall0 - 0.1 <= r.ts <= wall0 + 1.2 for r in records)
    # each batch goes out close to when its records are due
    for at, batch in sink.batches:
        assert batch[0].ts - wall0 - (at - t0) < 0.05
    assert sink.statuses[-1][:2] == ("simulator", "finished")


async def test_source_speed_multiplier() -> None:
    sink = FakeSink()
    t0 = time.monotonic()
    await SimulatorSource(2.0, seed=2, rate=100.0, speed=4.0).run(sink)
    assert 0.35 < time.monotonic() - t0 < 1.0
    assert len(sink.records) > 100


async def test_source_cancellation() -> None:
    sink = FakeSink()
    task = asyncio.create_task(SimulatorSource(30.0, rate=50.0, speed=1.0).run(sink))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.statuses[-1][:2] == ("simulator", "finished")
    assert "cancelled" in sink.statuses[-1][2]
    assert 0 < len(sink.records) < 100


# ── the audience: viewers events (issue 13: 观看人数, 互动率, 转化率 in the demo's review) ──


def test_viewer_counts_follow_a_plausible_curve(ten_minutes: Timeline, plan: list[PlannedPhase]) -> None:
    counts = [(t, r) for t, r in ten_minutes if isinstance(r, LiveEvent) and r.kind is EventKind.VIEWERS]
    # one count every 10 s from the start, in the wire format's ``viewers`` / ``watched`` fields
    assert [t for t, _ in counts] == [10.0 * k for k in range(60)]
    online = [int(r.data["viewers"]) for _, r in counts]
    watched = [int(r.data["watched"]) for _, r in counts]
    assert all(n > 0 for n in online)
    # the audience builds up over the first minutes: the first count is well below the later average
    later = sum(online[30:]) / len(online[30:])
    assert online[0] < 0.5 * later
    assert max(online[:3]) < later

    # it swells while a coupon is on, compared with the intro of the same products
    def mean_in(phase: str) -> float:
        windows = [p for p in plan if p.phase == phase and p.start >= 120]
        inside = [
            n for (t, _), n in zip(counts, online, strict=True) if any(w.start <= t < w.end for w in windows)
        ]
        return sum(inside) / len(inside)

    assert mean_in("coupon_burst") > 1.05 * mean_in("intro")
    # watched is cumulative: never down, never below the online count, and grows with the turnover
    assert all(b >= a for a, b in itertools.pairwise(watched))
    assert all(w >= n for w, n in zip(watched, online, strict=True))
    assert watched[-1] > 1.5 * max(online)
    # ... and it is more people than ever commented or bought (rates below 100 %)
    commenters = {r.user_id for _, r in ten_minutes if isinstance(r, Comment)}
    buyers = {
        r.user_id for _, r in ten_minutes if isinstance(r, LiveEvent) and r.kind is EventKind.ORDER_PAID
    }
    assert 0.01 < len(commenters) / watched[-1] < 0.5
    assert 0.001 < len(buyers) / watched[-1] < len(commenters) / watched[-1]


def test_viewer_counts_leave_the_rest_of_the_broadcast_alone() -> None:
    from livecs.ingest.simulator import SimulatorConfig

    with_counts = list(BroadcastSimulator(seed=5, room="r", rate=40.0, start_ts=START).timeline(60))
    without = list(
        BroadcastSimulator(
            seed=5, room="r", rate=40.0, start_ts=START, config=SimulatorConfig(online_every_s=0)
        ).timeline(60)
    )
    kept = [
        (t, _comparable(r))
        for t, r in with_counts
        if not (isinstance(r, LiveEvent) and r.kind is EventKind.VIEWERS)
    ]
    assert kept == [(t, _comparable(r)) for t, r in without]
    assert len(with_counts) == len(without) + 6
    kinds = Counter(r.kind for _, r in with_counts if isinstance(r, LiveEvent))
    assert kinds[EventKind.ORDER_PAID] > 10 and kinds[EventKind.FOLLOW] > 3  # orders and follows too
    # the counts pass the ingest validator as viewers events, their numbers kept in the event's data
    v = Validator()
    counts = [r for _, r in with_counts if isinstance(r, LiveEvent) and r.kind is EventKind.VIEWERS]
    for r in counts:
        back = v.record(orjson.loads(orjson.dumps(record_to_wire(r))))
        assert isinstance(back, LiveEvent) and back.kind is EventKind.VIEWERS
        assert back.data == r.data and back.event_id == r.event_id
