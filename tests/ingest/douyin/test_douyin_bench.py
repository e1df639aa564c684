"""The decode benchmark's two readers agree, and the hand-written baseline is strict about wire errors."""

from __future__ import annotations

import pytest

from livecs.ingest.douyin.bench import GeneratedReader, HandReader, WireError, fields, run, sample_frames


def test_readers_agree_on_every_frame() -> None:
    hand, gen = HandReader(), GeneratedReader()
    for frame in sample_frames(5, 12):
        got = gen.frame(frame)
        assert got == hand.frame(frame) and len(got) == 12


def test_small_run_reports_rates_and_ratio() -> None:
    res = run(n_frames=4, per_frame=5, repeat=1)
    assert res["generated"]["messages_per_s"] > 0 and res["hand"]["frames_per_s"] > 0
    assert res["ratio_generated_over_hand"] > 0


@pytest.mark.parametrize("data", [b"\x08\x80", b"\x0a\x05ab", b"\x00\x01", b"\x0b", b"\x09\x01"])
def test_hand_reader_raises_wire_errors(data: bytes) -> None:
    with pytest.raises(WireError):
        fields(data)
