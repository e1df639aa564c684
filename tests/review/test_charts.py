"""The report's time axes (``livecs.review.charts``): each tick label once, at the precision of the ticks.

A 2-minute broadcast's charts read "15:56 15:56 15:57 15:57 15:58 15:58" (half-minute ticks printed as
``%H:%M``)."""

from __future__ import annotations

import re
from datetime import timedelta, timezone

import pytest

from livecs.review import charts

TZ = timezone(timedelta(hours=8))
START_MINUTE = 29_400_000  # 2025-11-23 08:00 UTC, a whole minute


def tick_labels(svg: str) -> list[str]:
    """The x tick labels of a rendered chart: the HH:MM[:SS] texts (text stays text in the SVG)."""
    return re.findall(r">\s*(\d\d:\d\d(?::\d\d)?)\s*<", svg)


@pytest.mark.parametrize("minutes", [2, 3, 5, 30, 240])
def test_time_ticks_are_labelled_once_each_at_whole_minutes(minutes: int) -> None:
    per_minute = {START_MINUTE + i: 100 + i for i in range(minutes + 1)}
    for svg in (
        charts.volume_chart(per_minute, {}, {}, TZ, 120),
        charts.negative_chart({m: (5, v) for m, v in per_minute.items()}, TZ, 120),
        charts.online_chart(per_minute, TZ, 120),
    ):
        labels = tick_labels(svg)
        assert len(labels) >= 2, labels
        assert len(labels) == len(set(labels)), labels
        assert all(len(label) == len("08:00") for label in labels), labels


def test_a_broadcast_shorter_than_two_minutes_gets_second_labels_never_repeated() -> None:
    labels = tick_labels(charts.online_chart({START_MINUTE: 10, START_MINUTE + 1: 12}, TZ, 120))
    assert labels and len(labels) == len(set(labels)), labels
