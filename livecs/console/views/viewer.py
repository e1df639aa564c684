"""The viewer card of the console (click a nickname): one viewer's comments, the actions about them, coupons,
orders and tickets across every broadcast of the record.

``GET /api/viewer?user_id=`` (operator, admin). An operator gets personal data inside texts and order data
masked (phones, addresses, order numbers… as in the review); an admin gets it as recorded. Each list holds
the most recent :data:`LIMIT` entries, with the totals beside them. Reads run in a worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from livecs.console.auth import Role, current_user, requires
from livecs.errors import ErrorCode, LivecsError
from livecs.review.mask import Masker
from livecs.review.queries import loads

LIMIT = 50
MAX_ID = 128
VIEWER_DB: web.AppKey[Path] = web.AppKey("viewer_db", Path)
COUPON_KINDS = ("issue_coupon", "approve_coupon")


def viewer_history(db: Path, user_id: str, *, masked: bool) -> dict[str, Any]:
    """Everything the record holds about ``user_id`` (see the module docstring)."""
    m = Masker(enabled=masked)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        c_total, sessions = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT session_id) FROM comments WHERE user_id=?", (user_id,)
        ).fetchone()
        comments = [
            {"session_id": s, "ts": ts, "nickname": nick, "text": m.text(text), "intent": intent or ""}
            for s, ts, nick, text, intent in conn.execute(
                "SELECT c.session_id, c.ts, c.nickname, c.text, t.intent FROM comments c LEFT JOIN triage t "
                "ON t.session_id=c.session_id AND t.comment_id=c.comment_id WHERE c.user_id=? "
                "ORDER BY c.ts DESC LIMIT ?",
                (user_id, LIMIT),
            )
        ]
        actions = [
            {
                "session_id": s,
                "ts": ts,
                "operator": op,
                "kind": kind,
                "note": m.text(note),
                "text": m.text(text),
                "coupon_rule_id": rule,
            }
            for s, ts, op, kind, note, text, rule in conn.execute(
                "SELECT session_id, ts, operator, kind, note, text, coupon_rule_id FROM actions "
                "WHERE user_id=? AND instr(action_id, '.')=0 ORDER BY ts DESC LIMIT ?",
                (user_id, LIMIT),
            )
        ]
        coupons = [a for a in actions if a["kind"] in COUPON_KINDS]
        n_coupons = conn.execute(
            f"SELECT COUNT(*) FROM actions WHERE user_id=? AND kind IN ({','.join('?' * len(COUPON_KINDS))}) "
            "AND instr(action_id, '.')=0",
            (user_id, *COUPON_KINDS),
        ).fetchone()[0]
        orders = [
            {"session_id": s, "ts": ts, "data": m.value(loads(data))}
            for s, ts, data in conn.execute(
                "SELECT session_id, ts, data FROM events WHERE user_id=? AND kind='order_paid' "
                "ORDER BY ts DESC LIMIT ?",
                (user_id, LIMIT),
            )
        ]
        n_orders = conn.execute(
            "SELECT COUNT(*) FROM events WHERE user_id=? AND kind='order_paid'", (user_id,)
        ).fetchone()[0]
        tickets: list[dict[str, Any]] = []
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tickets'").fetchone():
            for (raw,) in conn.execute(
                "SELECT data FROM tickets WHERE json_extract(data, '$.viewer.user_id')=? "
                "ORDER BY ticket_no DESC LIMIT ?",
                (user_id, LIMIT),
            ):
                t = loads(raw) or {}
                tickets.append(
                    {
                        "ticket_id": t.get("ticket_id"),
                        "session_id": t.get("session_id"),
                        "status": t.get("status"),
                        "owner": t.get("owner"),
                        "created_at": t.get("created_at"),
                        "note": m.text(str(t.get("note", ""))),
                        "outcome": t.get("outcome", ""),
                    }
                )
        nickname = comments[0]["nickname"] if comments else ""
    finally:
        conn.close()
    return {
        "user_id": user_id,
        "nickname": nickname,
        "masked": masked,
        "totals": {
            "comments": int(c_total),
            "sessions": int(sessions),
            "coupons": int(n_coupons),
            "orders": int(n_orders),
            "tickets": len(tickets),
        },
        "comments": comments,
        "actions": actions,
        "coupons": coupons,
        "orders": orders,
        "tickets": tickets,
    }


@requires(Role.OPERATOR)
async def api_viewer(request: web.Request) -> web.StreamResponse:
    user_id = request.query.get("user_id", "")
    if not user_id or len(user_id) > MAX_ID:
        raise LivecsError("缺少观众 ID", "user_id required", code=ErrorCode.INVALID)
    masked = current_user(request).role is not Role.ADMIN
    db = request.app[VIEWER_DB]
    if not db.exists():
        raise LivecsError("还没有记录", "no record", code=ErrorCode.NOT_FOUND)
    data = await asyncio.to_thread(viewer_history, db, user_id, masked=masked)
    return web.Response(body=orjson.dumps(data), content_type="application/json")
