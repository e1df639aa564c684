"""`make demo` from a terminal: the console outlives the simulated broadcast (the 复盘报告 panel works),
with the session already closed at the broadcast's end; `--exit-when-done` (and no terminal) exits as
before; `run.py console --db PATH` serves the console over a record with no live source."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from livecs.config import load_settings
from livecs.runner import run_demo
from tests.test_cli import ROOT, run

STAY_LINE = "模拟直播已结束，场控台仍在运行"


async def _wait_for(
    capsys: pytest.CaptureFixture[str], pattern: str, out: list[str], timeout: float = 30
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out.append(capsys.readouterr().out)
        text = "".join(out)
        if re.search(pattern, text):
            return text
        await asyncio.sleep(0.1)
    raise AssertionError(f"{pattern!r} never printed:\n{''.join(out)}")


async def test_demo_console_stays_up_after_the_broadcast_until_ctrl_c(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = load_settings(environ={})
    s.store.path = str(tmp_path / "demo.db")
    s.scripts.library_db = str(tmp_path / "lib.db")
    task = asyncio.create_task(
        run_demo(s, duration_s=2, rate=40, port=0, open_browser=False, seed=3, room="demo", stay_open=True)
    )
    out: list[str] = []
    text = await _wait_for(capsys, STAY_LINE, out)
    assert "── livecs summary" in text  # the summary of the broadcast is printed when it ends
    url = re.search(r"场控台仍在运行：(http://127\.0\.0\.1:\d+)/login", text).group(1)  # type: ignore[union-attr]
    token = re.search(r"operator\s+\S+\s+token (\S+)", text).group(1)  # type: ignore[union-attr]
    ended_at_broadcast = time.time()
    await asyncio.sleep(1.5)  # the broadcast is over and the console is still up
    async with aiohttp.ClientSession() as http:
        r = await http.get(f"{url}/api/sessions", headers={"Authorization": f"Bearer {token}"})
        assert r.status == 200
        (session,) = (await r.json())["sessions"]
        assert session["ended_at"] is not None and session["ended_at"] <= ended_at_broadcast
        assert session["comments"] > 20
        r = await http.get(
            f"{url}/api/review/{session['id']}?format=html", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status == 200 and "复盘" in await r.text()
    assert not task.done()
    task.cancel()  # what Ctrl-C does (cli._run cancels the main task)
    assert await asyncio.wait_for(task, 20) == 0
    with sqlite3.connect(s.store.path) as conn:
        (ended,) = conn.execute("SELECT ended_at FROM sessions").fetchone()
    assert ended == session["ended_at"]  # the Ctrl-C later does not move the broadcast's end


def test_demo_without_a_terminal_exits_when_done(tmp_path: Path) -> None:
    proc = run(
        "demo",
        "--duration",
        "1",
        "--rate",
        "30",
        "--no-browser",
        "--db",
        str(tmp_path / "d.db"),
        "--port",
        "0",
    )
    assert proc.returncode == 0 and STAY_LINE not in proc.stdout and "── livecs summary" in proc.stdout


async def test_console_command_serves_a_record(tmp_path: Path) -> None:
    proc = run("console", "--db", str(tmp_path / "missing.db"), "--port", "0", timeout=30)
    assert proc.returncode == 2 and "no such record" in proc.stderr
    db = tmp_path / "d.db"
    assert (
        run(
            "demo", "--duration", "1", "--rate", "30", "--no-browser", "--db", str(db), "--port", "0"
        ).returncode
        == 0
    )
    env = {**os.environ, "LIVECS_SCRIPTS__LIBRARY_DB": str(tmp_path / "lib.db")}
    served = await asyncio.create_subprocess_exec(
        sys.executable, "run.py", "console", "--db", str(db), "--port", "0",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert served.stdout is not None
    seen = ""
    try:
        while "livecs serving" not in seen:
            line = await asyncio.wait_for(served.stdout.readline(), 30)
            assert line, seen
            seen += line.decode()
        url = re.search(r"console: (http://127\.0\.0\.1:\d+)/login", seen).group(1)  # type: ignore[union-attr]
        token = re.search(r"operator\s+\S+\s+token (\S+)", seen).group(1)  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http:
            r = await http.get(f"{url}/api/sessions", headers={"Authorization": f"Bearer {token}"})
            (session,) = (await r.json())["sessions"]
            assert session["ended_at"] is not None and session["comments"] > 0
    finally:
        served.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(served.wait(), 20) == 0
