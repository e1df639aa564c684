"""Helpers of the chaos tests: a private ``redis-server`` the test may kill and restart, and ``run.py``
processes whose output goes to files (read while they run, never a full pipe).

The shared Redis of the machine is never touched: :class:`PrivateRedis` starts its own server on a free
port, without persistence (``--save "" --appendonly no``), so a restart loses every stream and group.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A ``redis-server`` of the test's own: :meth:`kill` (SIGKILL), :meth:`start` again on its port."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:  # a clear failure, never a skip
            raise RuntimeError("redis-server is not installed (run `make redis`)")
        self.exe = exe
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"private redis-server on port {self.port} did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()


class Livecs:
    """``python run.py …`` in the background; stdout and stderr go to files in ``workdir``."""

    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.out = workdir / f"out-{args[0]}-{time.monotonic_ns()}.txt"
        self.err = self.out.with_suffix(".err")
        lib = workdir / "library.db"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "run.py", *args],
                cwd=ROOT,
                stdout=out,
                stderr=err,
                env={**os.environ, "LIVECS_SCRIPTS__LIBRARY_DB": str(lib), **(env or {})},
            )

    def text(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the output of run.py:\n{self.text()[-4000:]}")

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"run.py did not exit within {timeout}s:\n{self.text()[-4000:]}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def stored_comment_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT comment_id FROM comments")}


def sessions(db: Path) -> list[dict[str, Any]]:
    """Every session row, its stats decoded."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT session_id, ended_at, stats FROM sessions").fetchall()
    return [{"session_id": r[0], "ended_at": r[1], "stats": orjson.loads(r[2]) if r[2] else {}} for r in rows]


def untriaged_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM untriaged").fetchone()[0])
