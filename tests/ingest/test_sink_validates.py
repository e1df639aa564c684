"""The sink is the one place raw input is validated: webhook bodies and replay lines use its decoder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from livecs.ingest.replay import ReplaySource
from livecs.ingest.settings import RecordLimits
from livecs.ingest.sink import Ingestor
from livecs.ingest.validate import Rejected, Validator
from livecs.ingest.webhook import build_webhook_app
from livecs.metrics import Counters

TOKEN = "s3cret-token-0123456789"


async def _publish(*_: Any) -> None:
    return None


async def _session_for(room: str, source: str) -> str:
    return f"s-{room}"


def test_the_sink_builds_its_one_validator_from_limits_and_decodes_without_counting() -> None:
    limits = RecordLimits(max_batch=2)
    counters = Counters()
    sink = Ingestor(limits, _publish, _session_for, counters)
    assert isinstance(sink.validator, Validator) and sink.limits is limits
    assert sink.decode_payload(b'[{"text": "a"}, {"text": "b"}]') == [{"text": "a"}, {"text": "b"}]
    with pytest.raises(Rejected) as err:
        sink.decode_payload(b"[1, 2, 3]")
    assert err.value.reason == "batch_too_large"
    assert counters.received == 0 and not counters.rejected  # counting is the caller's job


async def test_the_webhook_decodes_with_the_sinks_limits(aiohttp_client: Any, make_sink: Any) -> None:
    collected = make_sink(RecordLimits(max_batch=2))
    client = await aiohttp_client(build_webhook_app(collected.sink, TOKEN))
    body = orjson.dumps([{"id": f"c{i}", "user_id": "u", "text": "好"} for i in range(3)])
    resp = await client.post(
        "/api/rooms/r1/comments",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert resp.status == 400 and (await resp.json())["error"] == "batch_too_large"
    assert collected.counters.rejected["batch_too_large"] == 1 and not collected.comment_ids


async def test_a_replay_decodes_each_line_with_the_sinks_limits(tmp_path: Path, make_sink: Any) -> None:
    collected = make_sink(RecordLimits(max_batch=2))
    rows = [{"id": f"c{i}", "room": "r", "user_id": "u", "text": "好"} for i in range(4)]
    path = tmp_path / "r.jsonl"
    path.write_bytes(orjson.dumps(rows[:3]) + b"\n" + orjson.dumps(rows[3]) + b"\n")
    await ReplaySource(path).run(collected.sink)
    assert collected.counters.rejected["batch_too_large"] == 1
    assert collected.comment_ids == ["c3"]
