"""``bench pipeline`` runs the real pipeline end to end and reports what it measured."""

from livecs.bench import run_pipeline_bench


async def test_pipeline_bench_paced_run_reports_latency_and_records_everything() -> None:
    result = await run_pipeline_bench(rate=300, duration_s=2, speed=1.0, redis_url=None, seed=3)
    assert result["mode"] == "paced" and result["bus"] == "memory"
    assert result["accepted"] > 300
    assert result["comments_seen_by_display"] == result["recorded"] > 0
    assert 0 < result["display_p50_ms"] <= result["display_p99_ms"]


async def test_console_websocket_bench_runs_a_second_and_reports_latency() -> None:
    """``bench pipeline --ws``: the real console served, an operator logged in on its websocket; every comment
    is seen by the console, and the comments whose card was pushed are timed to the push's arrival."""
    from livecs.bench import run_console_bench

    result = await run_console_bench(rate=300, duration_s=1, speed=1.0, redis_url=None, seed=3)
    assert result["display"] == "console websocket" and result["bus"] == "memory"
    assert result["accepted"] > 100
    assert result["comments_seen_by_console"] == result["recorded"] > 0
    shown = result["comments_on_a_shown_card"]
    assert 0 < result["comments_timed_on_websocket"] <= shown
    assert shown + result["comments_on_a_hidden_card"] <= result["comments_seen_by_console"]
    assert result["ws_messages"] > 0
    assert 0 < result["display_p50_ms"] <= result["display_p99_ms"]
    # a comment reaches a screen only after it reached the console's state
    assert result["in_console_state_p50_ms"] <= result["display_p50_ms"]
