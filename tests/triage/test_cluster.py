"""Repeated-question clusters: near-duplicates join; other intents and stale clusters do not; bounded."""

from __future__ import annotations

from typing import Any

import pytest

from livecs.triage.cluster import ClusterTracker, cluster_key
from livecs.triage.settings import ClusterSettings


def tracker(**overrides: Any) -> ClusterTracker:
    settings = {
        "window_s": 120.0, "similarity": 78.0, "max_open_per_intent": 8, "max_members_kept": 5,
        "intents": ["product", "logistics"],
    }  # fmt: skip
    settings.update(overrides)
    return ClusterTracker(ClusterSettings(**settings))


@pytest.mark.parametrize(
    ("a", "b"),
    [("主播 有S码吗", "有S码吗??"), ("宝宝还有货吗", "还有货吗呀"), ("几号链接[笑]", "几号链接")],
)
def test_cluster_key_drops_fillers(a: str, b: str) -> None:
    assert cluster_key(a) == cluster_key(b) != ""


def test_near_duplicates_join_one_cluster() -> None:
    clusters = tracker()
    first = clusters.observe("r", "product", "S码还有吗", "c1", 0.0)
    second = clusters.observe("r", "product", "主播 S码还有吗??", "c2", 5.0)
    third = clusters.observe("r", "product", "S码还有没有", "c3", 6.0)  # fuzzy join
    assert first is not None and second is first and third is first
    assert first.count == 3 and list(first.members) == ["c1", "c2", "c3"]
    assert first.representative == "S码还有吗"


def test_different_questions_and_intents_stay_apart() -> None:
    clusters = tracker()
    size = clusters.observe("r", "product", "有S码吗", "c1", 0.0)
    ship = clusters.observe("r", "logistics", "这单什么时候发货", "c2", 1.0)
    other_room = clusters.observe("r2", "product", "有S码吗", "c3", 1.0)
    assert size is not None and ship is not None and other_room is not None
    assert len({size.cluster_id, ship.cluster_id, other_room.cluster_id}) == 3
    assert clusters.observe("r", "chitchat", "哈哈哈", "c4", 1.0) is None


def test_cluster_expires_after_window() -> None:
    clusters = tracker(window_s=60.0)
    first = clusters.observe("r", "product", "有S码吗", "c1", 0.0)
    later = clusters.observe("r", "product", "有S码吗", "c2", 61.0)
    assert first is not None and later is not None
    assert later.cluster_id != first.cluster_id and later.count == 1
    assert [c.cluster_id for c in clusters.open_clusters("r", 61.0)] == [later.cluster_id]


def test_sliding_window_keeps_an_active_cluster_open() -> None:
    clusters = tracker(window_s=60.0)
    ids = {clusters.observe("r", "product", "有S码吗", f"c{i}", i * 50.0).cluster_id for i in range(5)}  # type: ignore[union-attr]
    assert len(ids) == 1


def test_memory_is_bounded() -> None:
    clusters = tracker(max_open_per_intent=8, max_members_kept=5)
    for i in range(500):
        clusters.observe("r", "product", f"问题{i}号是什么材质的布料", f"c{i}", i * 0.1)
    assert clusters.tracked() <= 8
    big = None
    for i in range(100):
        big = clusters.observe("r", "product", "有S码吗", f"s{i}", 60.0)
    assert big is not None and big.count == 100 and len(big.members) == 5
    clusters.observe("other", "product", "有M码吗", "x", 10_000.0)  # idle rooms are dropped
    assert set(clusters.rooms) == {"other"}
