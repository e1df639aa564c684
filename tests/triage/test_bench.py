"""Bench smoke run with small n: every figure present and positive; unique comments really are unique."""

from __future__ import annotations

from livecs.triage import bench


def test_unique_comments_are_unique() -> None:
    comments = bench.unique_comments(6000)
    assert len({c.text for c in comments}) == 6000


def test_bench_smoke() -> None:
    result = bench.run_bench(n=300, n_unique=100, n_naive=5)
    for key in ("realistic_per_s", "unique_per_s", "naive_per_s", "p50_us", "p99_us"):
        assert result[key] > 0
    assert result["realistic_n"] == 300 and result["unique_n"] == 100
    assert "comments/s" in bench.format_bench(result)
