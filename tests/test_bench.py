"""``bench pipeline`` runs the real pipeline end to end and reports what it measured."""

from livecs.bench import run_pipeline_bench


async def test_pipeline_bench_paced_run_reports_latency_and_records_everything() -> None:
    result = await run_pipeline_bench(rate=300, duration_s=2, speed=1.0, redis_url=None, seed=3)
    assert result["mode"] == "paced" and result["bus"] == "memory"
    assert result["accepted"] > 300
    assert result["comments_seen_by_display"] == result["recorded"] > 0
    assert 0 < result["display_p50_ms"] <= result["display_p99_ms"]
