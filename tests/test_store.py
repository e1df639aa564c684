"""The SQLite record: WAL, batched, idempotent on (session, comment id)."""

from pathlib import Path

import pytest

from livecs.config import StoreSettings
from livecs.models import (
    ActionKind,
    Comment,
    EventKind,
    Intent,
    LiveEvent,
    OperatorAction,
    Priority,
    Sentiment,
    Suggestion,
    Triage,
)
from livecs.store import (
    TABLES,
    Store,
    StoreBatch,
    column_names,
    connect,
    count_rows,
    insert_sql,
    iter_comments,
    list_sessions,
)


def comment(i: int, ts: float = 0.0) -> Comment:
    return Comment(f"c{i}", "t", "r", f"u{i}", "n", f"text {i}", ts or float(i))


async def test_writes_are_idempotent_and_counted(tmp_path: Path) -> None:
    store = Store(StoreSettings(path=str(tmp_path / "a.db")))
    await store.open()
    await store.open_session("s1", "r", "test", 1.0)
    b = StoreBatch(comments=[("s1", comment(i)) for i in range(10)])
    assert (await store.write(b)).comments == 10
    again = StoreBatch(comments=[("s1", comment(i)) for i in range(5, 15)])
    assert (await store.write(again)).comments == 5  # 5..9 already recorded
    other_session = StoreBatch(comments=[("s2", comment(1))], sessions={"s2": ("r", "bus", 2.0)})
    assert (await store.write(other_session)).comments == 1
    full = StoreBatch(
        events=[("s1", LiveEvent("e1", "t", "r", EventKind.GIFT, 1.0, data={"gift_name": "小心心"}))],
        triages=[("s1", Triage("c1", "r", "text 1", Intent.CHITCHAT, 0.9, Sentiment.NEU, 0.5))],
        suggestions=[("s1", Suggestion("g1", "r", "c1", Priority.P2, "回复"))],
        actions=[("s1", OperatorAction("a1", "r", "op", ActionKind.DISMISS, "c1"))],
    )
    assert (await store.write(full)).events == 1
    assert (await store.write(full)).events == 0
    await store.close_session("s1", 9.0, {"accepted": 15})
    conn = store.reader()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert count_rows(conn, "comments", "s1") == 15
    for table in ("events", "triage", "suggestions", "actions"):
        assert count_rows(conn, table, "s1") == 1
    sessions = {s.session_id: s for s in list_sessions(conn)}
    assert sessions["s1"].ended_at == 9.0 and sessions["s1"].stats == {"accepted": 15}
    assert sessions["s2"].source == "bus"
    assert [c.comment_id for c in iter_comments(conn, "s1")][:3] == ["c0", "c1", "c2"]
    await store.close()


async def test_two_writers_share_one_file(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    a, b = Store(StoreSettings(path=path)), Store(StoreSettings(path=path))
    await a.open()
    await b.open()
    await a.write(StoreBatch(comments=[("s", comment(i)) for i in range(100)]))
    res = await b.write(StoreBatch(comments=[("s", comment(i)) for i in range(50, 150)]))
    assert res.comments == 50
    assert count_rows(a.reader(), "comments", "s") == 150
    await a.close()
    await b.close()


def test_the_tables_and_their_inserts_come_from_one_definition(tmp_path: Path) -> None:
    conn = connect(tmp_path / "schema.db")
    for table in TABLES:
        created = tuple(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))
        assert created == column_names(table), table
        n = len(created)
        assert insert_sql(table).endswith(f"({', '.join(created)}) VALUES ({','.join('?' * n)})")
    assert insert_sql("comments").startswith("INSERT OR IGNORE INTO comments (")
    assert insert_sql("sessions", conflict="REPLACE").startswith("INSERT OR REPLACE INTO sessions (")
    assert insert_sql("untriaged", conflict=None).startswith("INSERT INTO untriaged (")
    assert insert_sql("sessions", ("session_id", "room", "source", "started_at")).endswith("VALUES (?,?,?,?)")
    with pytest.raises(ValueError, match="no column"):
        insert_sql("sessions", ("session_id", "nope"))
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "comments_ts" in indexes
