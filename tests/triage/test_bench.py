"""Bench smoke run with small n: every figure present and positive; unique comments really are unique."""

from __future__ import annotations

from pathlib import Path

from livecs.triage import bench


def test_unique_comments_are_unique() -> None:
    comments = bench.unique_comments(6000)
    assert len({c.text for c in comments}) == 6000


def test_bench_smoke() -> None:
    result = bench.run_bench(n=300, n_unique=100, n_naive=5, real_rooms=False)
    for key in ("realistic_per_s", "unique_per_s", "naive_per_s", "p50_us", "p99_us"):
        assert result[key] > 0
    assert result["realistic_n"] == 300 and result["unique_n"] == 100
    assert "comments/s" in bench.format_bench(result)


def test_real_room_comments_room_by_room_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "rooms.csv"
    path.write_text(
        "platform,room,category,time,user_id,text,rec_label\n"
        "DY,b,x,2025/4/24 17:20,,晚到的,0\n"
        "DY,a,x,2025/4/24 17:19,,有S码吗,1\n"
        "DY,b,x,2025/4/24 17:19,,先到的,0\n"
        "DY,a,x,2025/4/24 17:19,,,0\n",
        encoding="utf-8",
    )
    comments = bench.real_room_comments(path)
    assert [c.text for c in comments] == ["有S码吗", "先到的", "晚到的"]  # empty text left out
    assert [c.comment_id for c in comments] == ["a#1", "b#2", "b#0"]
