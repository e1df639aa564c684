"""The command line end to end, as a user runs it (subprocesses)."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from livecs.cli import build_parser
from livecs.ingest.simulator import write_jsonl

ROOT = Path(__file__).resolve().parent.parent
LIB_DB = Path(os.environ.get("PYTEST_TMPDIR", "/tmp")) / f"livecs-test-library-{os.getpid()}.db"


def run(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "LIVECS_SCRIPTS__LIBRARY_DB": str(LIB_DB), **(env or {})},
    )


def commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[arg-type]


def test_core_commands_exist() -> None:
    assert {"demo", "replay", "serve"} <= set(commands())


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help(command: str) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args([command, "--help"])
    assert exc.value.code == 0


def test_demo_runs_for_its_duration_and_prints_a_summary(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    proc = run("demo", "--duration", "3", "--rate", "150", "--no-browser", "--db", str(db), "--port", "0")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    accepted = int(re.search(r"accepted:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    recorded = int(re.search(r"recorded:\s+(\d+) comments, (\d+) events", out).group(1))  # type: ignore[union-attr]
    events = int(re.search(r"recorded:\s+(\d+) comments, (\d+) events", out).group(2))  # type: ignore[union-attr]
    assert accepted > 200 and recorded + events == accepted
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM comments").fetchone()[0] == recorded
        assert conn.execute("SELECT COUNT(*) FROM sessions WHERE ended_at IS NOT NULL").fetchone()[0] == 1


def test_replay_counts_bad_lines_and_records_the_rest(tmp_path: Path) -> None:
    rec = tmp_path / "rec.jsonl"
    n = write_jsonl(rec, duration_s=20, seed=3, rate=20, room="r9", events=False)
    with rec.open("ab") as fh:
        fh.write(b"{not json\n\xff\xfe\n" + b'{"id": "x1", "room": "r9", "text": "\\u0001"}\n')
    db = tmp_path / "replay.db"
    proc = run("replay", str(rec), "--speed", "max", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"recorded:\s+{n} comments", proc.stdout), proc.stdout
    assert "malformed_json: 1" in proc.stdout and "invalid_utf8: 1" in proc.stdout
    assert "empty_text: 1" in proc.stdout


def test_config_errors_exit_2_with_the_key(tmp_path: Path) -> None:
    proc = run("replay", "nothing.jsonl", env={"LIVECS_BUS__BATCH_SIZE": "-3"})
    assert proc.returncode == 2
    assert "bus.batch_size" in proc.stderr


def test_replay_of_a_missing_file_is_a_clear_error() -> None:
    proc = run("replay", "/nonexistent/file.jsonl")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_browser_is_opened_only_where_there_is_a_display() -> None:
    """A headless server must not get a text-mode browser taking over the demo's terminal."""
    from livecs.runner import can_open_browser

    assert not can_open_browser("linux", {})
    assert can_open_browser("linux", {"DISPLAY": ":0"})
    assert can_open_browser("linux", {"WAYLAND_DISPLAY": "wayland-0"})
    assert can_open_browser("darwin", {})


def test_demo_review_shows_the_audience_and_its_rates(tmp_path: Path) -> None:
    """The simulated broadcast sends viewer counts, orders and follows: the review's 观看人数, 峰值在线,
    互动率, 转化率 and 新增关注 are figures, not "–" (issue 13)."""
    db = tmp_path / "demo.db"
    proc = run("demo", "--duration", "11", "--rate", "60", "--no-browser", "--db", str(db), "--port", "0")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"events:.*viewers 2", proc.stdout), proc.stdout
    out = tmp_path / "review"
    proc = run("review", "latest", "--db", str(db), "--out", str(out), "--format", "html", "--quiet")
    assert proc.returncode == 0, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")

    def card(card_id: str) -> str:
        m = re.search(rf'id="{card_id}"><div class="v">([^<]*)</div>', html)
        assert m, card_id
        return m.group(1)

    with sqlite3.connect(db) as conn:
        counts = [
            (int(v), int(w))
            for v, w in conn.execute(
                "SELECT json_extract(data, '$.viewers'), json_extract(data, '$.watched') FROM events "
                "WHERE kind='viewers' ORDER BY ts"
            )
        ]
        commenters = conn.execute("SELECT COUNT(DISTINCT user_id) FROM comments").fetchone()[0]
        buyers = conn.execute(
            "SELECT COUNT(DISTINCT user_id) FROM events WHERE kind='order_paid'"
        ).fetchone()[0]
        follows = conn.execute("SELECT COUNT(*) FROM events WHERE kind='follow'").fetchone()[0]
    assert len(counts) == 2 and buyers > 0 and follows > 0
    audience = max(w for _, w in counts)  # the platform's cumulative count
    assert card("summary-audience") == f"{audience:,}"
    assert card("summary-peak-online") == f"{max(v for v, _ in counts):,}"
    assert card("summary-interaction") == f"{100 * commenters / audience:.1f}%"
    assert card("summary-conversion") == f"{100 * buyers / audience:.1f}%"
    assert card("summary-follows") == f"{follows:,}"
    assert "平均" in html
