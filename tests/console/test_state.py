"""The console's room state without I/O, on scripted comment streams: one result per comment (no pairing by
position), clusters as one card, alerts against the room's own baseline, the moderation queue in a raid."""

from __future__ import annotations

from livecs.config import ConsoleSettings
from livecs.console.state import RoomState
from livecs.models import EventKind, Intent, LiveEvent, Priority, Record, Sentiment

from .conftest import SESSION, comment_group


def feed(st: RoomState, groups: list[list[Record]], now: float, *, per_call: int = 1000) -> None:
    flat = [(SESSION, r) for g in groups for r in g]
    for i in range(0, len(flat), per_call):
        st.apply(flat[i : i + per_call], now)


def test_reads_cut_anywhere_lose_no_card() -> None:
    """Each comment is one record: reads of one record at a time give every card, none untriaged."""
    groups = [comment_group(f"问题{i}", priority=Priority.P1) for i in range(20)]
    groups.append([LiveEvent("e1", "test", "r1", EventKind.ORDER_PAID, 1.0)])
    for per_call in (1, 2, 3, 7, 1000):
        st = RoomState("r1", ConsoleSettings())
        feed(st, groups, 1000.0, per_call=per_call)
        assert len(st.items) == 20, per_call
        assert st.totals["untriaged"] == 0 and st.totals["comments"] == 20 and st.totals["buy"] == 1
        assert all(i.suggestion is not None for i in st.items.values())


def test_a_result_without_triage_is_counted_not_carded() -> None:
    (res,) = comment_group("boom")
    res.triage = None  # type: ignore[attr-defined]
    st = RoomState("r1", ConsoleSettings())
    st.apply([(SESSION, res)], 1.0)
    assert st.items == {} and st.totals["untriaged"] == 1


def test_negative_and_complaint_counts_come_from_the_triage() -> None:
    st = RoomState("r1", ConsoleSettings())
    feed(
        st,
        [
            comment_group("差评", intent=Intent.COMPLAINT, priority=Priority.P0, sentiment=Sentiment.NEG)
            for _ in range(3)
        ],
        5.0,
    )
    assert st.totals["complaint"] == 3 and st.totals["neg"] == 3


def question(text: str, cluster: str = "coupon", **kw) -> list[Record]:  # type: ignore[no-untyped-def]
    return comment_group(
        text, priority=kw.pop("priority", Priority.P1), intent=Intent.PRICE_PROMO, cluster=cluster, **kw
    )


def complaint(text: str = "还没发货，投诉", **kw) -> list[Record]:  # type: ignore[no-untyped-def]
    return comment_group(text, priority=Priority.P0, intent=Intent.COMPLAINT, sentiment=Sentiment.NEG, **kw)


def test_a_repeated_question_is_one_card_with_its_newest_members() -> None:
    st = RoomState("r1", ConsoleSettings(members_shown=5))
    feed(st, [question(f"怎么领券{i}", nickname=f"观众{i}", cluster_size=i + 1) for i in range(90)], 100.0)
    (card,) = st.items.values()
    assert card.kind == "cluster" and card.count == 90 and len(card.member_ids) == 90
    d = card.to_dict(5)
    assert d["text"] == "怎么领券0" and d["count"] == 90
    assert [m["nickname"] for m in d["members"]] == [f"观众{i}" for i in range(85, 90)]
    assert d["suggestion"]["reply"]


def test_a_cluster_card_gets_its_own_sla_not_the_clusters_old_deadline() -> None:
    st = RoomState("r1", ConsoleSettings(), {"P0": 30, "P1": 60, "P2": 180, "mod": 60})
    feed(st, [question("怎么领券")], 100.0)
    (first,) = st.items.values()
    st.close(first, "sent", 110.0)  # answered once
    # the triage dates later members' deadline from the cluster's start (100 + 60): already past at 300
    feed(st, [question("券在哪领", deadline=160.0, cluster_size=5)], 300.0)
    (card,) = st.items.values()
    assert card.sla_deadline == 360.0 and card.answered_before == 1
    # a fresh complaint still sorts above the cluster, and the cluster card is never P0
    feed(st, [complaint(deadline=400.0)], 301.0)
    feed(st, [question("领券入口", priority=Priority.P0)], 302.0)
    items, _ = st.visible()
    assert items[0].intent is Intent.COMPLAINT
    assert all(i.priority is not Priority.P0 for i in items if i.kind == "cluster")


def test_a_question_cluster_never_outranks_a_complaint_of_the_same_priority() -> None:
    st = RoomState("r1", ConsoleSettings())
    feed(st, [question(f"怎么领券{i}", deadline=50.0, cluster_size=i + 1) for i in range(30)], 100.0)
    feed(
        st,
        [comment_group("质量太差", priority=Priority.P1, intent=Intent.COMPLAINT, sentiment=Sentiment.NEG)],
        200.0,
    )
    items, _ = st.visible()
    assert [i.kind for i in items] == ["single", "cluster"]


def test_the_moderation_queue_shows_the_newest_raid_accounts() -> None:
    st = RoomState("r1", ConsoleSettings(queue_visible=10))
    for i in range(60):
        feed(
            st,
            [
                comment_group(
                    f"加V{i}", priority=Priority.MOD, intent=Intent.SPAM, spam=True, user_id=f"raid{i}"
                )
            ],
            1000.0 + i,
        )
    items, hidden = st.visible()
    assert [i.first.user_id for i in items] == [f"raid{i}" for i in range(59, 49, -1)] and hidden == 50


def run_minutes(st: RoomState, start: float, seconds: int, per_s: int, complaint_every: int, neg_every: int):  # type: ignore[no-untyped-def]
    """Feed ``per_s`` comments a second: every ``complaint_every``-th a complaint, every ``neg_every``-th of
    the rest negative; returns the alerts seen at the end of each second."""
    seen = []
    n = 0
    for sec in range(seconds):
        now = start + sec
        groups = []
        for _ in range(per_s):
            n += 1
            if complaint_every and n % complaint_every == 0:
                groups.append(complaint())
            elif neg_every and n % neg_every == 0:
                groups.append(
                    comment_group(
                        "等好久了", priority=Priority.P2, intent=Intent.LOGISTICS, sentiment=Sentiment.NEG
                    )
                )
            else:
                groups.append(comment_group("好看", priority=Priority.P3, intent=Intent.CHITCHAT))
        feed(st, groups, now)
        seen.append({a["code"]: a for a in st.alerts(now + 0.5, {})})
    return seen


def test_complaint_wave_is_relative_to_the_rooms_baseline_and_clears() -> None:
    st = RoomState("r1", ConsoleSettings())
    # a normal room: 10 comments/s, one complaint in 50 → 6 complaints / 30 s: never an alert
    calm = run_minutes(st, 0.0, 300, 10, 50, 10)
    assert not any("complaint_wave" in a for a in calm)
    # the real wave: ~3 complaints/s → ≈ 90 / 30 s fires within a few seconds, with its size
    wave = run_minutes(st, 300.0, 30, 10, 3, 10)
    assert "complaint_wave" in wave[10]
    alert = wave[-1]["complaint_wave"]
    assert alert["value"] >= 80 and alert["baseline"] == 6
    assert "/30秒，平时 6" in alert["detail"]
    # the room calms down: the alert clears (the wave never becomes the baseline that fast)
    after = run_minutes(st, 330.0, 60, 10, 50, 10)
    assert "complaint_wave" not in after[-1]
    assert "complaint_wave" in after[0]  # hysteresis: it does not flicker off at the first calmer second


def test_negative_spike_fires_on_a_real_rise_of_the_negative_share() -> None:
    st = RoomState("r1", ConsoleSettings())
    calm = run_minutes(st, 0.0, 300, 10, 0, 10)  # 10 % negative
    assert not any("negative_spike" in a for a in calm)
    spike = run_minutes(st, 300.0, 60, 10, 0, 4)  # 25 % negative
    assert "negative_spike" in spike[-1]
    assert spike[-1]["negative_spike"]["baseline"] == 0.1
    back = run_minutes(st, 360.0, 60, 10, 0, 10)
    assert "negative_spike" not in back[-1]


def test_automatic_assignment_by_skill_group_least_loaded_and_re_offered() -> None:
    cfg = ConsoleSettings()
    cfg.assign.enabled = True
    cfg.assign.offer_s = 30
    cfg.assign.operators = {"投诉专员": ["投诉组"], "订单专员": ["订单组"]}  # 小王: not listed, every group
    st = RoomState("r1", cfg)
    feed(st, [complaint(f"投诉{i}") for i in range(2)], 100.0)
    feed(st, [comment_group("物流到哪了", priority=Priority.P1, intent=Intent.LOGISTICS)], 100.0)
    feed(st, [comment_group("尺码偏大吗", priority=Priority.P2)], 100.0)  # P2: not assigned
    online = ["投诉专员", "订单专员", "小王"]
    assert st.assign(100.0, online) == 3
    by_text = {i.first.text: i for i in st.items.values()}
    assert by_text["物流到哪了"].offered_to in ("订单专员", "小王")
    assert {by_text["投诉0"].offered_to, by_text["投诉1"].offered_to} <= {"投诉专员", "小王"}
    assert by_text["投诉0"].offered_to != by_text["投诉1"].offered_to  # the least loaded gets the next one
    assert by_text["尺码偏大吗"].offered_to == ""
    assert st.view_counts("投诉专员")["mine"] == 1
    # not taken in time: offered to someone else of the group
    first = by_text["投诉0"].offered_to
    assert st.assign(120.0, online) == 0
    assert st.assign(131.0, online) >= 1
    assert by_text["投诉0"].offered_to not in ("", first)
    # taken: no longer offered
    st.take(by_text["投诉0"], by_text["投诉0"].offered_to, 132.0)
    assert by_text["投诉0"].item_id not in st.offered
    # nobody online: nothing is offered, nothing breaks
    feed(st, [complaint("又一个")], 140.0)
    assert st.assign(140.0, []) == 0


def test_assignment_is_off_by_default() -> None:
    st = RoomState("r1", ConsoleSettings())
    feed(st, [complaint()], 1.0)
    assert st.assign(1.0, ["小王"]) == 0 and all(not i.offered_to for i in st.items.values())
