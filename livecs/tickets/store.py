"""Tickets in the record: a ``tickets`` table in the same SQLite file as the broadcast (so they survive a
restart and the review reads them). Synchronous; the service calls it off the event loop.

Each row holds the filterable fields as columns and the whole ticket as JSON. Ticket ids are numbered in
order (``T00001``…) inside the insert's transaction, so two consoles on one file never hand out one id twice.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from livecs.store import connect
from livecs.tickets.model import DONE, Ticket

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_no INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    room TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT NOT NULL,
    priority TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    due_first_response REAL NOT NULL,
    due_resolution REAL NOT NULL,
    first_response_at REAL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_session ON tickets (session_id);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets (status, due_resolution);
"""
ID_PREFIX = "T"
ID_DIGITS = 5
LIST_LIMIT = 500


def ensure_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


class TicketStore:
    """One connection, one lock (calls come from worker threads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        ensure_schema(self._conn)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def insert(self, ticket: Ticket) -> Ticket:
        """Store a new ticket, numbering it (``ticket.ticket_id`` is set here)."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                no = int(conn.execute("SELECT COALESCE(MAX(ticket_no), 0) + 1 FROM tickets").fetchone()[0])
                ticket.ticket_id = f"{ID_PREFIX}{no:0{ID_DIGITS}d}"
                conn.execute(
                    "INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (no, ticket.ticket_id, *self._columns(ticket)),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return ticket

    def update(self, ticket: Ticket) -> None:
        cols = self._columns(ticket)
        with self._lock, self._conn:
            self._conn.execute(
                "UPDATE tickets SET session_id=?, room=?, status=?, owner=?, priority=?, created_at=?, "
                "updated_at=?, due_first_response=?, due_resolution=?, first_response_at=?, data=? "
                "WHERE ticket_id=?",
                (*cols, ticket.ticket_id),
            )

    @staticmethod
    def _columns(t: Ticket) -> tuple[Any, ...]:
        return (
            t.session_id,
            t.room,
            t.status.value,
            t.owner,
            t.priority,
            t.created_at,
            t.updated_at,
            t.due_first_response,
            t.due_resolution,
            t.first_response_at,
            orjson.dumps(t.to_dict()).decode(),
        )

    def get(self, ticket_id: str) -> Ticket | None:
        with self._lock:
            row = self._conn.execute("SELECT data FROM tickets WHERE ticket_id=?", (ticket_id,)).fetchone()
        return None if row is None else Ticket.from_dict(orjson.loads(row[0]))

    def query(
        self,
        *,
        owner: str | None = None,
        statuses: Sequence[str] = (),
        room: str | None = None,
        session_id: str | None = None,
        overdue_at: float | None = None,
        limit: int = LIST_LIMIT,
    ) -> list[Ticket]:
        """Tickets matching every given filter, most urgent first (nearest resolution due time).
        ``overdue_at``: only tickets not resolved/closed and past a due time at that time."""
        where: list[str] = ["1=1"]
        args: list[Any] = []
        if owner is not None:
            where.append("owner=?")
            args.append(owner)
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            args += list(statuses)
        if room:
            where.append("room=?")
            args.append(room)
        if session_id:
            where.append("session_id=?")
            args.append(session_id)
        if overdue_at is not None:
            done = [s.value for s in DONE]
            where.append(
                f"status NOT IN ({','.join('?' * len(done))}) AND (due_resolution < ? OR "
                "(first_response_at IS NULL AND due_first_response < ?))"
            )
            args += [*done, overdue_at, overdue_at]
        sql = (
            f"SELECT data FROM tickets WHERE {' AND '.join(where)} "
            "ORDER BY status IN ('resolved','closed'), due_resolution, ticket_no LIMIT ?"
        )
        with self._lock:
            rows = self._conn.execute(sql, (*args, limit)).fetchall()
        return [Ticket.from_dict(orjson.loads(r[0])) for r in rows]

    def count_overdue(self, now: float, room: str | None = None) -> int:
        """Tickets (of ``room``) not resolved or closed and past a due time at ``now``."""
        done = [s.value for s in DONE]
        sql = (
            f"SELECT COUNT(*) FROM tickets WHERE status NOT IN ({','.join('?' * len(done))}) "
            "AND (due_resolution < ? OR (first_response_at IS NULL AND due_first_response < ?))"
        )
        args: list[Any] = [*done, now, now]
        if room is not None:
            sql += " AND room=?"
            args.append(room)
        with self._lock:
            return int(self._conn.execute(sql, args).fetchone()[0])
