"""Windows run on the comment's own time (a replay at max speed keeps the recording's pace); SLA deadlines
stay relative to processing time (``now``)."""

from __future__ import annotations

from typing import Any

from livecs.models import Intent, Priority
from livecs.triage.engine import TriageEngine
from livecs.triage.model import LinearModel
from livecs.triage.settings import TriageSettings

from .conftest import CommentFactory

_ORDINARY = [
    "主播好美", "有S码吗", "这单什么时候发货", "拍了拍了", "这个颜色真好看", "多少钱", "扣1", "哈哈哈",
    "能用花呗吗", "上链接", "好喜欢", "1号链接是什么面料", "主播晚上好", "已关注", "怎么退货",
]  # fmt: skip
START = 1_700_000_000.0  # the recording started ~2023; replayed much later
PASTED = "关注主播不迷路天天都有好东西分享"  # a long pasted message (short cheers never flood)
REPLAY_NOW = 1_800_000_000.0


def _engine(base_config: TriageSettings, model: LinearModel, **clock: Any) -> TriageEngine:
    config = base_config.with_overrides({f"clock.{key}": value for key, value in clock.items()})
    return TriageEngine(config, model=model)


def _four_hour_recording(make_comment: CommentFactory, users: int = 120, gap_s: float = 2.0) -> list[Any]:
    """One comment every ``gap_s`` seconds for 4 hours from a pool of ordinary viewers (each user posts every
    ``users × gap_s`` seconds — 4 minutes — far below any flood threshold)."""
    n = int(4 * 3600 / gap_s)
    return [
        make_comment(
            _ORDINARY[(i * 7 + i // users) % len(_ORDINARY)], user=f"v{i % users}", ts=START + i * gap_s
        )
        for i in range(n)
    ]


def test_max_speed_replay_of_ordinary_comments_is_not_a_flood(
    base_config: TriageSettings, model: LinearModel, make_comment: CommentFactory
) -> None:
    engine = TriageEngine(base_config, model=model)
    comments = _four_hour_recording(make_comment)
    outs = [engine.triage(c, REPLAY_NOW + i * 1e-4) for i, c in enumerate(comments)]  # 4 h in ~0.7 s
    assert not [o for o in outs if o.spam_reason.startswith("flood")]


def test_processing_time_windows_would_flag_the_replay(
    base_config: TriageSettings, model: LinearModel, make_comment: CommentFactory
) -> None:
    engine = _engine(base_config, model, use_comment_time=False)  # the old behaviour, for contrast
    comments = _four_hour_recording(make_comment)
    outs = [engine.triage(c, REPLAY_NOW + i * 1e-4) for i, c in enumerate(comments)]
    assert sum(o.spam_reason == "flood:rate" for o in outs) > len(outs) // 2


def test_real_flood_in_comment_time_is_flagged_even_when_processed_slowly(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    # the same user repeats a text 4× within 3 s of comment time; processing lags and spreads them out
    outs = [
        engine.triage(make_comment(PASTED, user="f", ts=START + i), START + 200.0 + i * 100.0)
        for i in range(4)
    ]
    assert [o.spam for o in outs] == [False, False, True, True]
    assert outs[-1].spam_reason == "flood:repeat"
    # one user posting 25 different chit-chat lines in 25 s of comment time, replayed at max speed
    rate = [
        engine.triage(make_comment(f"哈哈第{i}遍", user="g", ts=START + i), REPLAY_NOW + i * 1e-4)
        for i in range(25)
    ]
    assert rate[-1].spam_reason == "flood:rate"


def test_absurd_or_missing_comment_time_falls_back_to_now(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    now = 5000.0
    assert engine.event_time(make_comment("x", ts=4990.0), now) == 4990.0
    assert engine.event_time(make_comment("x", ts=now + 299.0), now) == now + 299.0
    assert engine.event_time(make_comment("x", ts=now + 301.0), now) == now  # > max_future_s ahead
    for bad in (0.0, -5.0, float("nan"), float("inf"), None, "soon"):
        comment = make_comment("x")
        comment.ts = bad  # type: ignore[assignment]
        assert engine.event_time(comment, now) == now
    # a broken clock far in the future cannot hold a flood window open: each falls back to its own now
    outs = [engine.triage(make_comment(PASTED, user="z", ts=9e12), now + i * 100.0) for i in range(4)]
    assert not any(o.spam for o in outs)


def test_max_future_is_configurable(
    base_config: TriageSettings, model: LinearModel, make_comment: CommentFactory
) -> None:
    engine = _engine(base_config, model, max_future_s=10.0)
    assert engine.event_time(make_comment("x", ts=1020.0), 1000.0) == 1000.0
    assert engine.event_time(make_comment("x", ts=1005.0), 1000.0) == 1005.0


def test_sla_deadline_is_relative_to_now_not_comment_time(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    out = engine.triage(make_comment("卖假货还敢直播 我要投诉", ts=START), REPLAY_NOW)
    assert out.intent is Intent.COMPLAINT and out.priority is Priority.P0
    assert out.sla_deadline == REPLAY_NOW + 30.0


def test_cluster_windows_and_age_run_on_comment_time(
    engine: TriageEngine, make_comment: CommentFactory
) -> None:
    # 5 askers over 100 s of comment time, replayed within milliseconds: the cluster is 100 s old (P1 by age)
    outs = [
        engine.triage(
            make_comment("主播 S码还有吗", user=f"a{i}", ts=START + i * 25.0), REPLAY_NOW + i * 1e-3
        )
        for i in range(5)
    ]
    assert len({o.cluster_id for o in outs}) == 1 and outs[-1].cluster_size == 5
    assert outs[-1].priority is Priority.P1 and "age>90s" in outs[-1].reasons
    # the deadline counts from the oldest member, mapped onto now's clock, and never before now - age
    assert outs[-1].sla_deadline is not None
    assert abs(outs[-1].sla_deadline - (REPLAY_NOW + 4e-3 - 100.0 + 60.0)) < 1e-6
    (cluster,) = engine.open_clusters("r1", REPLAY_NOW + 1.0)  # wall time maps onto the room's clock
    assert cluster.count == 5
    # 10 min later in comment time the same question opens a new cluster, however fast it is replayed
    late = engine.triage(make_comment("S码还有吗", user="b", ts=START + 700.0), REPLAY_NOW + 0.01)
    assert late.cluster_id != outs[0].cluster_id and late.cluster_size == 1
    assert engine.open_clusters("r1", REPLAY_NOW + 200.0) == []  # idle for 200 s of wall time
