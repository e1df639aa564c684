"""``bench soak`` runs the real pipeline for a while, samples RSS, checks the record against what came in."""

from livecs.cli import build_parser
from livecs.soak import rss_mb, run_soak


async def test_a_short_soak_samples_memory_and_records_everything() -> None:
    result = await run_soak(rate=200, minutes=0.05, sample_s=0.5, warmup=0.2, redis_url=None, seed=3)
    assert result["accepted"] > 200
    assert result["recorded_equals_accepted"] and result["lost"] == 0 and result["untriaged"] == 0
    assert result["in_record_comments"] == result["recorded"]
    assert len(result["samples"]) >= 4 and all(s["rss_mb"] > 10 for s in result["samples"])
    assert result["samples"][-1]["accepted"] == result["accepted"]


def test_soak_is_a_bench_target() -> None:
    args = build_parser().parse_args(["bench", "soak", "--rate", "1000", "--minutes", "30"])
    assert args.rate == 1000 and args.minutes == 30
    assert rss_mb() > 10
