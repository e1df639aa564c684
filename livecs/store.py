"""The durable record: SQLite in WAL mode, written in batches on a dedicated thread.

Every accepted comment is stored exactly once per broadcast session: rows are keyed on
``(session_id, comment_id)`` and inserted with ``INSERT OR IGNORE``, so a redelivered comment (Redis
reclaiming a dead worker's entries, a platform resending) is a no-op. Triage results, suggestions, operator
actions and live events are stored the same way. The asyncio side never touches the database: it hands a
:class:`StoreBatch` to the writer thread and awaits the result (so a stage acks only what is stored).
Several processes may share one file (WAL + busy timeout).

Comments a stop could not triage in time (its drain deadline passed, or the bus was away at the end) are
still recorded, and each is marked in the ``untriaged`` table with the reason (``stop_deadline``,
``bus_unavailable``): the review can tell them from comments that were triaged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from livecs.config import StoreSettings
from livecs.models import Comment, LiveEvent, OperatorAction, Suggestion, Triage

#: every table of the record, its columns in order (name, declaration): the schema, the INSERT statements
#: here and the test-database builder are generated from this one definition
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "sessions": (
        ("session_id", "TEXT PRIMARY KEY"),
        ("room", "TEXT NOT NULL"),
        ("source", "TEXT NOT NULL"),
        ("started_at", "REAL NOT NULL"),
        ("ended_at", "REAL"),
        ("stats", "TEXT"),
    ),
    "comments": (
        ("session_id", "TEXT NOT NULL"),
        ("comment_id", "TEXT NOT NULL"),
        ("platform", "TEXT NOT NULL"),
        ("room", "TEXT NOT NULL"),
        ("user_id", "TEXT NOT NULL"),
        ("nickname", "TEXT NOT NULL"),
        ("member_tier", "INTEGER NOT NULL"),
        ("fan_level", "INTEGER NOT NULL"),
        ("text", "TEXT NOT NULL"),
        ("ts", "REAL NOT NULL"),
        ("truncated", "INTEGER NOT NULL"),
        ("extras", "TEXT"),
        ("received_at", "REAL NOT NULL"),
    ),
    "events": (
        ("session_id", "TEXT NOT NULL"),
        ("event_id", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("platform", "TEXT NOT NULL"),
        ("room", "TEXT NOT NULL"),
        ("user_id", "TEXT NOT NULL"),
        ("nickname", "TEXT NOT NULL"),
        ("member_tier", "INTEGER NOT NULL"),
        ("ts", "REAL NOT NULL"),
        ("data", "TEXT"),
    ),
    "triage": (
        ("session_id", "TEXT NOT NULL"),
        ("comment_id", "TEXT NOT NULL"),
        ("room", "TEXT NOT NULL"),
        ("normalized", "TEXT NOT NULL"),
        ("intent", "TEXT NOT NULL"),
        ("intent_confidence", "REAL NOT NULL"),
        ("sentiment", "TEXT NOT NULL"),
        ("sentiment_score", "REAL NOT NULL"),
        ("emotion", "TEXT NOT NULL"),
        ("spam", "INTEGER NOT NULL"),
        ("spam_reason", "TEXT NOT NULL"),
        ("cluster_id", "TEXT NOT NULL"),
        ("cluster_size", "INTEGER NOT NULL"),
        ("priority", "TEXT NOT NULL"),
        ("sla_deadline", "REAL"),
        ("reasons", "TEXT"),
    ),
    "suggestions": (
        ("session_id", "TEXT NOT NULL"),
        ("suggestion_id", "TEXT NOT NULL"),
        ("room", "TEXT NOT NULL"),
        ("comment_id", "TEXT NOT NULL"),
        ("cluster_id", "TEXT NOT NULL"),
        ("priority", "TEXT NOT NULL"),
        ("script_id", "TEXT NOT NULL"),
        ("reply", "TEXT NOT NULL"),
        ("on_air", "TEXT NOT NULL"),
        ("score", "REAL NOT NULL"),
        ("why", "TEXT"),
        ("coupon_rule_id", "TEXT NOT NULL"),
        ("created_at", "REAL NOT NULL"),
    ),
    "untriaged": (
        ("session_id", "TEXT NOT NULL"),
        ("comment_id", "TEXT NOT NULL"),
        ("reason", "TEXT NOT NULL"),
        ("ts", "REAL NOT NULL"),
    ),
    "actions": (
        ("session_id", "TEXT NOT NULL"),
        ("action_id", "TEXT NOT NULL"),
        ("room", "TEXT NOT NULL"),
        ("operator", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"),
        ("target_id", "TEXT NOT NULL"),
        ("ts", "REAL NOT NULL"),
        ("text", "TEXT NOT NULL"),
        ("note", "TEXT NOT NULL"),
        ("coupon_rule_id", "TEXT NOT NULL"),
        ("user_id", "TEXT NOT NULL"),
        ("delivery_status", "TEXT NOT NULL"),
    ),
}
#: composite primary keys (``sessions`` declares its own on ``session_id``)
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "comments": ("session_id", "comment_id"),
    "events": ("session_id", "event_id"),
    "triage": ("session_id", "comment_id"),
    "suggestions": ("session_id", "suggestion_id"),
    "untriaged": ("session_id", "comment_id"),
    "actions": ("session_id", "action_id"),
}
INDEXES = ("CREATE INDEX IF NOT EXISTS comments_ts ON comments (session_id, ts);",)


def _create_table(table: str) -> str:
    lines = [f"    {name} {decl}" for name, decl in TABLES[table]]
    if table in PRIMARY_KEYS:
        lines.append(f"    PRIMARY KEY ({', '.join(PRIMARY_KEYS[table])})")
    return f"CREATE TABLE IF NOT EXISTS {table} (\n" + ",\n".join(lines) + "\n);"


SCHEMA = "\n".join([*(_create_table(t) for t in TABLES), *INDEXES]) + "\n"


def column_names(table: str) -> tuple[str, ...]:
    """The columns of ``table``, in order."""
    return tuple(name for name, _ in TABLES[table])


def insert_sql(table: str, columns: Sequence[str] | None = None, *, conflict: str | None = "IGNORE") -> str:
    """``INSERT OR <conflict> INTO table (columns…) VALUES (?,…)`` for all of ``table``'s columns (or
    ``columns``); ``conflict=None`` for a plain ``INSERT``."""
    names = tuple(columns) if columns is not None else column_names(table)
    unknown = set(names) - set(column_names(table))
    if unknown:
        raise ValueError(f"{table} has no column {sorted(unknown)}")
    verb = "INSERT" if conflict is None else f"INSERT OR {conflict}"
    return f"{verb} INTO {table} ({', '.join(names)}) VALUES ({','.join('?' * len(names))})"


#: a session's first row (its end and stats come at the close)
_OPEN_SESSION = insert_sql("sessions", ("session_id", "room", "source", "started_at"))


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


@dataclass
class StoreBatch:
    """Rows to write in one transaction, each paired with its session id."""

    comments: list[tuple[str, Comment]] = field(default_factory=list)
    events: list[tuple[str, LiveEvent]] = field(default_factory=list)
    triages: list[tuple[str, Triage]] = field(default_factory=list)
    suggestions: list[tuple[str, Suggestion]] = field(default_factory=list)
    actions: list[tuple[str, OperatorAction]] = field(default_factory=list)
    untriaged: list[tuple[str, str, str, float]] = field(default_factory=list)  # (session, comment, why, ts)
    sessions: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # id -> (room, source, start)

    def __len__(self) -> int:
        return (
            len(self.comments)
            + len(self.events)
            + len(self.triages)
            + len(self.suggestions)
            + len(self.actions)
            + len(self.untriaged)
        )


@dataclass(frozen=True)
class WriteResult:
    comments: int  # comments newly recorded (duplicates excluded)
    events: int


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    room: str
    source: str
    started_at: float
    ended_at: float | None
    stats: dict[str, Any]


def connect(path: str | Path, busy_timeout_ms: int = 10_000) -> sqlite3.Connection:
    """A connection in WAL mode with the schema in place (creates the file and its folder)."""
    p = Path(path)
    if str(p) != ":memory:":
        p.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(p), timeout=busy_timeout_ms / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    return conn


class Store:
    """Asyncio front of the SQLite record. One writer thread; reads go through :meth:`reader`."""

    def __init__(self, settings: StoreSettings | None = None, path: str | Path | None = None) -> None:
        self.settings = settings or StoreSettings()
        self.path = Path(path or self.settings.path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="livecs-store")
        self._conn: sqlite3.Connection | None = None

    # -- lifecycle --------------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._conn is None:
            self._conn = await self._run(connect, self.path, self.settings.busy_timeout_ms)

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._run(conn.close)
        self._executor.shutdown(wait=True)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # -- writes -----------------------------------------------------------------------------------------
    async def open_session(self, session_id: str, room: str, source: str, started_at: float) -> None:
        await self._run(self._open_session, session_id, room, source, started_at)

    def _open_session(self, session_id: str, room: str, source: str, started_at: float) -> None:
        assert self._conn is not None
        with self._conn:
            self._conn.execute(
                _OPEN_SESSION,
                (session_id, room, source, started_at),
            )

    async def close_session(self, session_id: str, ended_at: float, stats: dict[str, Any]) -> None:
        await self._run(self._close_session, session_id, ended_at, stats)

    def _close_session(self, session_id: str, ended_at: float, stats: dict[str, Any]) -> None:
        assert self._conn is not None
        with self._conn:
            self._conn.execute(
                "UPDATE sessions SET ended_at=?, stats=? WHERE session_id=?",
                (ended_at, _json(stats), session_id),
            )

    async def write(self, batch: StoreBatch) -> WriteResult:
        """Write a batch in one transaction; returns how many comments/events were new."""
        if not len(batch) and not batch.sessions:
            return WriteResult(0, 0)
        return await self._run(self._write, batch)  # type: ignore[no-any-return]

    def _write(self, b: StoreBatch) -> WriteResult:
        conn = self._conn
        assert conn is not None
        with conn:
            for sid, (room, source, start) in b.sessions.items():
                conn.execute(
                    _OPEN_SESSION,
                    (sid, room, source, start),
                )
            before = conn.total_changes
            conn.executemany(
                insert_sql("comments"),
                [
                    (
                        sid,
                        c.comment_id,
                        c.platform,
                        c.room,
                        c.user_id,
                        c.nickname,
                        int(c.member_tier),
                        c.fan_level,
                        c.text,
                        c.ts,
                        int(c.truncated),
                        _json(c.extras) if c.extras else None,
                        c.received_at,
                    )
                    for sid, c in b.comments
                ],
            )
            n_comments = conn.total_changes - before
            before = conn.total_changes
            conn.executemany(
                insert_sql("events"),
                [
                    (
                        sid,
                        e.event_id,
                        e.kind.value,
                        e.platform,
                        e.room,
                        e.user_id,
                        e.nickname,
                        int(e.member_tier),
                        e.ts,
                        _json(e.data),
                    )
                    for sid, e in b.events
                ],
            )
            n_events = conn.total_changes - before
            conn.executemany(
                insert_sql("triage"),
                [
                    (
                        sid,
                        t.comment_id,
                        t.room,
                        t.normalized,
                        t.intent.value,
                        t.intent_confidence,
                        t.sentiment.value,
                        t.sentiment_score,
                        t.emotion.value,
                        int(t.spam),
                        t.spam_reason,
                        t.cluster_id,
                        t.cluster_size,
                        t.priority.value,
                        t.sla_deadline,
                        _json(t.reasons),
                    )
                    for sid, t in b.triages
                ],
            )
            conn.executemany(
                insert_sql("suggestions"),
                [
                    (
                        sid,
                        s.suggestion_id,
                        s.room,
                        s.comment_id,
                        s.cluster_id,
                        s.priority.value,
                        s.script_id,
                        s.reply,
                        s.on_air,
                        s.score,
                        _json(s.why),
                        s.coupon_rule_id,
                        s.created_at,
                    )
                    for sid, s in b.suggestions
                ],
            )
            conn.executemany(
                insert_sql("actions"),
                [
                    (
                        sid,
                        a.action_id,
                        a.room,
                        a.operator,
                        a.kind.value,
                        a.target_id,
                        a.ts,
                        a.text,
                        a.note,
                        a.coupon_rule_id,
                        a.user_id,
                        a.delivery_status,
                    )
                    for sid, a in b.actions
                ],
            )
            conn.executemany(insert_sql("untriaged"), b.untriaged)
        return WriteResult(n_comments, n_events)

    async def session_rows(self, session_id: str) -> dict[str, int]:
        """Rows (``comments``, ``events``, ``untriaged``) the record holds for a session, by any writer."""
        rows: dict[str, int] = await self._run(self._session_rows, session_id)
        return rows

    def _session_rows(self, session_id: str) -> dict[str, int]:
        assert self._conn is not None
        return {t: count_rows(self._conn, t, session_id) for t in ("comments", "events", "untriaged")}

    # -- reads (own connection each, safe from any thread) ----------------------------------------------
    def reader(self) -> sqlite3.Connection:
        conn = connect(self.path, self.settings.busy_timeout_ms)
        conn.row_factory = sqlite3.Row
        return conn


def list_sessions(conn: sqlite3.Connection) -> list[SessionInfo]:
    rows = conn.execute(
        "SELECT session_id, room, source, started_at, ended_at, stats FROM sessions ORDER BY started_at"
    ).fetchall()
    return [SessionInfo(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5]) if r[5] else {}) for r in rows]


def count_rows(conn: sqlite3.Connection, table: str, session_id: str) -> int:
    if table not in {"comments", "events", "triage", "suggestions", "actions", "untriaged"}:
        raise ValueError(table)
    return int(conn.execute(f"SELECT COUNT(*) FROM {table} WHERE session_id=?", (session_id,)).fetchone()[0])


def iter_comments(conn: sqlite3.Connection, session_id: str) -> Iterator[Comment]:
    """Stream a session's comments in time order without loading them all."""
    cur = conn.execute(
        "SELECT comment_id, platform, room, user_id, nickname, text, ts, member_tier, fan_level, truncated, "
        "extras, received_at FROM comments WHERE session_id=? ORDER BY ts",
        (session_id,),
    )
    for r in cur:
        yield Comment.from_dict(
            {
                "comment_id": r[0],
                "platform": r[1],
                "room": r[2],
                "user_id": r[3],
                "nickname": r[4],
                "text": r[5],
                "ts": r[6],
                "member_tier": r[7],
                "fan_level": r[8],
                "truncated": bool(r[9]),
                "extras": orjson.loads(r[10]) if r[10] else {},
                "received_at": r[11],
            }
        )
