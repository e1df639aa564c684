"""``python run.py review`` takes the ``review`` section of the settings tree: its progress bar redraws every
``review.progress_interval_s`` on a terminal, and the section reaches the build."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from livecs.cli import main as cli_main
from livecs.review import ReviewError
from livecs.review import commands as review_commands
from livecs.review.progress import TerminalProgress
from livecs.review.settings import ReviewSettings


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_at_its_interval() -> None:
    slow, fast = _Tty(), _Tty()
    for stream, interval in ((slow, 3600.0), (fast, 1e-9)):
        bar = TerminalProgress(stream, interval_s=interval)
        for done in range(1, 6):
            bar("导出 comments", done, 100)
    assert slow.getvalue().count("\r") == 1  # the first draw, then nothing within the hour
    assert fast.getvalue().count("\r") == 5


def test_review_takes_its_settings_from_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    class Recorder(TerminalProgress):
        def __init__(self, stream: Any = None, interval_s: float = 0.25) -> None:
            super().__init__(stream, interval_s)
            seen["interval_s"] = interval_s

    def fake_build(*_args: Any, settings: ReviewSettings | None = None, **_kw: Any) -> Any:
        seen["settings"] = settings
        raise ReviewError("stop here")

    monkeypatch.setattr(review_commands, "TerminalProgress", Recorder)
    monkeypatch.setattr(review_commands, "build_review", fake_build)
    monkeypatch.setenv("LIVECS_REVIEW__PROGRESS_INTERVAL_S", "1.5")
    monkeypatch.setenv("LIVECS_REVIEW__TOP_CLUSTERS", "4")
    code = cli_main(["review", "latest", "--db", str(tmp_path / "x.db"), "--out", str(tmp_path / "o")])
    assert code != 0 and "stop here" in capsys.readouterr().err
    assert seen["interval_s"] == 1.5
    assert isinstance(seen["settings"], ReviewSettings) and seen["settings"].top_clusters == 4
